import SluiceCore

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
    /// Content bytes of the value fields in each form.
    struct Sizes {
        var plainLengths = 0, plainArena = 0
        var dictionaryLengths = 0, dictionaryArena = 0, refs = 0

        var plain: Int { plainLengths + plainArena }
        var dictionary: Int { dictionaryLengths + dictionaryArena + refs }
    }

    mutating func build(_ lane: StringLane) -> Sizes {
        if let codes = lane.valueCodes { return build(lane, codes: codes) }
        let n = lane.count
        var log2 = 4
        while 1 << log2 < 2 * n { log2 += 1 }
        let capacity = 1 << log2
        if slots.count != capacity {
            slots = Array(repeating: 0, count: capacity)
            slotHashes = Array(repeating: 0, count: capacity)
        } else {
            slots.withUnsafeMutableBufferPointer { $0.update(repeating: 0) }
        }
        // Moved into locals (and back at the end) so the loop can hold them all at once.
        var firstRows = take(&self.firstRows), refs = take(&self.refs)
        var slots = take(&self.slots), slotHashes = take(&self.slotHashes)
        defer {
            self.firstRows = firstRows
            self.refs = refs
            self.slots = slots
            self.slotHashes = slotHashes
        }
        firstRows.removeAll(keepingCapacity: true)
        refs.removeAll(keepingCapacity: true)
        refs.append(contentsOf: repeatElement(0, count: n))
        let mask = capacity - 1
        let shift = UInt64(64 - log2)
        var sizes = Sizes()
        sizes.plainArena = lane.bytes.count
        var distinctCount = 0
        // Raw buffers: this loop runs once per string cell, so bounds and uniqueness checks show.
        lane.withUnsafeStorage { arena, ends in
        refs.withUnsafeMutableBufferPointer { refs in
        slots.withUnsafeMutableBufferPointer { slots in
        slotHashes.withUnsafeMutableBufferPointer { slotHashes in
            let base = arena.baseAddress
            var start = 0
            for row in 0..<n {
                let end = ends[row]
                let bytes = UnsafeRawBufferPointer(start: base.map { $0 + start }, count: end - start)
                start = end
                sizes.plainLengths += varintSize(UInt64(bytes.count))
                let hash = hashBytes(bytes)
                var slot = Int(truncatingIfNeeded: hash >> shift)
                var ref = 0
                while true {
                    let entry = Int(slots[slot])
                    if entry == 0 {
                        slots[slot] = Int32(distinctCount + 1)
                        slotHashes[slot] = hash
                        firstRows.append(row)
                        ref = distinctCount
                        distinctCount += 1
                        sizes.dictionaryLengths += varintSize(UInt64(bytes.count))
                        sizes.dictionaryArena += bytes.count
                        break
                    }
                    if slotHashes[slot] == hash {
                        let first = firstRows[entry - 1]
                        let firstStart = first == 0 ? 0 : ends[first - 1]
                        if equalBytes(UnsafeRawBufferPointer(start: base.map { $0 + firstStart }, count: ends[first] - firstStart), bytes) {
                            ref = entry - 1
                            break
                        }
                    }
                    slot = (slot + 1) & mask
                }
                refs[row] = UInt32(ref)
                sizes.refs += varintSize(UInt64(ref))
            }
        }
        }
        }
        }
        return sizes
    }

    /// The same for a lane in dictionary form, from its codes: one array lookup per row, and the
    /// sizes summed per value. Values that are equal under different codes stay separate
    /// entries, which costs bytes, not correctness.
    private mutating func build(_ lane: StringLane, codes: ValueCodes) -> Sizes {
        let n = lane.count, m = codes.count
        var firstRows = take(&self.firstRows), refs = take(&self.refs)
        defer {
            self.firstRows = firstRows
            self.refs = refs
        }
        firstRows.removeAll(keepingCapacity: true)
        refs.removeAll(keepingCapacity: true)
        refs.append(contentsOf: repeatElement(0, count: n))
        var sizes = Sizes()
        withUnsafeTemporaryAllocation(of: Int32.self, capacity: max(2 * m, 1)) { table in
            // Per value: its entry in this dictionary (-1 until used), then how many rows use it.
            table.initialize(repeating: -1)
            let remap = UnsafeMutableBufferPointer(rebasing: table[0..<m])
            let uses = UnsafeMutableBufferPointer(rebasing: table[m..<(2 * m)])
            uses.update(repeating: 0)
            codes.codes.withUnsafeBufferPointer { codes in
            refs.withUnsafeMutableBufferPointer { refs in
                for row in 0..<n {
                    let code = Int(codes[row])
                    var ref = Int(remap[code])
                    if ref < 0 {
                        ref = firstRows.count
                        remap[code] = Int32(ref)
                        firstRows.append(row)
                    }
                    uses[code] &+= 1
                    refs[row] = UInt32(ref)
                }
            }
            }
            codes.values.lane.withUnsafeStorage { _, ends in
                for code in 0..<m where uses[code] > 0 {
                    let length = ends[code] - (code == 0 ? 0 : ends[code - 1]), rows = Int(uses[code])
                    let lengthSize = varintSize(UInt64(length))
                    sizes.refs += rows * varintSize(UInt64(remap[code]))
                    sizes.plainLengths += rows * lengthSize
                    sizes.plainArena += rows * length
                    sizes.dictionaryLengths += lengthSize
                    sizes.dictionaryArena += length
                }
            }
        }
        return sizes
    }

    /// Calls `body` with the bytes of each entry, in entry order, after `build(lane)`.
    func forEachValue(of lane: StringLane, _ body: (UnsafeRawBufferPointer) -> Void) {
        if let coded = lane.valueCodes {
            coded.codes.withUnsafeBufferPointer { codes in
                coded.values.lane.withUnsafeStorage { arena, ends in
                    for row in firstRows {
                        let code = Int(codes[row])
                        body(UnsafeRawBufferPointer(rebasing: arena[(code == 0 ? 0 : ends[code - 1])..<ends[code]]))
                    }
                }
            }
        } else {
            lane.withUnsafeStorage { arena, ends in
                for row in firstRows { body(UnsafeRawBufferPointer(rebasing: arena[(row == 0 ? 0 : ends[row - 1])..<ends[row]])) }
            }
        }
    }

    private func take<T>(_ array: inout [T]) -> [T] {
        var taken: [T] = []
        swap(&taken, &array)
        return taken
    }
}
