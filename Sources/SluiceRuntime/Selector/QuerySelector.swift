import SluiceCore

/// The `select` stage: aggregates, projection, `group by`, `having`, `order by`, `limit` and `offset`,
/// with Siddhi 5.1's chunk rules. In batching mode (no window, or a batch window) a query with
/// aggregates emits only the last qualifying event of a chunk, or the last one per group in
/// first-seen order; a sliding window emits one event per qualifying row.
final class QuerySelector: Processor, Snapshottable {
    struct AggregateSlot {
        let aggregator: Aggregator
        let argument: CompiledExpression?
    }

    let context: ExecutionContext
    let aggregates: [AggregateSlot]
    let groupBy: [CompiledExpression]
    /// Evaluated over the input columns followed by one column per aggregate.
    let projection: [CompiledExpression]
    let outputTypes: [AttributeType]
    /// Evaluated over the output columns, then the input columns, then the aggregate columns.
    let having: CompiledExpression?
    let orderBy: RowOrdering?
    let limit: Int?
    let offset: Int?
    let batching: Bool
    let currentOn: Bool
    let expiredOn: Bool
    let groups = GroupKeyIndex()
    /// The projection is a plain pick of input columns with no aggregation: no copy is needed.
    private let pickedColumns: [Int]?
    private var groupSlots: [Int32] = []
    /// Set when a batch window hands this selector its rows as they arrive (`BatchAccumulator`).
    var accumulation: BatchAccumulation?
    /// The group id of each row of the chunk being emitted, for group-aware rate limiters.
    var emittedGroupIDs: [Int32] = []

    init(context: ExecutionContext, aggregates: [AggregateSlot], groupBy: [CompiledExpression],
         projection: [CompiledExpression], having: CompiledExpression?, orderBy: RowOrdering?,
         limit: Int?, offset: Int?, batching: Bool, currentOn: Bool, expiredOn: Bool) {
        self.context = context
        self.aggregates = aggregates
        self.groupBy = groupBy
        self.projection = projection
        self.outputTypes = projection.map(\.type)
        self.having = having
        self.orderBy = orderBy
        self.limit = limit
        self.offset = offset
        self.batching = batching
        self.currentOn = currentOn
        self.expiredOn = expiredOn
        let picks = projection.compactMap(\.attributeIndex)
        self.pickedColumns = aggregates.isEmpty && groupBy.isEmpty && having == nil && picks.count == projection.count ? picks : nil
        super.init()
    }

    var hasAggregates: Bool { !aggregates.isEmpty }

    /// How the rows a window emits for a batch map back to the arrivals that caused them, for
    /// callers that send a batch whose events are each a chunk of their own.
    enum ChunkShape {
        /// No window: each row is an arrival.
        case eachRow
        /// A sliding window: an arrival's expired rows come before it.
        case endsAtCurrent
        /// The sort window: an arrival's row comes before the row it evicts.
        case startsAtCurrent
        /// A batch window: each emission is one chunk already.
        case whole
    }

    var chunkShape: ChunkShape = .whole


    /// Calls `body` with each chunk of one emission: the whole of it, unless the sender asked for one
    /// chunk per event. Allocates nothing.
    @inline(__always)
    private func forEachChunk(of kinds: [EventKind], _ body: (Range<Int>) -> Void) {
        let n = kinds.count
        guard context.eachEventIsAChunk, n > 1, chunkShape != .whole else {
            body(0..<n)
            return
        }
        switch chunkShape {
        case .whole:
            body(0..<n)
        case .eachRow:
            for i in 0..<n { body(i..<i + 1) }
        case .endsAtCurrent:
            var start = 0
            for i in 0..<n where kinds[i] == .current {
                body(start..<i + 1)
                start = i + 1
            }
            if start < n { body(start..<n) }
        case .startsAtCurrent:
            var start = 0
            for i in 1..<n where kinds[i] == .current {
                body(start..<i)
                start = i
            }
            body(start..<n)
        }
    }

    override func process(_ chunk: EventBatch) {
        let n = chunk.count
        let now = context.now
        // Fast path: a stateless projection of current events.
        if let pickedColumns, currentOn, !chunk.kinds.contains(where: { $0 != .current }) {
            var out = EventBatch(timestamps: chunk.timestamps, kinds: chunk.kinds, columns: pickedColumns.map { chunk.columns[$0] })
            finish(&out)
            return
        }

        var input = EvaluationInput(batch: chunk, now: now, context: context)
        var groupIDs: [Int32]
        if groupBy.isEmpty {
            groupIDs = [Int32](repeating: 0, count: n)
        } else {
            groupIDs = groups.ids(for: groupBy.map { $0.evaluate(input) }, kinds: chunk.kinds)
        }
        if !aggregates.isEmpty {
            var extended = chunk
            for slot in aggregates {
                let arg = slot.argument?.evaluate(input)
                var result = Column(type: slot.aggregator.resultType, capacity: n)
                slot.aggregator.process(kinds: chunk.kinds, groups: groupIDs, argument: arg, into: &result)
                extended.columns.append(result)
            }
            input.batch = extended
        }
        let outputColumns = projection.map { $0.evaluate(input) }

        // Rows that may be emitted: events of a wanted type that pass `having`.
        var passes = [Bool](repeating: false, count: n)
        for i in 0..<n {
            switch chunk.kinds[i] {
            case .current: passes[i] = currentOn
            case .expired: passes[i] = expiredOn
            case .reset: passes[i] = false
            }
        }
        if let having {
            var havingBatch = input.batch
            havingBatch.columns = outputColumns + input.batch.columns
            let h = having.evaluate(EvaluationInput(batch: havingBatch, now: now, context: context))
            for i in 0..<n where passes[i] && (h.isNull(i) || !h.bools[i]) { passes[i] = false }
        }

        var rows: [Int] = []
        if batching && (hasAggregates || !groupBy.isEmpty) {
            // Scratch for last-per-group selection: the output slot of each group id, -1 when unused.
            // Held locally while in use, so that the class-held copy costs no access check per row.
            var slotOfGroup = groupSlots
            groupSlots = []
            defer { groupSlots = slotOfGroup }
            rows.reserveCapacity(context.eachEventIsAChunk ? n : 16)
            forEachChunk(of: chunk.kinds) { segment in
                let onlyOne = (offset ?? 0) == 0 && (limit ?? 1) > 0
                if segment.count == 1 {
                    let i = segment.lowerBound
                    if passes[i] && (!groupBy.isEmpty || onlyOne) { rows.append(i) }
                } else if groupBy.isEmpty {
                    // Siddhi emits the chunk's last qualifying event, unless offset/limit rule it out.
                    if onlyOne, let last = segment.last(where: { passes[$0] }) { rows.append(last) }
                } else {
                    // The last row per group, groups in the order they first qualified.
                    let base = rows.count
                    if segment.count <= 16 {
                        // Small chunks (one arrival and its expiries): a scan beats hashing.
                        for i in segment where passes[i] {
                            let g = groupIDs[i]
                            if let s = (base..<rows.count).first(where: { groupIDs[rows[$0]] == g }) {
                                rows[s] = i
                            } else {
                                rows.append(i)
                            }
                        }
                        return
                    }
                    // Group ids are dense, so a slot array indexed by id replaces a hash map.
                    if slotOfGroup.count < groups.count { slotOfGroup += repeatElement(-1, count: groups.count - slotOfGroup.count) }
                    for i in segment where passes[i] {
                        let g = Int(groupIDs[i])
                        let s = slotOfGroup[g]
                        if s >= 0 {
                            rows[Int(s)] = i
                        } else {
                            slotOfGroup[g] = Int32(rows.count)
                            rows.append(i)
                        }
                    }
                    for s in base..<rows.count { slotOfGroup[Int(groupIDs[rows[s]])] = -1 }
                }
            }
        } else {
            rows = (0..<n).filter { passes[$0] }
        }
        guard !rows.isEmpty else { return }
        if !groupBy.isEmpty { emittedGroupIDs = rows.map { groupIDs[$0] } }
        var out: EventBatch
        if rows.count == n {
            out = EventBatch(timestamps: chunk.timestamps, kinds: chunk.kinds, columns: outputColumns)
        } else {
            out = EventBatch(timestamps: rows.map { chunk.timestamps[$0] }, kinds: rows.map { chunk.kinds[$0] },
                             columns: outputColumns.map { $0.gather(rows) })
        }
        finish(&out)
    }

    /// `order by`, `offset` and `limit` apply to each output chunk, as Siddhi applies them:
    /// sorting is stable within each run of same-kind events, and `limit` caps current events only.
    func finish(_ out: inout EventBatch) {
        if orderBy != nil || offset != nil || limit != nil {
            var order = Array(0..<out.count)
            if let orderBy, out.count > 1 {
                let batch = out
                var sorted: [Int] = []
                var runStart = 0
                while runStart < order.count {
                    var runEnd = runStart + 1
                    while runEnd < order.count && batch.kinds[runEnd] == batch.kinds[runStart] { runEnd += 1 }
                    sorted += order[runStart..<runEnd].sorted { a, b in
                        let c = orderBy.compare(batch, a, batch, b)
                        return c != 0 ? c < 0 : a < b
                    }
                    runStart = runEnd
                }
                order = sorted
            }
            if let offset { order = Array(order.dropFirst(offset)) }
            if let limit {
                var currents = 0
                order = order.filter { i in
                    guard out.kinds[i] == .current else { return true }
                    currents += 1
                    return currents <= limit
                }
            }
            if order != Array(0..<out.count) {
                out = out.gather(order)
                if !emittedGroupIDs.isEmpty { emittedGroupIDs = order.map { emittedGroupIDs[$0] } }
            }
        }
        emit(out)
    }

    func snapshot(into w: inout StateWriter) {
        groups.snapshot(into: &w)
        for slot in aggregates { slot.aggregator.snapshot(into: &w) }
        accumulation?.snapshot(into: &w)
    }

    func restore(from r: inout StateReader) throws {
        try groups.restore(from: &r)
        for slot in aggregates { try slot.aggregator.restore(from: &r) }
        try accumulation?.restore(from: &r)
    }
}
