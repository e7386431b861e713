import SluiceCore

/// A pattern (`A -> B`) or sequence (`A, B`) with Siddhi 5's semantics, over the elements of
/// `PatternElement`. Partial matches wait per element in columnar pools, in creation order.
/// Each arriving event is offered to the elements last first, so that one event never plays two
/// parts of one match and the next element wins over a count that could also take it. In a
/// pattern, a partial waits through events that do not advance it; in a sequence, the next event
/// of the query's streams must advance it or it is dropped, and at most one partial enters an
/// element per event. Absences complete on the engine clock's timers. A partial whose first event
/// is older than `within` is dropped when a later event arrives.
final class PatternProcessor: Processor, Snapshottable, TimeDriven {
    enum Restart: Equatable {
        /// No `every`: one start, ever.
        case once
        /// `every` on the first element: a new start as soon as the first element has taken its
        /// events (every event, for one stream event).
        case eachFirst
        /// `every (…)` around the first `elements` elements (the whole chain, or a group that more
        /// elements follow): a new start only when no partial is inside that group.
        case afterGroup(elements: Int)
    }

    let elements: [PatternElement]
    /// Elements with `every` after the first: a partial stays to match again (a copy moves on).
    let repeating: Set<Int>
    let isSequence: Bool
    let restart: Restart
    let within: Int64?
    let context: ExecutionContext
    let scheduler: Scheduler
    /// Emit each arriving event's matches as a chunk of its own (the selector's output depends on chunking).
    var chunkPerArrival = true
    /// `pools[j]`: partials at element j. A first element of one stream event has no pool: `startArmed` stands for its start.
    private var pools: [PartialPool]
    private var startArmed = true
    /// Where each element's columns start in a match.
    private let starts: [Int]
    /// Each element's last column: a count's number of events, an absence's (or `and`/`or`'s) deadline.
    private let lastColumns: [Int]
    /// The streams each element reads (looked up per event: kept, not recomputed).
    private let streams: [[String]]
    private let outputTypes: [AttributeType]
    private let last: Int
    /// Counts arriving events; a sequence keeps the partials the latest one advanced.
    private var arrival = 0
    /// The arrival at which a partial last entered each element (a sequence lets one in per event).
    private var lastEntry: [Int]
    private var timerID = -1
    /// A first element that takes steps starts at the clock's first position, not at deploy.
    private var startPending = false

    init(elements: [PatternElement], repeating: Set<Int> = [], isSequence: Bool, restart: Restart, within: Int64?, context: ExecutionContext,
         scheduler: Scheduler) {
        self.elements = elements
        self.repeating = repeating
        self.isSequence = isSequence
        self.restart = restart
        self.within = within
        self.context = context
        self.scheduler = scheduler
        var pools: [PartialPool] = []
        var starts: [Int] = []
        var captured: [AttributeType] = []
        for element in elements {
            starts.append(captured.count)
            pools.append(PartialPool(types: captured + (element.takesSteps ? element.columnTypes : [])))
            captured += element.columnTypes
        }
        self.pools = pools
        self.starts = starts
        lastColumns = elements.indices.map { (j: Int) -> Int in starts[j] + elements[j].columnTypes.count - 1 }
        streams = elements.map { $0.leaves.map(\.stream) }
        outputTypes = captured
        last = elements.count - 1
        lastEntry = [Int](repeating: -1, count: elements.count)
        super.init()
        timerID = scheduler.register(self)
        if elements[0].takesSteps {
            if context.clockStarted { clockStarts(at: context.now) } else { startPending = true }
        }
    }

    /// The engine clock's first position (a query planned later, in a partition, starts at once).
    func clockStarts(at time: Int64) {
        guard startPending else { return }
        startPending = false
        var ignored = EventBatch(types: outputTypes)
        enter(0, [], first: PartialPool.noEvent, at: time, into: &ignored, isStart: true)
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
            arrival += 1
            if let within { for j in pools.indices { pools[j].purge(olderThan: ts - within) } }
            rearm(at: ts, into: &out)
            for j in stride(from: last, through: 0, by: -1) where streams[j].contains(stream) {
                step(j, stream, chunk, row, accepts[j], into: &out)
            }
            if isSequence {
                for j in pools.indices { pools[j].keepAdvanced(at: arrival) }
                if restart == .once { startArmed = false }
            }
            if chunkPerArrival && !out.isEmpty {
                emit(out)
                out = EventBatch(types: outputTypes)
            }
        }
        emit(out)
    }

    /// Provides the next start, as `restart` says.
    private func rearm(at time: Int64, into out: inout EventBatch) {
        switch restart {
        case .once:
            return
        case .eachFirst:
            switch elements[0] {
            case .single: return
            case .count: if !hasFreshStart { enter(0, [], first: PartialPool.noEvent, at: time, into: &out, isStart: true) }
            default: if pools[0].isEmpty { enter(0, [], first: PartialPool.noEvent, at: time, into: &out, isStart: true) }
            }
        case .afterGroup(let end):
            let idle = pools[..<end].allSatisfy(\.isEmpty)
            if elements[0].takesSteps {
                if idle { enter(0, [], first: PartialPool.noEvent, at: time, into: &out, isStart: true) }
            } else {
                startArmed = idle
            }
        }
    }

    /// Whether the first element, a count, has a start that holds no event yet.
    private var hasFreshStart: Bool {
        pools[0].rows.columns[lastColumns[0]].longs.contains(0)
    }


    private static func accepted(_ column: Column?, _ row: Int) -> Bool {
        guard let column else { return true }
        return column.bools[row] && !column.isNull(row)
    }

    /// Which of `rows` of pool `p` `leaf` accepts event `row` for, its filter reading the first `sees` columns of each partial.
    private func accepted(_ leaf: PatternLeaf, _ accept: Column?, pool p: Int, rows: [Int], sees: Int,
                          _ chunk: EventBatch, _ row: Int) -> [Bool] {
        guard leaf.readsEarlier, let filter = leaf.filter else {
            return [Bool](repeating: Self.accepted(accept, row), count: rows.count)
        }
        let pool = pools[p].rows
        let all = rows.count == pool.count
        let captured = pool.columns.prefix(sees).map { all ? $0 : $0.gather(rows) }
        let repeated = [Int](repeating: row, count: rows.count)
        let pairs = EventBatch(timestamps: all ? pool.timestamps : rows.map { pool.timestamps[$0] },
                               columns: captured + chunk.columns.map { $0.gather(repeated) })
        let truth = filter.evaluate(EvaluationInput(batch: pairs, now: context.now, context: context))
        return rows.indices.map { truth.bools[$0] && !truth.isNull($0) }
    }

    /// Offers event `row` of `stream` to element `j`.
    private func step(_ j: Int, _ stream: String, _ chunk: EventBatch, _ row: Int, _ accepts: [Column?], into out: inout EventBatch) {
        switch elements[j] {
        case .single(let leaf):
            if j == 0 {
                guard startArmed, Self.accepted(accepts[0], row) else { return }
                if restart == .once { startArmed = false }
                start(chunk, row, into: &out)
                return
            }
            // A count before this element hands over the partials that have enough events.
            if case .count(_, let min, _, _, _) = elements[j - 1] { take(j, from: j - 1, minimum: min, leaf, accepts[0], chunk, row, into: &out) }
            take(j, from: j, minimum: nil, leaf, accepts[0], chunk, row, into: &out)
        case .count(let leaf, let min, let max, let head, let tail):
            collect(j, leaf, min: min, max: max, head: head, tail: tail, accepts[0], chunk, row, into: &out)
        case .logical(let isAnd, let left, let right):
            logical(j, isAnd: isAnd, [left, right], stream, accepts, chunk, row, into: &out)
        case .absent(let leaf, let waitFor):
            absentArrives(j, leaf, waitFor: waitFor, accepts[0], chunk, row)
        }
    }

    /// A first element of one stream event accepts event `row`.
    private func start(_ chunk: EventBatch, _ row: Int, into out: inout EventBatch) {
        if last == 0 {
            out.append(from: chunk, row: row)
        } else if !elements[1].takesSteps && !isSequence {
            pools[1].append(from: chunk, row: row, arrival: arrival)
        } else {
            let ts = chunk.timestamps[row]
            enter(1, chunk.values(at: row), first: ts, at: ts, into: &out)
        }
    }

    /// Partials of pool `p` (with at least `minimum` events, for a count) that element `j`, one stream event, accepts event `row` for.
    private func take(_ j: Int, from p: Int, minimum: Int?, _ leaf: PatternLeaf, _ accept: Column?, _ chunk: EventBatch, _ row: Int,
                      into out: inout EventBatch) {
        let pool = pools[p]
        // Most events are refused by a filter that reads only them: decide before looking at the partials.
        guard !pool.isEmpty, leaf.readsEarlier || Self.accepted(accept, row) else { return }
        var candidates = Array(0..<pool.count)
        if let minimum {
            let counts = pool.rows.columns[lastColumns[p]].longs
            candidates = candidates.filter { counts[$0] >= minimum }
        }
        guard !candidates.isEmpty else { return }
        let ok = accepted(leaf, accept, pool: p, rows: candidates, sees: starts[j], chunk, row)
        guard ok.contains(true) else { return }
        let ts = chunk.timestamps[row]
        let event = chunk.values(at: row)
        var removed = [Bool](repeating: false, count: pool.count)
        let stays = p == j && repeating.contains(j)
        for (k, i) in candidates.enumerated() where ok[k] {
            removed[i] = !stays
            finish(j, pool.rows.values(at: i) + event, first: Self.first(pool.rows.timestamps[i], ts), at: ts, into: &out)
        }
        if !stays { pools[p].edit(removed: removed, replaced: [:], arrival: arrival) }
    }

    private static func first(_ held: Int64, _ now: Int64) -> Int64 { held == PartialPool.noEvent ? now : held }

    /// A count adds event `row` to the partials it accepts it for.
    private func collect(_ j: Int, _ leaf: PatternLeaf, min: Int, max: Int, head: Int, tail: Int, _ accept: Column?,
                         _ chunk: EventBatch, _ row: Int, into out: inout EventBatch) {
        let pool = pools[j]
        guard !pool.isEmpty, leaf.readsEarlier || Self.accepted(accept, row) else { return }
        let c = lastColumns[j]
        let counts = pool.rows.columns[c].longs
        let candidates = (0..<pool.count).filter { counts[$0] < max }
        guard !candidates.isEmpty else { return }
        let width = leaf.types.count
        let ok = accepted(leaf, accept, pool: j, rows: candidates, sees: starts[j] + (head + tail) * width, chunk, row)
        guard ok.contains(true) else { return }
        let ts = chunk.timestamps[row]
        let event = chunk.values(at: row)
        var removed: [Bool]?
        var replaced: [Int: (first: Int64, values: [Value])] = [:]
        for (k, i) in candidates.enumerated() where ok[k] {
            if isSequence {
                guard lastEntry[j] != arrival else { continue }
                lastEntry[j] = arrival
            }
            var values = pool.rows.values(at: i)
            let collected = Int(counts[i])
            if collected < head { values.replaceSubrange(starts[j] + collected * width ..< starts[j] + (collected + 1) * width, with: event) }
            if tail > 0 {
                // The last `tail` events, newest first.
                let tailStart = starts[j] + head * width
                values.replaceSubrange(tailStart ..< tailStart + tail * width,
                                       with: event + values[tailStart ..< tailStart + (tail - 1) * width])
            }
            values[c] = .long(Int64(collected + 1))
            let first = Self.first(pool.rows.timestamps[i], ts)
            if j == last && collected + 1 >= min {
                // A count that ends the pattern matches as soon as it has its minimum.
                if removed == nil { removed = [Bool](repeating: false, count: pool.count) }
                removed?[i] = true
                out.append(timestamp: ts, values: values)
            } else {
                replaced[i] = (first, values)
            }
        }
        pools[j].edit(removed: removed, replaced: replaced, arrival: arrival)
    }

    /// `and` / `or`: event `row` fills the sides it is accepted for, breaks an absence, or completes the element.
    private func logical(_ j: Int, isAnd: Bool, _ sides: [PatternSide], _ stream: String, _ accepts: [Column?], _ chunk: EventBatch,
                         _ row: Int, into out: inout EventBatch) {
        let pool = pools[j]
        guard !pool.isEmpty else { return }
        let rows = Array(0..<pool.count)
        let ok: [[Bool]?] = sides.indices.map { s in
            sides[s].leaf.stream == stream ? accepted(sides[s].leaf, accepts[s], pool: j, rows: rows, sees: starts[j], chunk, row) : nil
        }
        let ts = chunk.timestamps[row]
        let leftWidth = sides[0].eventTypes.count
        let stateColumn = starts[j] + leftWidth + sides[1].eventTypes.count
        var removed: [Bool]?
        var replaced: [Int: (first: Int64, values: [Value])] = [:]
        for i in rows {
            var state = pool.rows.columns[stateColumn].longs[i]
            var values: [Value]?
            var first = pool.rows.timestamps[i]
            var dropped = false
            for s in sides.indices {
                // With both sides accepting one event, `or` takes the left.
                if !isAnd && Self.isComplete(state, isAnd: isAnd, sides) { break }
                guard let ok = ok[s], ok[i] else { continue }
                switch sides[s] {
                case .event:
                    let bit = s == 0 ? PatternElement.leftTaken : PatternElement.rightTaken
                    guard state & bit == 0 else { continue }
                    var v = values ?? pool.rows.values(at: i)
                    let at = starts[j] + (s == 0 ? 0 : leftWidth)
                    v.replaceSubrange(at ..< at + sides[s].eventTypes.count, with: chunk.values(at: row))
                    values = v
                    state |= bit
                    first = Self.first(first, ts)
                case .absent(_, let waitFor):
                    guard state & (PatternElement.absenceOver | PatternElement.absenceBroken) == 0 else { continue }
                    if j == 0, let waitFor {
                        // The first element's quiet period starts over.
                        var v = values ?? pool.rows.values(at: i)
                        v[stateColumn + 1] = .long(ts + waitFor)
                        values = v
                        scheduler.schedule(timerID, at: ts + waitFor)
                    } else if isAnd {
                        dropped = true
                    } else {
                        state |= PatternElement.absenceBroken
                        values = values ?? pool.rows.values(at: i)
                    }
                }
            }
            guard dropped || values != nil else { continue }
            if dropped || Self.isComplete(state, isAnd: isAnd, sides) {
                if removed == nil { removed = [Bool](repeating: false, count: pool.count) }
                removed?[i] = true
                if !dropped, var v = values {
                    v[stateColumn] = .long(state)
                    finish(j, v, first: first, at: ts, into: &out)
                }
            } else if var v = values {
                v[stateColumn] = .long(state)
                replaced[i] = (first, v)
            }
        }
        pools[j].edit(removed: removed, replaced: replaced, arrival: arrival)
    }

    private static func isComplete(_ state: Int64, isAnd: Bool, _ sides: [PatternSide]) -> Bool {
        let done = sides.indices.map { s -> Bool in
            switch sides[s] {
            case .event: state & (s == 0 ? PatternElement.leftTaken : PatternElement.rightTaken) != 0
            case .absent(_, .some): state & PatternElement.absenceOver != 0 && state & PatternElement.absenceBroken == 0
            // Without `for`, the absence holds until the other side arrives.
            case .absent(_, nil): true
            }
        }
        return isAnd ? done.allSatisfy { $0 } : done.contains(true)
    }

    /// `not S for t`: an accepted event of S ends the partials it is accepted for, or restarts the first element's quiet period.
    private func absentArrives(_ j: Int, _ leaf: PatternLeaf, waitFor: Int64, _ accept: Column?, _ chunk: EventBatch, _ row: Int) {
        let pool = pools[j]
        guard !pool.isEmpty else { return }
        let rows = Array(0..<pool.count)
        let ok = accepted(leaf, accept, pool: j, rows: rows, sees: starts[j], chunk, row)
        guard ok.contains(true) else { return }
        if j == 0 {
            let ts = chunk.timestamps[row]
            var replaced: [Int: (first: Int64, values: [Value])] = [:]
            for i in rows where ok[i] {
                var v = pool.rows.values(at: i)
                v[v.count - 1] = .long(ts + waitFor)
                replaced[i] = (pool.rows.timestamps[i], v)
            }
            pools[j].edit(removed: nil, replaced: replaced, arrival: arrival)
            scheduler.schedule(timerID, at: ts + waitFor)
        } else {
            pools[j].edit(removed: ok, replaced: [:], arrival: arrival)
        }
    }

    /// Absences whose time is up complete.
    func onTime(_ time: Int64) {
        var out = EventBatch(types: outputTypes)
        for j in elements.indices where elements[j].waitFor != nil && !pools[j].isEmpty {
            let pool = pools[j]
            let deadlines = pool.rows.columns[lastColumns[j]].longs
            var removed = [Bool](repeating: false, count: pool.count)
            var replaced: [Int: (first: Int64, values: [Value])] = [:]
            for i in 0..<pool.count where deadlines[i] <= time {
                var v = pool.rows.values(at: i)
                switch elements[j] {
                case .logical(let isAnd, let left, let right):
                    let stateColumn = v.count - 2
                    guard case .long(var state) = v[stateColumn],
                          state & (PatternElement.absenceOver | PatternElement.absenceBroken) == 0 else { continue }
                    state |= PatternElement.absenceOver
                    v[stateColumn] = .long(state)
                    if Self.isComplete(state, isAnd: isAnd, [left, right]) {
                        removed[i] = true
                        finish(j, v, first: pool.rows.timestamps[i], at: deadlines[i], into: &out)
                    } else {
                        replaced[i] = (pool.rows.timestamps[i], v)
                    }
                case .absent(_, let waitFor) where repeating.contains(j):
                    // `every not S for t` waits again.
                    finish(j, v, first: pool.rows.timestamps[i], at: deadlines[i], into: &out)
                    v[v.count - 1] = .long(deadlines[i] + waitFor)
                    replaced[i] = (pool.rows.timestamps[i], v)
                    scheduler.schedule(timerID, at: deadlines[i] + waitFor)
                default:
                    removed[i] = true
                    finish(j, v, first: pool.rows.timestamps[i], at: deadlines[i], into: &out)
                }
            }
            pools[j].edit(removed: removed, replaced: replaced, arrival: arrival)
        }
        rearm(at: time, into: &out)
        emit(out)
    }

    /// A partial completed element `j`: it is a match, or moves on to the next element.
    private func finish(_ j: Int, _ values: [Value], first: Int64, at time: Int64, into out: inout EventBatch) {
        if j == last {
            out.append(timestamp: time, values: values)
        } else {
            enter(j + 1, values, first: first, at: time, into: &out)
        }
    }

    /// A partial arrives at element `j`, which adds its own columns when it takes more than one step.
    private func enter(_ j: Int, _ values: [Value], first: Int64, at time: Int64, into out: inout EventBatch, isStart: Bool = false) {
        if isSequence && !isStart {
            guard lastEntry[j] != arrival else { return }
            lastEntry[j] = arrival
        }
        let element = elements[j]
        guard element.takesSteps else {
            pools[j].append(first: first, values: values, arrival: arrival)
            return
        }
        var row = values + [Value](repeating: .null, count: element.columnTypes.count)
        switch element {
        case .count(_, let min, _, _, _):
            row[row.count - 1] = .long(0)
            // `<0:m>` (and `*`, `?`) at the end matches with no event at once.
            if min == 0 && j == last {
                out.append(timestamp: time, values: row)
                return
            }
        case .logical:
            row[row.count - 2] = .long(0)
            row[row.count - 1] = .long(element.waitFor.map { time + $0 } ?? 0)
        case .absent(_, let waitFor):
            row[row.count - 1] = .long(time + waitFor)
        case .single:
            break
        }
        pools[j].append(first: first, values: row, arrival: arrival)
        if let waitFor = element.waitFor { scheduler.schedule(timerID, at: time + waitFor) }
    }

    func snapshot(into w: inout StateWriter) {
        w.write(startArmed)
        w.write(startPending)
        for pool in pools { pool.snapshot(into: &w) }
    }

    func restore(from r: inout StateReader) throws {
        startArmed = try r.readBool()
        startPending = try r.readBool()
        for j in pools.indices { try pools[j].restore(from: &r) }
    }

    /// Timers are not in snapshots: asks again for every absence still running.
    func rearm() {
        for j in elements.indices where elements[j].waitFor != nil {
            let columns = pools[j].rows.columns
            let deadlines = columns[lastColumns[j]].longs
            for i in deadlines.indices {
                if case .logical = elements[j],
                   columns[columns.count - 2].longs[i] & (PatternElement.absenceOver | PatternElement.absenceBroken) != 0 { continue }
                scheduler.schedule(timerID, at: deadlines[i])
            }
        }
    }
}
