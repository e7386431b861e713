import SluiceCore

/// Maps group-by keys to dense group ids in first-seen order. Lookups use Swift's hashing,
/// which is fine here: ids are assigned in arrival order, so nothing depends on hash order.
final class GroupKeyIndex: Snapshottable {
    private var longIDs: [Int64: Int32] = [:]
    private var stringIDs: [String: Int32] = [:]
    private var valueIDs: [[Value]: Int32] = [:]
    /// Every key, by id: the source of truth for snapshots.
    private(set) var keys: [[Value]] = []

    var count: Int { keys.count }

    /// The group id of every row. Marker rows carry no key: they get id 0 without creating a group.
    func ids(for columns: [Column], kinds: [EventKind]) -> [Int32] {
        let rows = kinds.count
        var out = [Int32](repeating: 0, count: rows)
        if columns.count == 1 {
            let c = columns[0]
            switch c.type {
            case .int, .long:
                for i in 0..<rows where kinds[i] != .reset {
                    out[i] = c.isNull(i) ? id(values: [.null]) : id(long: c.longs[i], type: c.type)
                }
                return out
            case .string:
                for i in 0..<rows where kinds[i] != .reset {
                    out[i] = c.isNull(i) ? id(values: [.null]) : id(string: c.strings[i])
                }
                return out
            default: break
            }
        }
        for i in 0..<rows where kinds[i] != .reset { out[i] = id(values: columns.map { $0.value(at: i) }) }
        return out
    }

    @inline(__always)
    private func id(long v: Int64, type: AttributeType) -> Int32 {
        if let id = longIDs[v] { return id }
        let id = Int32(keys.count)
        longIDs[v] = id
        keys.append([type == .int ? .int(Int32(truncatingIfNeeded: v)) : .long(v)])
        return id
    }

    @inline(__always)
    private func id(string v: String) -> Int32 {
        if let id = stringIDs[v] { return id }
        let id = Int32(keys.count)
        stringIDs[v] = id
        keys.append([.string(v)])
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
            case .int(let i): longIDs[Int64(i)] = id; return
            case .long(let l): longIDs[l] = id; return
            case .string(let s): stringIDs[s] = id; return
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
        longIDs = [:]
        stringIDs = [:]
        valueIDs = [:]
        keys = []
        let n = try r.readCount()
        for _ in 0..<n { insert(try r.readValues()) }
    }
}
