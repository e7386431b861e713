import SluiceCore

/// The partial matches waiting at one element of a pattern or sequence, in creation order.
/// Each row holds the events captured so far (and, for an element that takes more than one
/// step, its own columns); its timestamp is its first event's, or `PartialPool.noEvent`.
struct PartialPool {
    /// The timestamp of a partial that holds no event yet (a start, an absence), which `within` never drops.
    static let noEvent = Int64.max

    var rows: EventBatch
    /// The arrival at which each row last advanced: a sequence keeps only the rows the latest event advanced.
    private(set) var advancedAt: [Int]

    init(types: [AttributeType]) {
        rows = EventBatch(types: types)
        advancedAt = []
    }

    var count: Int { rows.count }
    var isEmpty: Bool { rows.isEmpty }

    mutating func append(first: Int64, values: [Value], arrival: Int) {
        rows.append(timestamp: first, values: values)
        advancedAt.append(arrival)
    }

    mutating func append(from batch: EventBatch, row: Int, arrival: Int) {
        rows.append(from: batch, row: row, kind: .current)
        advancedAt.append(arrival)
    }

    /// Drops the rows that did not enter or advance at `arrival`.
    mutating func keepAdvanced(at arrival: Int) {
        let advancedAt = advancedAt
        filter { advancedAt[$0] == arrival }
    }

    /// Applies one step's outcome in a single pass: rows in `removed` leave, rows in `replaced`
    /// change in place. Positions refer to the pool before the edit.
    mutating func edit(removed: [Bool]?, replaced: [Int: (first: Int64, values: [Value])], arrival: Int) {
        guard removed != nil || !replaced.isEmpty else { return }
        if replaced.isEmpty, let removed {
            filter { !removed[$0] }
            return
        }
        var rebuilt = PartialPool(types: rows.types)
        rebuilt.rows.timestamps.reserveCapacity(count)
        for i in 0..<count where !(removed?[i] ?? false) {
            if let r = replaced[i] {
                rebuilt.append(first: r.first, values: r.values, arrival: arrival)
            } else {
                rebuilt.append(from: rows, row: i, arrival: advancedAt[i])
            }
        }
        self = rebuilt
    }

    /// Keeps the rows `keep` accepts.
    mutating func filter(_ keep: (Int) -> Bool) {
        let kept = (0..<count).filter(keep)
        guard kept.count < count else { return }
        rows = rows.gather(kept)
        advancedAt = kept.map { advancedAt[$0] }
    }

    /// Drops partials whose first event is older than `limit`.
    mutating func purge(olderThan limit: Int64) {
        // Read before writing: most events find nothing to drop.
        let firsts = rows.timestamps
        guard firsts.contains(where: { $0 < limit }) else { return }
        filter { firsts[$0] >= limit }
    }

    mutating func removeAll() {
        rows.removeAll()
        advancedAt.removeAll()
    }

    func snapshot(into w: inout StateWriter) { w.write(rows) }

    mutating func restore(from r: inout StateReader) throws {
        rows = try r.readBatch()
        advancedAt = [Int](repeating: -1, count: rows.count)
    }
}
