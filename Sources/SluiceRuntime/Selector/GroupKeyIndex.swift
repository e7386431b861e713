import SluiceCore

/// Maps group-by keys to dense group ids in first-seen order. Single long and string keys use
/// fixed-hash tables; other keys use a dictionary, whose hash order nothing depends on.
final class GroupKeyIndex: Snapshottable {
    private var longIDs = LongKeyTable()
    private var stringIDs = StringKeyTable()
    private var valueIDs: [[Value]: Int32] = [:]
    /// Every key, by id: the source of truth for snapshots.
    private(set) var keys: [[Value]] = []

    var count: Int { keys.count }

    /// The group id of every row. Marker rows carry no key: they get id 0 without creating a group.
    func ids(for columns: [Column], kinds: [EventKind]) -> [Int32] {
        let rows = kinds.count
        var out = [Int32](repeating: 0, count: rows)
        if columns.count == 1 && !columns[0].hasNulls {
            let c = columns[0]
            switch c.type {
            case .int, .long:
                // Local tables: a class-held one would pay an exclusivity check per row.
                var table = longIDs
                longIDs = LongKeyTable()
                for i in 0..<rows where kinds[i] != .reset {
                    let next = Int32(keys.count)
                    let id = table.id(c.longs[i], orInsert: next)
                    if id == next { keys.append([c.type == .int ? .int(Int32(truncatingIfNeeded: c.longs[i])) : .long(c.longs[i])]) }
                    out[i] = id
                }
                longIDs = table
                return out
            case .string where c.strings.valueCodes != nil:
                return ids(forCoded: c, kinds: kinds)
            case .string:
                var table = stringIDs
                stringIDs = StringKeyTable()
                var nextID = Int32(keys.count)
                var newKeyRows: [Int] = []
                // Raw buffers and locals only: this loop runs once per row.
                out.withUnsafeMutableBufferPointer { out in
                    kinds.withUnsafeBufferPointer { kinds in
                        c.strings.withUnsafeStorage { arena, ends in
                            let base = arena.baseAddress
                            var start = 0
                            for i in 0..<rows {
                                let end = ends[i]
                                defer { start = end }
                                guard kinds[i] != .reset else { continue }
                                let bytes = UnsafeRawBufferPointer(start: base.map { $0 + start }, count: end - start)
                                let id = table.id(bytes, orInsert: nextID)
                                if id == nextID {
                                    newKeyRows.append(i)
                                    nextID += 1
                                }
                                out[i] = id
                            }
                        }
                    }
                }
                for row in newKeyRows { keys.append([.string(c.string(at: row))]) }
                stringIDs = table
                return out
            default: break
            }
        }
        for i in 0..<rows where kinds[i] != .reset { out[i] = id(values: columns.map { $0.value(at: i) }) }
        return out
    }

    /// A string key column in dictionary form: each distinct value is looked up once, at the first
    /// row that has it, so ids still follow first-seen order.
    private func ids(forCoded c: Column, kinds: [EventKind]) -> [Int32] {
        let coded = c.strings.valueCodes!
        let rows = kinds.count
        var out = [Int32](repeating: 0, count: rows)
        var table = stringIDs
        stringIDs = StringKeyTable()
        var nextID = Int32(keys.count)
        var newKeyRows: [Int] = []
        withUnsafeTemporaryAllocation(of: Int32.self, capacity: max(coded.count, 1)) { idOfCode in
            idOfCode.initialize(repeating: -1)
            out.withUnsafeMutableBufferPointer { out in
            kinds.withUnsafeBufferPointer { kinds in
            coded.codes.withUnsafeBufferPointer { codes in
            coded.values.lane.withUnsafeStorage { arena, ends in
                for i in 0..<rows where kinds[i] != .reset {
                    let code = Int(codes[i])
                    var id = idOfCode[code]
                    if id < 0 {
                        let start = code == 0 ? 0 : ends[code - 1]
                        id = table.id(UnsafeRawBufferPointer(rebasing: arena[start..<ends[code]]), orInsert: nextID)
                        if id == nextID {
                            newKeyRows.append(i)
                            nextID += 1
                        }
                        idOfCode[code] = id
                    }
                    out[i] = id
                }
            }
            }
            }
            }
        }
        for row in newKeyRows { keys.append([.string(c.string(at: row))]) }
        stringIDs = table
        return out
    }

    private func id(long v: Int64, type: AttributeType) -> Int32 {
        let next = Int32(keys.count)
        let id = longIDs.id(v, orInsert: next)
        if id == next { keys.append([type == .int ? .int(Int32(truncatingIfNeeded: v)) : .long(v)]) }
        return id
    }

    private func id(string v: String) -> Int32 {
        let next = Int32(keys.count)
        let id = stringIDs.id(v, orInsert: next)
        if id == next { keys.append([.string(v)]) }
        return id
    }

    private func id(values v: [Value]) -> Int32 {
        if v.count == 1 {
            switch v[0] {
            case .int(let i): return id(long: Int64(i), type: .int)
            case .long(let l): return id(long: l, type: .long)
            case .string(let s): return id(string: s)
            default: break
            }
        }
        if let id = valueIDs[v] { return id }
        let id = Int32(keys.count)
        valueIDs[v] = id
        keys.append(v)
        return id
    }

    private func insert(_ key: [Value]) {
        let id = Int32(keys.count)
        keys.append(key)
        if key.count == 1 {
            switch key[0] {
            case .int(let i): _ = longIDs.id(Int64(i), orInsert: id); return
            case .long(let l): _ = longIDs.id(l, orInsert: id); return
            case .string(let s): _ = stringIDs.id(s, orInsert: id); return
            default: break
            }
        }
        valueIDs[key] = id
    }

    func snapshot(into w: inout StateWriter) {
        w.write(keys.count)
        for k in keys { w.write(k) }
    }

    func restore(from r: inout StateReader) throws {
        let n = try r.readCount()
        var restored: [[Value]] = []
        for _ in 0..<n { restored.append(try r.readValues()) }
        replace(with: restored)
    }

    /// Makes `keys` the groups, the i-th with id i.
    func replace(with keys: [[Value]]) {
        longIDs = LongKeyTable()
        stringIDs = StringKeyTable()
        valueIDs = [:]
        self.keys = []
        for key in keys { insert(key) }
    }
}
