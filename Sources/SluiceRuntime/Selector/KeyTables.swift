import SluiceCore

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

/// String keys by their UTF-8 bytes, read in place from a column's arena. The table keeps its
/// own copy of each key in an arena too, so it holds no `String` objects.
struct StringKeyTable {
    private var keys = StringLane()
    /// Per slot: the key's index in `keys` (-1 when empty), its hash and its id.
    private var slotKeys: [Int32] = []
    private var slotHashes: [UInt64] = []
    private var slotIDs: [Int32] = []

    @inline(__always)
    mutating func id(_ key: String, orInsert newID: Int32) -> Int32 {
        withUTF8Bytes(key) { id($0, orInsert: newID) }
    }

    /// The id of the key with these bytes, or `newID` after inserting it.
    @inline(__always)
    mutating func id(_ key: UnsafeRawBufferPointer, orInsert newID: Int32) -> Int32 {
        if keys.count * 2 >= slotIDs.count { grow() }
        let h = hashBytes(key)
        let mask = slotIDs.count - 1
        var i = Int(truncatingIfNeeded: h) & mask
        while true {
            let k = slotKeys[i]
            if k < 0 {
                slotKeys[i] = Int32(keys.count)
                slotHashes[i] = h
                slotIDs[i] = newID
                keys.append(validUTF8: key)
                return newID
            }
            // `keys` only ever grows by appends of bytes, so it is flat.
            if slotHashes[i] == h && keys.withFlatUTF8(at: Int(k), { equalBytes($0, key) }) { return slotIDs[i] }
            i = (i + 1) & mask
        }
    }

    private mutating func grow() {
        let oldKeys = slotKeys, oldHashes = slotHashes, oldIDs = slotIDs
        let size = max(16, slotIDs.count * 2)
        slotKeys = [Int32](repeating: -1, count: size)
        slotHashes = [UInt64](repeating: 0, count: size)
        slotIDs = [Int32](repeating: -1, count: size)
        let mask = size - 1
        for (slot, k) in oldKeys.enumerated() where k >= 0 {
            var i = Int(truncatingIfNeeded: oldHashes[slot]) & mask
            while slotKeys[i] >= 0 { i = (i + 1) & mask }
            slotKeys[i] = k
            slotHashes[i] = oldHashes[slot]
            slotIDs[i] = oldIDs[slot]
        }
    }
}
