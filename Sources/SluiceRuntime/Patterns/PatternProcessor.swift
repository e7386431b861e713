import SluiceCore

/// A pattern `[every] e1=A[f1] -> e2=B[f2] -> … [within t]` (Siddhi's pattern semantics, without
/// counting, logical or absent elements). Partial matches wait, per element, in columnar form:
/// the captured events so far beside the time of the first. Each arriving event is offered first to
/// the partials waiting for a later element (last element first, so that an event never plays two
/// elements of one match), then may start a match. A partial whose first event is older than
/// `within` is dropped when a later event arrives.
final class PatternProcessor: Processor, Snapshottable {
    enum Restart {
        /// No `every`: the first element matches once, ever.
        case once
        /// `every e1=A -> …`: every event the first element accepts starts a match.
        case eachFirst
        /// `every (e1=A -> …)`: a new match starts only when none is in progress.
        case afterEachMatch
    }

    struct Element {
        var stream: String
        var types: [AttributeType]
        /// Over the captured events then this one; nil accepts every event.
        var filter: CompiledExpression?
        /// Whether the filter reads earlier events (else it is evaluated once per chunk).
        var readsEarlier: Bool
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
    private var started = false
    private let outputTypes: [AttributeType]

    init(elements: [Element], restart: Restart, within: Int64?, context: ExecutionContext) {
        self.elements = elements
        self.restart = restart
        self.within = within
        self.context = context
        var waiting: [EventBatch] = [EventBatch(types: [])]
        var captured: [AttributeType] = []
        for element in elements.dropLast() {
            captured += element.types
            waiting.append(EventBatch(types: captured))
        }
        self.waiting = waiting
        outputTypes = elements.flatMap(\.types)
    }

    /// Events of `stream` arrive.
    func arrive(_ chunk: EventBatch, stream: String) {
        let input = EvaluationInput(batch: chunk, now: context.now, context: context)
        // Filters that read only the arriving event, once per chunk.
        var accepts: [Column?] = []
        for element in elements {
            accepts.append(element.stream == stream && !element.readsEarlier ? element.filter.map { $0.evaluate(input) } : nil)
        }
        var out = EventBatch(types: outputTypes)
        for row in 0..<chunk.count where chunk.kinds[row] == .current {
            let ts = chunk.timestamps[row]
            if let within { purge(olderThan: ts - within) }
            let completed = out.count
            for j in stride(from: elements.count - 1, through: 1, by: -1) where elements[j].stream == stream && !waiting[j].isEmpty {
                advance(j, chunk, row, accepts[j], into: &out)
            }
            // `every (…)` starts over with the events after a match, not with the one that completed it.
            let justMatched = out.count > completed
            if elements[0].stream == stream, canStart, !(restart == .afterEachMatch && justMatched), Self.accepted(accepts[0], row) {
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
        case .afterEachMatch: waiting.allSatisfy(\.isEmpty)
        }
    }

    private static func accepted(_ column: Column?, _ row: Int) -> Bool {
        guard let column else { return true }
        return column.bools[row] && !column.isNull(row)
    }

    /// Offers event `row` to the partials waiting for element `j`; those it satisfies move on.
    private func advance(_ j: Int, _ chunk: EventBatch, _ row: Int, _ accept: Column?, into out: inout EventBatch) {
        let partials = waiting[j]
        let p = partials.count
        var matched: [Bool]
        let element = elements[j]
        if element.readsEarlier, let filter = element.filter {
            let repeated = [Int](repeating: row, count: p)
            let pairs = EventBatch(timestamps: partials.timestamps, kinds: partials.kinds,
                                   columns: partials.columns + chunk.columns.map { $0.gather(repeated) })
            let truth = filter.evaluate(EvaluationInput(batch: pairs, now: context.now, context: context))
            matched = truth.bools
            if truth.hasNulls { for i in 0..<p where truth.isNull(i) { matched[i] = false } }
        } else {
            matched = [Bool](repeating: Self.accepted(accept, row), count: p)
        }
        guard matched.contains(true) else { return }
        var kept: [Int] = []
        let last = j == elements.count - 1
        for i in 0..<p {
            guard matched[i] else {
                kept.append(i)
                continue
            }
            // The partial's events, then this one.
            var values = partials.values(at: i)
            values += chunk.values(at: row)
            if last {
                out.append(timestamp: chunk.timestamps[row], values: values)
            } else {
                waiting[j + 1].append(timestamp: partials.timestamps[i], values: values)
            }
        }
        waiting[j] = kept.count == p ? partials : partials.gather(kept)
    }

    /// Drops partials whose first event is older than `limit`.
    private func purge(olderThan limit: Int64) {
        for j in 1..<waiting.count where !waiting[j].isEmpty && waiting[j].timestamps.contains(where: { $0 < limit }) {
            let kept = waiting[j].timestamps.indices.filter { waiting[j].timestamps[$0] >= limit }
            waiting[j] = waiting[j].gather(kept)
        }
    }

    func snapshot(into w: inout StateWriter) {
        w.write(started)
        for j in 1..<waiting.count { w.write(waiting[j]) }
    }

    func restore(from r: inout StateReader) throws {
        started = try r.readBool()
        for j in 1..<waiting.count { waiting[j] = try r.readBatch() }
    }
}
