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
    let matcher: PairMatcher
    /// An attribute of this side (`mine`) and one of the other (`theirs`), by column, that the
    /// condition requires to be equal: pairs whose values differ are never tested.
    let equalKey: (mine: Int, theirs: Int)?
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
        matcher = PairMatcher(condition: condition, reads: conditionReads, leftTypes: leftTypes, rightTypes: rightTypes,
                              probeIsLeft: position == .left)
        self.equalKey = equalKey
        self.other = other
        self.context = context
    }

    override func process(_ chunk: EventBatch) {
        guard isTrigger, !chunk.isEmpty else { return }
        let (found, rows) = other.joinContents
        let candidates = equalKey.map { EqualKeyBuckets(key: $0, probe: chunk, found: found, rows: rows) }
        let n = chunk.count
        let perPass = max(1, Self.pairsPerPass / max(1, rows.count))
        var start = 0
        while start < n {
            let end = min(n, start + perPass)
            join(chunk, start..<end, found: found, rows: rows, candidates: candidates)
            start = end
        }
    }

    /// Joins rows `arrivals` of `chunk` with rows `rows` of `found` and emits the result.
    private func join(_ chunk: EventBatch, _ arrivals: Range<Int>, found: EventBatch, rows: Range<Int>, candidates: EqualKeyBuckets?) {
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
        let matched = matcher.matches(chunk, mine, found, theirs, context: context)
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

    /// The joined rows: this side's rows `mine` beside the other side's rows `theirs` (-1: nulls).
    private func joined(_ chunk: EventBatch, _ mine: [Int], _ found: EventBatch, _ theirs: [Int], resets: [Int]) -> EventBatch {
        let padded = theirs.contains(-1)
        let mineColumns = chunk.columns.map { $0.gather(mine) }
        let theirTypes = position == .left ? matcher.rightTypes : matcher.leftTypes
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
