import SluiceCore

/// A batch window's rows folded into the selector as they arrive: each group's aggregates and its
/// last row are all a batch-mode selector emits when nothing downstream wants expired events and no
/// `having` picks rows. At the flush, the pending rows go through the projection as the buffered
/// batch would have: one row per group, groups in first-seen order, each group's last row with
/// the group's aggregates. The planner chooses this only for expressions that read nothing but
/// the row, so evaluating them on arrival instead of at the flush changes nothing.
final class BatchAccumulation: BatchAccumulator, Snapshottable {
    unowned let selector: QuerySelector
    /// The last row of each group touched by each folded chunk. Only the newest row of a group
    /// counts (`rowOfGroup`).
    private var pending: EventBatch
    /// Group id → its newest row in `pending`, -1 when the group has no row in this batch.
    private var rowOfGroup: [Int32] = []
    /// Group ids in the order they first arrived in this batch.
    private var order: [Int32] = []
    /// Scratch: group id → its last row in the chunk being folded, -1 when untouched.
    private var lastInChunk: [Int32] = []
    private(set) var accumulatedCount = 0
    /// Per input attribute, whether the projection or `group by` can read it. Only those columns
    /// of `pending` are filled; the others stay empty and reach the projection as zero stand-ins.
    private let carried: [Int]

    init(selector: QuerySelector, inputTypes: [AttributeType], carried: [Bool]? = nil) {
        self.selector = selector
        pending = EventBatch(types: inputTypes)
        self.carried = inputTypes.indices.filter { carried?[$0] ?? true }
    }

    /// `pending`'s rows at `rows` as a whole batch: carried columns gathered, the others zero.
    private func pendingRows(_ rows: [Int]) -> EventBatch {
        var columns = pending.columns.map { Column(unread: $0.type, count: rows.count) }
        for c in carried { columns[c] = pending.columns[c].gather(rows) }
        return EventBatch(timestamps: rows.map { pending.timestamps[$0] }, kinds: rows.map { pending.kinds[$0] }, columns: columns)
    }

    func accumulate(_ chunk: EventBatch, rows: Range<Int>) {
        guard !rows.isEmpty else { return }
        let part = rows.count == chunk.count ? chunk : chunk.slice(rows)
        let n = part.count
        let input = EvaluationInput(batch: part, now: selector.context.now, context: selector.context)
        let groupIDs = selector.groupBy.isEmpty ? [Int32](repeating: 0, count: n)
            : selector.groups.ids(for: selector.groupBy.map { $0.evaluate(input) }, kinds: part.kinds)
        for slot in selector.aggregates { slot.aggregator.fold(groups: groupIDs, argument: slot.argument?.evaluate(input)) }
        // Locals: class-held arrays would pay an exclusivity check on every access in the loop.
        let groupCount = max(selector.groups.count, 1)
        var lastInChunk = self.lastInChunk, rowOfGroup = self.rowOfGroup
        self.lastInChunk = []
        self.rowOfGroup = []
        defer {
            self.lastInChunk = lastInChunk
            self.rowOfGroup = rowOfGroup
        }
        if lastInChunk.count < groupCount { lastInChunk += repeatElement(-1, count: groupCount - lastInChunk.count) }
        if rowOfGroup.count < groupCount { rowOfGroup += repeatElement(-1, count: groupCount - rowOfGroup.count) }
        var touched: [Int32] = []
        lastInChunk.withUnsafeMutableBufferPointer { last in
            groupIDs.withUnsafeBufferPointer { ids in
                for i in 0..<n {
                    let g = Int(ids[i])
                    if last[g] < 0 { touched.append(Int32(g)) }
                    last[g] = Int32(i)
                }
            }
        }
        var lastRows: [Int] = []
        lastRows.reserveCapacity(touched.count)
        for g in touched {
            let gi = Int(g)
            if rowOfGroup[gi] < 0 { order.append(g) }
            rowOfGroup[gi] = Int32(pending.count + lastRows.count)
            lastRows.append(Int(lastInChunk[gi]))
            lastInChunk[gi] = -1
        }
        // One pass per carried column rather than one append per row, and no batch in between.
        pending.timestamps.append(contentsOf: lastRows.lazy.map { part.timestamps[$0] })
        pending.kinds.append(contentsOf: lastRows.lazy.map { part.kinds[$0] })
        for c in carried { pending.columns[c].append(from: part.columns[c], at: lastRows) }
        accumulatedCount += n
    }

    func flushAccumulated(at time: Int64) {
        guard accumulatedCount > 0 else { return }
        var last = pendingRows(order.map { Int(rowOfGroup[Int($0)]) })
        let groupIDs = order
        for slot in selector.aggregates { last.columns.append(slot.aggregator.results(ofGroups: groupIDs)) }
        for g in order { rowOfGroup[Int(g)] = -1 }
        order.removeAll(keepingCapacity: true)
        pending.removeAll()
        accumulatedCount = 0
        for slot in selector.aggregates { slot.aggregator.reset(argumentType: slot.argument?.type) }

        // Without `group by`, Siddhi emits the batch's last event unless offset/limit rule it out.
        if selector.groupBy.isEmpty, (selector.offset ?? 0) != 0 || (selector.limit ?? 1) == 0 { return }
        let input = EvaluationInput(batch: last, now: selector.context.now, context: selector.context)
        var out = EventBatch(timestamps: last.timestamps, kinds: last.kinds, columns: selector.projection.map { $0.evaluate(input) })
        if !selector.groupBy.isEmpty { selector.emittedGroupIDs = groupIDs }
        selector.finish(&out)
    }

    func snapshot(into w: inout StateWriter) {
        w.write(pendingRows(order.map { Int(rowOfGroup[Int($0)]) }))
        w.write(order.map { Int64($0) })
        w.write(accumulatedCount)
    }

    func restore(from r: inout StateReader) throws {
        pending = try r.readBatch()
        order = try r.readLongs().map { Int32(truncatingIfNeeded: $0) }
        accumulatedCount = try r.readInt()
        let groupCount = Int(order.max() ?? -1) + 1
        rowOfGroup = [Int32](repeating: -1, count: groupCount)
        lastInChunk = [Int32](repeating: -1, count: groupCount)
        for (row, g) in order.enumerated() { rowOfGroup[Int(g)] = Int32(row) }
    }
}
