import SluiceCore

/// A pattern `[every] e1=A[f1] -> e2=B[f2] -> … [within t]` with Siddhi's pattern semantics; after
/// the first element, an element may be `e2=B and e3=C` (both, in either order) or `e2=B or e3=C`
/// (whichever comes first; the other's attributes are null). Partial matches wait per element in
/// columnar form: the captured events so far beside the time of the first. Each arriving event is
/// offered first to the partials waiting for a later element (last element first, so that an
/// event never plays two parts of one match), then may start a match. A partial whose first event
/// is older than `within` is dropped when a later event arrives.
final class PatternProcessor: Processor, Snapshottable {
    enum Restart {
        /// No `every`: the first element matches once, ever.
        case once
        /// `every e1=A -> …`: every event the first element accepts starts a match.
        case eachFirst
        /// `every (e1=A -> …)`: a new match starts only when none is in progress.
        case afterEachMatch
    }

    /// One stream event of the pattern.
    struct Leaf {
        var stream: String
        var types: [AttributeType]
        /// Over the captured events then this one; nil accepts every event.
        var filter: CompiledExpression?
        /// Whether the filter reads earlier events (else it is evaluated once per chunk).
        var readsEarlier: Bool
    }

    enum Element {
        case single(Leaf)
        case and(Leaf, Leaf)
        case or(Leaf, Leaf)

        var leaves: [Leaf] {
            switch self {
            case .single(let l): [l]
            case .and(let a, let b), .or(let a, let b): [a, b]
            }
        }

        var types: [AttributeType] { leaves.flatMap(\.types) }
    }

    let elements: [Element]
    let restart: Restart
    let within: Int64?
    let context: ExecutionContext
    /// Emit each arriving event's matches as a chunk of its own (the selector's output depends on chunking).
    var chunkPerArrival = true
    /// `waiting[j]`: partials that matched elements 0..<j and wait for element j (j ≥ 1); each row's
    /// timestamp is its first event's.
    private var waiting: [EventBatch]
    /// For an `and` element j: partials that have its left (`halves[j][0]`) or right (`[1]`) event
    /// and wait for the other; their columns are the captured events, then that one.
    private var halves: [[EventBatch]]
    private var started = false
    private let outputTypes: [AttributeType]
    /// Where each element's columns start in the captured layout.
    private let starts: [Int]
    /// The streams each element reads (looked up per event: kept, not recomputed).
    private let streams: [[String]]
    /// The first element, which starts matches (always a single event).
    private let first: Leaf?

    init(elements: [Element], restart: Restart, within: Int64?, context: ExecutionContext) {
        self.elements = elements
        self.restart = restart
        self.within = within
        self.context = context
        var waiting: [EventBatch] = []
        var halves: [[EventBatch]] = []
        var starts: [Int] = []
        var captured: [AttributeType] = []
        for element in elements {
            starts.append(captured.count)
            waiting.append(EventBatch(types: captured))
            if case .and(let a, let b) = element {
                halves.append([EventBatch(types: captured + a.types), EventBatch(types: captured + b.types)])
            } else {
                halves.append([])
            }
            captured += element.types
        }
        self.waiting = waiting
        self.halves = halves
        self.starts = starts
        streams = elements.map { $0.leaves.map(\.stream) }
        if case .single(let leaf)? = elements.first { first = leaf } else { first = nil }
        outputTypes = captured
    }

    /// Events of `stream` arrive.
    func arrive(_ chunk: EventBatch, stream: String) {
        let input = EvaluationInput(batch: chunk, now: context.now, context: context)
        // Filters that read only the arriving event, once per chunk.
        let accepts: [[Column?]] = elements.map { element in
            element.leaves.map { leaf in leaf.stream == stream && !leaf.readsEarlier ? leaf.filter.map { $0.evaluate(input) } : nil }
        }
        var out = EventBatch(types: outputTypes)
        for row in 0..<chunk.count where chunk.kinds[row] == .current {
            let ts = chunk.timestamps[row]
            if let within { purge(olderThan: ts - within) }
            let completed = out.count
            for j in stride(from: elements.count - 1, through: 1, by: -1) where streams[j].contains(stream) {
                offer(j, chunk, row, stream, accepts[j], into: &out)
            }
            // `every (…)` starts over with the events after a match, not with the one that completed it.
            let justMatched = out.count > completed
            if let first, first.stream == stream, canStart,
               !(restart == .afterEachMatch && justMatched), Self.accepted(accepts[0][0], row) {
                if restart == .once { started = true }
                if elements.count == 1 {
                    out.append(from: chunk, row: row)
                } else {
                    waiting[1].append(from: chunk, row: row)
                }
            }
            if chunkPerArrival && !out.isEmpty {
                emit(out)
                out = EventBatch(types: outputTypes)
            }
        }
        emit(out)
    }

    private var canStart: Bool {
        switch restart {
        case .once: !started
        case .eachFirst: true
        case .afterEachMatch: waiting.allSatisfy(\.isEmpty) && halves.allSatisfy { $0.allSatisfy(\.isEmpty) }
        }
    }

    private static func accepted(_ column: Column?, _ row: Int) -> Bool {
        guard let column else { return true }
        return column.bools[row] && !column.isNull(row)
    }

    /// Offers event `row` of `stream` to the partials of element `j`.
    private func offer(_ j: Int, _ chunk: EventBatch, _ row: Int, _ stream: String, _ accepts: [Column?], into out: inout EventBatch) {
        let nulls = { (types: [AttributeType]) in [Value](repeating: .null, count: types.count) }
        switch elements[j] {
        case .single(let leaf):
            take(&waiting[j], leaf, accepts[0], chunk, row) { partial, event in partial + event }
                .forEach { finish(j, $0.values, firstAt: $0.first, at: chunk.timestamps[row], into: &out) }
        case .or(let left, let right):
            // The left event first: with both accepting, Siddhi's `or` takes the left.
            for (leaf, accept, isLeft) in [(left, accepts[0], true), (right, accepts[1], false)] where leaf.stream == stream {
                take(&waiting[j], leaf, accept, chunk, row) { partial, event in
                    isLeft ? partial + event + nulls(right.types) : partial + nulls(left.types) + event
                }.forEach { finish(j, $0.values, firstAt: $0.first, at: chunk.timestamps[row], into: &out) }
            }
        case .and(let left, let right):
            let captured = starts[j]
            // Halves that wait for this event complete first, then fresh partials take it as their first half.
            if right.stream == stream {
                take(&halves[j][0], right, accepts[1], chunk, row, captured: captured) { partial, event in partial + event }
                    .forEach { finish(j, $0.values, firstAt: $0.first, at: chunk.timestamps[row], into: &out) }
            }
            if left.stream == stream {
                take(&halves[j][1], left, accepts[0], chunk, row, captured: captured) { partial, event in
                    Array(partial[..<captured]) + event + Array(partial[captured...])
                }.forEach { finish(j, $0.values, firstAt: $0.first, at: chunk.timestamps[row], into: &out) }
            }
            for (side, leaf, accept) in [(0, left, accepts[0]), (1, right, accepts[1])] where leaf.stream == stream {
                for moved in take(&waiting[j], leaf, accept, chunk, row, { partial, event in partial + event }) {
                    halves[j][side].append(timestamp: moved.first, values: moved.values)
                }
            }
        }
    }

    /// Removes from `partials` those whose next event `leaf` accepts as event `row`, and returns
    /// what `combine` makes of each with it.
    private func take(_ partials: inout EventBatch, _ leaf: Leaf, _ accept: Column?, _ chunk: EventBatch, _ row: Int,
                      captured: Int? = nil, _ combine: ([Value], [Value]) -> [Value]) -> [(values: [Value], first: Int64)] {
        let p = partials.count
        guard p > 0 else { return [] }
        var matched: [Bool]
        if leaf.readsEarlier, let filter = leaf.filter {
            let repeated = [Int](repeating: row, count: p)
            // The filter sees the elements before this one, then the event: not a sibling's half.
            let captured = partials.columns.prefix(captured ?? partials.columns.count)
            let pairs = EventBatch(timestamps: partials.timestamps, kinds: partials.kinds,
                                   columns: Array(captured) + chunk.columns.map { $0.gather(repeated) })
            let truth = filter.evaluate(EvaluationInput(batch: pairs, now: context.now, context: context))
            matched = truth.bools
            if truth.hasNulls { for i in 0..<p where truth.isNull(i) { matched[i] = false } }
        } else {
            matched = [Bool](repeating: Self.accepted(accept, row), count: p)
        }
        guard matched.contains(true) else { return [] }
        var kept: [Int] = []
        var taken: [(values: [Value], first: Int64)] = []
        let event = chunk.values(at: row)
        for i in 0..<p {
            guard matched[i] else {
                kept.append(i)
                continue
            }
            taken.append((combine(partials.values(at: i), event), partials.timestamps[i]))
        }
        partials = kept.count == p ? partials : partials.gather(kept)
        return taken
    }

    /// A partial completed element `j`: it is a match, or waits for the next element.
    private func finish(_ j: Int, _ values: [Value], firstAt first: Int64, at time: Int64, into out: inout EventBatch) {
        if j == elements.count - 1 {
            out.append(timestamp: time, values: values)
        } else {
            waiting[j + 1].append(timestamp: first, values: values)
        }
    }

    /// Drops partials whose first event is older than `limit`.
    private func purge(olderThan limit: Int64) {
        func stale(_ batch: EventBatch) -> Bool { batch.timestamps.contains { $0 < limit } }
        func purged(_ batch: EventBatch) -> EventBatch { batch.gather(batch.timestamps.indices.filter { batch.timestamps[$0] >= limit }) }
        // Read before writing: most events find nothing to drop, and a write would copy-check every batch.
        for j in 1..<waiting.count where stale(waiting[j]) { waiting[j] = purged(waiting[j]) }
        for j in halves.indices { for side in halves[j].indices where stale(halves[j][side]) { halves[j][side] = purged(halves[j][side]) } }
    }

    func snapshot(into w: inout StateWriter) {
        w.write(started)
        for j in 1..<waiting.count { w.write(waiting[j]) }
        for j in halves.indices { for half in halves[j] { w.write(half) } }
    }

    func restore(from r: inout StateReader) throws {
        started = try r.readBool()
        for j in 1..<waiting.count { waiting[j] = try r.readBatch() }
        for j in halves.indices { for side in halves[j].indices { halves[j][side] = try r.readBatch() } }
    }
}
