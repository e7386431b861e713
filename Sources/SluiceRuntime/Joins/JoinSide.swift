import SluiceCore

/// What a join searches on one side: the events a window holds now (Siddhi's findable processor).
protocol JoinSearchable: AnyObject {
    /// The window's events: rows `rows` of `batch`, oldest first.
    var joinContents: (batch: EventBatch, rows: Range<Int>) { get }
}

/// The stage after one side's window in a stream–stream join (Siddhi's post-join processor). It
/// joins each event the window emits, current or expired, with the events the other side's window
/// holds, and emits the joined rows (this side's attributes and the other's, left side first) with
/// the arriving event's kind and timestamp. An outer side pads an event that matched nothing with
/// nulls; a side that does not trigger (the other one is `unidirectional`) emits nothing, though
/// its window still fills. Reset markers pass through, so aggregates restart with a batch.
final class JoinSide: Processor {
    enum Position { case left, right }

    let position: Position
    let isTrigger: Bool
    let isOuter: Bool
    /// Over the joined layout (left attributes, then right); nil joins every pair.
    let condition: CompiledExpression?
    /// Joined columns the condition reads; the others are not gathered for it.
    let conditionReads: [Bool]
    /// An attribute of this side (`mine`) and one of the other (`theirs`), by column, that the
    /// condition requires to be equal: pairs whose values differ are never tested.
    let equalKey: (mine: Int, theirs: Int)?
    let leftTypes: [AttributeType]
    let rightTypes: [AttributeType]
    let context: ExecutionContext
    unowned let other: JoinSearchable
    /// Hand the selector each arriving event's rows as a chunk of their own, as Siddhi does, when
    /// its output depends on chunking (aggregates, grouping, ordering, limits, rate limits).
    var chunkPerArrival = true
    /// False when nothing downstream reads expired joined rows: expired events are not joined.
    var joinsExpired = true

    /// Pairs evaluated per condition pass, so that a large window costs time, not memory.
    static let pairsPerPass = 1 << 16

    init(position: Position, isTrigger: Bool, isOuter: Bool, condition: CompiledExpression?, conditionReads: [Bool],
         equalKey: (mine: Int, theirs: Int)?, leftTypes: [AttributeType], rightTypes: [AttributeType], other: JoinSearchable, context: ExecutionContext) {
        self.position = position
        self.isTrigger = isTrigger
        self.isOuter = isOuter
        self.condition = condition
        self.conditionReads = conditionReads
        self.equalKey = equalKey
        self.leftTypes = leftTypes
        self.rightTypes = rightTypes
        self.other = other
        self.context = context
    }

    override func process(_ chunk: EventBatch) {
        guard isTrigger, !chunk.isEmpty else { return }
        let (found, rows) = other.joinContents
        let candidates = equalKey.map { Candidates(key: $0, chunk: chunk, found: found, rows: rows) }
        let n = chunk.count
        let perPass = max(1, Self.pairsPerPass / max(1, rows.count))
        var start = 0
        while start < n {
            let end = chunk.kinds[start] == .reset ? start + 1 : min(n, start + perPass)
            join(chunk, start..<end, found: found, rows: rows, candidates: candidates)
            start = end
        }
    }

    /// The other window's rows bucketed by the value of an attribute the condition compares for
    /// equality with one of this side's: an arrival is tested against its bucket only. The whole
    /// condition still decides, so this only skips pairs that cannot match.
    private struct Candidates {
        /// Per bucket, its first row (relative to the window's first); -1 when empty.
        var first: [Int32]
        /// Per row, the next row of its bucket, oldest first; -1 at the end.
        var next: [Int32]
        /// Per chunk row, its bucket.
        var bucket: [Int32]

        init(key: (mine: Int, theirs: Int), chunk: EventBatch, found: EventBatch, rows: Range<Int>) {
            let index = GroupKeyIndex()
            let theirs = rows.count == found.count ? found.columns[key.theirs] : found.columns[key.theirs].gather(Array(rows))
            let theirBuckets = index.ids(for: [theirs], kinds: [EventKind](repeating: .current, count: rows.count))
            bucket = index.ids(for: [chunk.columns[key.mine]], kinds: chunk.kinds)
            first = [Int32](repeating: -1, count: index.count)
            next = [Int32](repeating: -1, count: rows.count)
            for r in stride(from: rows.count - 1, through: 0, by: -1) {
                let b = Int(theirBuckets[r])
                next[r] = first[b]
                first[b] = Int32(r)
            }
        }
    }

    /// Joins rows `arrivals` of `chunk` with rows `rows` of `found` and emits the result.
    private func join(_ chunk: EventBatch, _ arrivals: Range<Int>, found: EventBatch, rows: Range<Int>, candidates: Candidates?) {
        // Pairs, arrival-major and the other window oldest first: Siddhi's output order.
        var mine: [Int] = []
        var theirs: [Int] = []
        /// Per arrival, where its pairs end.
        var ends = [Int](repeating: 0, count: arrivals.count)
        if candidates == nil {
            mine.reserveCapacity(arrivals.count * rows.count)
            theirs.reserveCapacity(arrivals.count * rows.count)
        }
        for a in arrivals {
            defer { ends[a - arrivals.lowerBound] = mine.count }
            guard chunk.kinds[a] == .current || (joinsExpired && chunk.kinds[a] == .expired) else { continue }
            if let candidates {
                let b = Int(candidates.bucket[a])
                var r = b < candidates.first.count ? candidates.first[b] : -1
                while r >= 0 {
                    mine.append(a)
                    theirs.append(rows.lowerBound + Int(r))
                    r = candidates.next[Int(r)]
                }
            } else {
                for r in rows {
                    mine.append(a)
                    theirs.append(r)
                }
            }
        }
        let matched = matches(chunk, mine, found, theirs)
        // The output: matched pairs, and for an outer side each unmatched arrival once (other = -1).
        var outMine: [Int] = []
        var outTheirs: [Int] = []
        var resets: [Int] = []
        var p = 0
        for a in arrivals {
            let end = ends[a - arrivals.lowerBound]
            if chunk.kinds[a] == .reset {
                resets.append(outMine.count)
                outMine.append(a)
                outTheirs.append(-1)
            } else if chunk.kinds[a] == .current || joinsExpired {
                var any = false
                while p < end {
                    if matched[p] {
                        outMine.append(a)
                        outTheirs.append(theirs[p])
                        any = true
                    }
                    p += 1
                }
                if !any && isOuter {
                    outMine.append(a)
                    outTheirs.append(-1)
                }
            }
            if chunkPerArrival && !outMine.isEmpty {
                emit(joined(chunk, outMine, found, outTheirs, resets: resets))
                outMine.removeAll(keepingCapacity: true)
                outTheirs.removeAll(keepingCapacity: true)
                resets.removeAll(keepingCapacity: true)
            }
        }
        if !outMine.isEmpty { emit(joined(chunk, outMine, found, outTheirs, resets: resets)) }
    }

    /// Whether each pair satisfies the condition, evaluated column by column over all pairs.
    private func matches(_ chunk: EventBatch, _ mine: [Int], _ found: EventBatch, _ theirs: [Int]) -> [Bool] {
        guard let condition else { return [Bool](repeating: true, count: mine.count) }
        guard !mine.isEmpty else { return [] }
        let count = mine.count
        var columns: [Column] = []
        columns.reserveCapacity(conditionReads.count)
        for (i, type) in (leftTypes + rightTypes).enumerated() {
            guard conditionReads[i] else {
                columns.append(Column(unread: type, count: count))
                continue
            }
            let isLeft = i < leftTypes.count
            let column = isLeft ? i : i - leftTypes.count
            let fromMine = isLeft == (position == .left)
            columns.append(fromMine ? chunk.columns[column].gather(mine) : found.columns[column].gather(theirs))
        }
        let pairs = EventBatch(timestamps: mine.map { chunk.timestamps[$0] }, kinds: mine.map { chunk.kinds[$0] }, columns: columns)
        let truth = condition.evaluate(EvaluationInput(batch: pairs, now: context.now, context: context))
        var out = truth.bools
        if !truth.nulls.isEmpty {
            for i in 0..<count where truth.nulls[i] { out[i] = false }
        }
        return out
    }

    /// The joined rows: this side's rows `mine` beside the other side's rows `theirs` (-1: nulls).
    private func joined(_ chunk: EventBatch, _ mine: [Int], _ found: EventBatch, _ theirs: [Int], resets: [Int]) -> EventBatch {
        let padded = theirs.contains(-1)
        let mineColumns = chunk.columns.map { $0.gather(mine) }
        let theirTypes = position == .left ? rightTypes : leftTypes
        var theirColumns: [Column]
        if !padded {
            theirColumns = found.columns.map { $0.gather(theirs) }
        } else {
            let anyRow = theirs.first { $0 >= 0 }
            theirColumns = theirTypes.indices.map { c in
                var column = anyRow == nil ? Column(unread: theirTypes[c], count: theirs.count)
                    : found.columns[c].gather(theirs.map { $0 >= 0 ? $0 : anyRow! })
                if column.nulls.isEmpty { column.nulls = [Bool](repeating: false, count: theirs.count) }
                for (i, r) in theirs.enumerated() where r < 0 { column.nulls[i] = true }
                return column
            }
        }
        var kinds = mine.map { chunk.kinds[$0] }
        for i in resets { kinds[i] = .reset }
        return EventBatch(timestamps: mine.map { chunk.timestamps[$0] }, kinds: kinds,
                          columns: position == .left ? mineColumns + theirColumns : theirColumns + mineColumns)
    }
}
