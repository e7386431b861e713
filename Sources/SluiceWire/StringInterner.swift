/// The decoder's memory of recent strings: a value seen in an earlier batch (a tenant, an API
/// name) is handed out again instead of allocated again. Direct-mapped, so a lookup is one hash
/// and one comparison, and a peer cannot make it probe. Strings of up to 15 UTF-8 bytes are stored
/// inline by Swift and skip it; very long ones too, to bound its memory.
struct StringInterner {
    static let slots = 4_096
    static let maxLength = 256

    private var entries: [String] = []
    private var hashes: [UInt64] = []

    mutating func string(_ bytes: UnsafeRawBufferPointer) -> String {
        guard bytes.count > 15, bytes.count <= Self.maxLength else {
            return String(decoding: bytes, as: UTF8.self)
        }
        if entries.isEmpty {
            entries = Array(repeating: "", count: Self.slots)
            hashes = Array(repeating: 0, count: Self.slots)
        }
        let hash = hashBytes(bytes)
        let slot = Int(truncatingIfNeeded: hash) & (Self.slots - 1)
        if hashes[slot] == hash, withUTF8Bytes(entries[slot], { equalBytes($0, bytes) }) {
            return entries[slot]
        }
        // Invalid UTF-8 is repaired, so such a string never matches its bytes again: it is just
        // decoded each time.
        let s = String(decoding: bytes, as: UTF8.self)
        entries[slot] = s
        hashes[slot] = hash
        return s
    }
}
