/// Open-addressing tables from group keys to dense ids. The hashes are fixed functions (no
/// per-process seed) and far cheaper than SipHash on the short keys that group-by sees.
struct LongKeyTable {
    private var slotKeys: [Int64] = []
    private var slotIDs: [Int32] = []
    private var used = 0

    @inline(__always)
    private static func hash(_ k: Int64) -> Int {
        var x = UInt64(bitPattern: k) &* 0x9E37_79B9_7F4A_7C15
        x ^= x >> 29
        return Int(truncatingIfNeeded: x)
    }

    /// The id of `key`, or `newID` after inserting it.
    @inline(__always)
    mutating func id(_ key: Int64, orInsert newID: Int32) -> Int32 {
        if used * 2 >= slotIDs.count { grow() }
        let mask = slotIDs.count - 1
        var i = Self.hash(key) & mask
        while true {
            let id = slotIDs[i]
            if id < 0 {
                slotIDs[i] = newID
                slotKeys[i] = key
                used += 1
                return newID
            }
            if slotKeys[i] == key { return id }
            i = (i + 1) & mask
        }
    }

    private mutating func grow() {
        let oldKeys = slotKeys, oldIDs = slotIDs
        let size = max(16, slotIDs.count * 2)
        slotKeys = [Int64](repeating: 0, count: size)
        slotIDs = [Int32](repeating: -1, count: size)
        used = 0
        for (k, id) in zip(oldKeys, oldIDs) where id >= 0 { _ = self.id(k, orInsert: id) }
    }
}

struct StringKeyTable {
    private var slotKeys: [String] = []
    private var slotHashes: [UInt64] = []
    private var slotIDs: [Int32] = []
    private var used = 0

    /// FNV-1a over the UTF-8 bytes, read in place when the string is stored contiguously.
    @inline(__always)
    static func hash(_ s: String) -> UInt64 {
        @inline(__always)
        func fnv<S: Sequence<UInt8>>(_ bytes: S) -> UInt64 {
            var h: UInt64 = 0xcbf2_9ce4_8422_2325
            for b in bytes {
                h ^= UInt64(b)
                h = h &* 0x100_0000_01b3
            }
            return h ^ (h >> 32)
        }
        return s.utf8.withContiguousStorageIfAvailable { fnv($0) } ?? fnv(s.utf8)
    }

    @inline(__always)
    mutating func id(_ key: String, orInsert newID: Int32) -> Int32 {
        if used * 2 >= slotIDs.count { grow() }
        let h = Self.hash(key)
        let mask = slotIDs.count - 1
        var i = Int(truncatingIfNeeded: h) & mask
        while true {
            let id = slotIDs[i]
            if id < 0 {
                slotIDs[i] = newID
                slotKeys[i] = key
                slotHashes[i] = h
                used += 1
                return newID
            }
            if slotHashes[i] == h && slotKeys[i] == key { return id }
            i = (i + 1) & mask
        }
    }

    private mutating func grow() {
        let oldKeys = slotKeys, oldIDs = slotIDs
        let size = max(16, slotIDs.count * 2)
        slotKeys = [String](repeating: "", count: size)
        slotHashes = [UInt64](repeating: 0, count: size)
        slotIDs = [Int32](repeating: -1, count: size)
        used = 0
        for (k, id) in zip(oldKeys, oldIDs) where id >= 0 { _ = self.id(k, orInsert: id) }
    }
}
