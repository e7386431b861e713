/// Where each row of a batch being built comes from: a row of one of two source batches, with the
/// kind and timestamp it gets. Windows decide row by row (cheap integers) and then copy column by
/// column, so each column's storage is touched once per batch instead of once per row.
public struct RowPlan: Sendable {
    public private(set) var sources: [UInt8] = []
    public private(set) var rows: [Int32] = []
    public private(set) var kinds: [EventKind] = []
    public private(set) var timestamps: [Int64] = []

    public init(capacity: Int = 0) {
        sources.reserveCapacity(capacity)
        rows.reserveCapacity(capacity)
        kinds.reserveCapacity(capacity)
        timestamps.reserveCapacity(capacity)
    }

    public var count: Int { rows.count }
    public var isEmpty: Bool { rows.isEmpty }

    @inline(__always)
    public mutating func add(source: UInt8, row: Int, kind: EventKind, timestamp: Int64) {
        sources.append(source)
        rows.append(Int32(truncatingIfNeeded: row))
        kinds.append(kind)
        timestamps.append(timestamp)
    }

    public mutating func removeAll() {
        sources.removeAll(keepingCapacity: true)
        rows.removeAll(keepingCapacity: true)
        kinds.removeAll(keepingCapacity: true)
        timestamps.removeAll(keepingCapacity: true)
    }
}

extension EventBatch {
    /// Builds the batch a plan describes from `first` (source 0) and `second` (source 1), which share a schema.
    public init(plan: RowPlan, first: EventBatch, second: EventBatch) {
        self.init(timestamps: plan.timestamps, kinds: plan.kinds, columns: [])
        columns.reserveCapacity(first.columns.count)
        for c in 0..<first.columns.count {
            columns.append(Column(plan: plan, first: first.columns[c], second: second.columns[c]))
        }
    }
}

extension Column {
    init(plan: RowPlan, first: Column, second: Column) {
        self.init(type: first.type)
        let n = plan.count
        @inline(__always)
        func pick<T>(_ a: [T], _ b: [T]) -> [T] {
            [T](unsafeUninitializedCapacity: n) { out, count in
                a.withUnsafeBufferPointer { a in
                    b.withUnsafeBufferPointer { b in
                        plan.sources.withUnsafeBufferPointer { s in
                            plan.rows.withUnsafeBufferPointer { r in
                                for i in 0..<n {
                                    (out.baseAddress! + i).initialize(to: s[i] == 0 ? a[Int(r[i])] : b[Int(r[i])])
                                }
                            }
                        }
                    }
                }
                count = n
            }
        }
        switch type {
        case .int, .long: longs = pick(first.longs, second.longs)
        case .float, .double: doubles = pick(first.doubles, second.doubles)
        case .bool: bools = pick(first.bools, second.bools)
        case .string:
            strings = plan.rows.withUnsafeBufferPointer { rows in
                plan.sources.withUnsafeBufferPointer { StringLane(picking: rows, sources: $0, first: first.strings, second: second.strings) }
            }
        case .object: objects = pick(first.objects, second.objects)
        }
        if first.hasNulls || second.hasNulls {
            let a = first.hasNulls ? first.nulls : [Bool](repeating: false, count: first.count)
            let b = second.hasNulls ? second.nulls : [Bool](repeating: false, count: second.count)
            let picked = pick(a, b)
            if picked.contains(true) { nulls = picked }
        }
        setCount(n)
    }
}
