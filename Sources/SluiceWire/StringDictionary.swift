/// The encoder's view of a string column's distinct values, so that the column can travel in
/// dictionary form (`string_refs`) when that is smaller. Kept between columns and batches so its
/// tables are allocated once.
struct StringDictionary {
    /// For each distinct value, the row where it first appears.
    private(set) var firstRows: [Int] = []
    /// For each row, the index of its value in `firstRows`.
    private(set) var refs: [UInt32] = []
    /// Open addressing: distinct index + 1 per slot, 0 when empty; `slotHashes` beside it.
    private var slots: [Int32] = []
    private var slotHashes: [UInt64] = []
    /// A direct-mapped cache from a string's representation to its distinct index. A column
    /// often repeats one `String` instance (a value copied row to row), and equal representations
    /// are equal strings, so a hit skips hashing and comparing the bytes.
    private var identities: [Identity] = []

    private struct Identity {
        var bits: (UInt64, UInt64)
        var index: Int32  // distinct index + 1, 0 when empty
    }

    /// Content bytes of the value fields in each form.
    struct Sizes {
        var plainLengths = 0, plainArena = 0
        var dictionaryLengths = 0, dictionaryArena = 0, refs = 0

        var plain: Int { plainLengths + plainArena }
        var dictionary: Int { dictionaryLengths + dictionaryArena + refs }
    }

    mutating func build(_ strings: [String]) -> Sizes {
        let n = strings.count
        var log2 = 4
        while 1 << log2 < 2 * n { log2 += 1 }
        let capacity = 1 << log2
        let empty = Identity(bits: (0, 0), index: 0)
        if slots.count != capacity {
            slots = Array(repeating: 0, count: capacity)
            slotHashes = Array(repeating: 0, count: capacity)
            identities = Array(repeating: empty, count: capacity)
        } else {
            slots.withUnsafeMutableBufferPointer { $0.update(repeating: 0) }
            identities.withUnsafeMutableBufferPointer { $0.update(repeating: empty) }
        }
        // Moved into locals (and back at the end) so the loop can hold them all at once.
        var firstRows = take(&self.firstRows), refs = take(&self.refs)
        var slots = take(&self.slots), slotHashes = take(&self.slotHashes), identities = take(&self.identities)
        defer {
            self.firstRows = firstRows
            self.refs = refs
            self.slots = slots
            self.slotHashes = slotHashes
            self.identities = identities
        }
        firstRows.removeAll(keepingCapacity: true)
        refs.removeAll(keepingCapacity: true)
        refs.append(contentsOf: repeatElement(0, count: n))
        let mask = capacity - 1
        let shift = UInt64(64 - log2)
        var sizes = Sizes()
        var distinctCount = 0
        // Raw buffers: this loop runs once per string cell, so bounds and uniqueness checks show.
        strings.withUnsafeBufferPointer { rows in
        refs.withUnsafeMutableBufferPointer { refs in
        slots.withUnsafeMutableBufferPointer { slots in
        slotHashes.withUnsafeMutableBufferPointer { slotHashes in
        identities.withUnsafeMutableBufferPointer { identities in
            for row in 0..<n {
                let bits = representation(rows[row])
                let cached = Int(truncatingIfNeeded: ((bits.0 &* 0x9E37_79B9_7F4A_7C15) ^ (bits.1 &* 0xC2B2_AE3D_27D4_EB4F)) >> shift)
                let length = rows[row].utf8.count
                sizes.plainLengths += varintSize(UInt64(length))
                sizes.plainArena += length
                let hit = identities[cached]
                if hit.index != 0, hit.bits == bits {
                    let ref = Int(hit.index) - 1
                    refs[row] = UInt32(ref)
                    sizes.refs += varintSize(UInt64(ref))
                    continue
                }
                let ref = withUTF8Bytes(rows[row]) { bytes -> Int in
                    let hash = hashBytes(bytes)
                    var slot = Int(truncatingIfNeeded: hash >> shift)
                    while true {
                        let entry = Int(slots[slot])
                        if entry == 0 {
                            slots[slot] = Int32(distinctCount + 1)
                            slotHashes[slot] = hash
                            firstRows.append(row)
                            distinctCount += 1
                            sizes.dictionaryLengths += varintSize(UInt64(bytes.count))
                            sizes.dictionaryArena += bytes.count
                            return distinctCount - 1
                        }
                        if slotHashes[slot] == hash,
                           withUTF8Bytes(rows[firstRows[entry - 1]], { equalBytes($0, bytes) }) {
                            return entry - 1
                        }
                        slot = (slot + 1) & mask
                    }
                }
                refs[row] = UInt32(ref)
                sizes.refs += varintSize(UInt64(ref))
                identities[cached] = Identity(bits: bits, index: Int32(ref + 1))
            }
        }
        }
        }
        }
        }
        return sizes
    }

    private func take<T>(_ array: inout [T]) -> [T] {
        var taken: [T] = []
        swap(&taken, &array)
        return taken
    }

    /// A string's two words. Equal words are the same storage (or the same inline bytes), hence
    /// equal strings; the batch being encoded keeps that storage alive and unchanged meanwhile.
    @inline(__always)
    private func representation(_ s: String) -> (UInt64, UInt64) {
        unsafeBitCast(s, to: (UInt64, UInt64).self)
    }
}
