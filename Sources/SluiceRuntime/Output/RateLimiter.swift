import SluiceCore
import SluiceQL

/// `output [all|first|last] every N events`, `… every T`, and `output snapshot every T`.
/// Time-based limiters run on the engine clock; their period starts with the first event they see.
final class RateLimiter: Processor, Snapshottable, TimeDriven {
    enum Mode {
        case events(OutputRate.Kind, Int)
        case time(OutputRate.Kind, Int64)
        case snapshot(Int64)
    }

    let mode: Mode
    let types: [AttributeType]
    let context: ExecutionContext
    let scheduler: Scheduler
    /// The selector whose group ids describe each emitted row (nil without `group by`).
    let selector: QuerySelector?
    /// With aggregates, a snapshot holds the latest row (per group); without, the window's contents.
    let snapshotOfAggregates: Bool

    private var counter = 0
    private var pending: EventBatch
    private var pendingGroups: [Int32] = []
    private var firstSeenGroups: Set<Int32> = []
    private var groupCounters: [Int32: Int] = [:]
    private var lastEmitted: [Int32: Int64] = [:]
    private var nextTick: Int64?
    private var timerID = -1

    init(mode: Mode, types: [AttributeType], context: ExecutionContext, scheduler: Scheduler,
         selector: QuerySelector?, snapshotOfAggregates: Bool) {
        self.mode = mode
        self.types = types
        self.context = context
        self.scheduler = scheduler
        self.selector = selector
        self.snapshotOfAggregates = snapshotOfAggregates
        self.pending = EventBatch(types: types)
        super.init()
        timerID = scheduler.register(self)
    }

    private var grouped: Bool { selector.map { !$0.groupBy.isEmpty } ?? false }

    override func process(_ chunk: EventBatch) {
        let groupIDs = grouped ? (selector?.emittedGroupIDs ?? []) : []
        switch mode {
        case .events(let kind, let n):
            var out = EventBatch(types: types)
            for row in 0..<chunk.count {
                let g = groupIDs.isEmpty ? 0 : groupIDs[row]
                switch kind {
                case .all:
                    pending.append(from: chunk, row: row)
                case .first where grouped:
                    // Each group counts its own events: its first of every n is emitted.
                    let seen = groupCounters[g, default: 0]
                    if seen == 0 { out.append(from: chunk, row: row) }
                    groupCounters[g] = seen + 1 == n ? 0 : seen + 1
                case .first:
                    if counter == 0 { out.append(from: chunk, row: row) }
                case .last:
                    keepLast(chunk, row, group: g)
                }
                counter += 1
                if counter == n {
                    counter = 0
                    firstSeenGroups.removeAll()
                    if kind != .first {
                        out.append(from: pending, rows: 0..<pending.count)
                        pending.removeAll()
                        pendingGroups.removeAll()
                    }
                }
            }
            emit(out)
        case .time(.first, let period):
            // Siddhi's first-per-time needs no timer: an event passes once `period` has gone by
            // since the last one that passed (per group).
            var out = EventBatch(types: types)
            for row in 0..<chunk.count {
                let g = groupIDs.isEmpty ? 0 : groupIDs[row]
                if let last = lastEmitted[g], last + period > context.now { continue }
                lastEmitted[g] = context.now
                out.append(from: chunk, row: row)
                if !grouped { break }
            }
            emit(out)
        case .time(let kind, let period):
            startClock(period)
            var out = EventBatch(types: types)
            for row in 0..<chunk.count {
                let g = groupIDs.isEmpty ? 0 : groupIDs[row]
                switch kind {
                case .all: pending.append(from: chunk, row: row)
                case .first:
                    if firstSeenGroups.insert(g).inserted { out.append(from: chunk, row: row) }
                case .last: keepLast(chunk, row, group: g)
                }
            }
            emit(out)
        case .snapshot(let period):
            startClock(period)
            for row in 0..<chunk.count {
                let g = groupIDs.isEmpty ? 0 : groupIDs[row]
                if snapshotOfAggregates {
                    keepLast(chunk, row, group: g)
                } else if chunk.kinds[row] == .current {
                    pending.append(from: chunk, row: row, kind: .current)
                } else if let match = (0..<pending.count).first(where: { sameData(pending, $0, chunk, row) }) {
                    pending.remove(at: match)
                }
            }
        }
    }

    /// Keeps only the latest row (per group, groups in first-seen order).
    private func keepLast(_ chunk: EventBatch, _ row: Int, group: Int32) {
        if !grouped {
            pending.removeAll()
            pending.append(from: chunk, row: row)
            return
        }
        if let i = pendingGroups.firstIndex(of: group) {
            pending.replace(row: i, with: chunk, row: row)
        } else {
            pending.append(from: chunk, row: row)
            pendingGroups.append(group)
        }
    }

    private func sameData(_ a: EventBatch, _ i: Int, _ b: EventBatch, _ j: Int) -> Bool {
        for c in 0..<a.columns.count where RowOrdering.compareCells(a.columns[c], i, b.columns[c], j) != 0 { return false }
        return true
    }

    private func startClock(_ period: Int64) {
        guard nextTick == nil else { return }
        nextTick = context.now + period
        rearm()
    }

    func rearm() {
        guard let nextTick else { return }
        scheduler.schedule(timerID, at: nextTick)
    }

    func releaseTimer() { scheduler.unregister(timerID) }

    func onTime(_ time: Int64) {
        guard let tick = nextTick, tick <= time else { return }
        let period: Int64
        switch mode {
        case .time(_, let p), .snapshot(let p): period = p
        case .events: return
        }
        nextTick = tick + period
        rearm()
        firstSeenGroups.removeAll()
        guard !pending.isEmpty else { return }
        var out = pending
        for i in 0..<out.count { out.timestamps[i] = tick }
        if case .snapshot = mode {
            if snapshotOfAggregates { out.kinds = [EventKind](repeating: .current, count: out.count) }
        } else {
            pending.removeAll()
            pendingGroups.removeAll()
        }
        emit(out)
    }

    func snapshot(into w: inout StateWriter) {
        w.write(counter)
        w.write(pending)
        w.write(pendingGroups.map { Int64($0) })
        w.write(firstSeenGroups.sorted().map { Int64($0) })
        let counters = groupCounters.sorted { $0.key < $1.key }
        w.write(counters.map { Int64($0.key) })
        w.write(counters.map { Int64($0.value) })
        let emitted = lastEmitted.sorted { $0.key < $1.key }
        w.write(emitted.map { Int64($0.key) })
        w.write(emitted.map(\.value))
        w.write(nextTick)
    }

    func restore(from r: inout StateReader) throws {
        counter = try r.readInt()
        pending = try r.readBatch()
        pendingGroups = try r.readLongs().map { Int32($0) }
        firstSeenGroups = Set(try r.readLongs().map { Int32($0) })
        let counterKeys = try r.readLongs()
        let counterValues = try r.readLongs()
        groupCounters = Dictionary(uniqueKeysWithValues: zip(counterKeys.map { Int32($0) }, counterValues.map { Int($0) }))
        let emittedKeys = try r.readLongs()
        let emittedValues = try r.readLongs()
        lastEmitted = Dictionary(uniqueKeysWithValues: zip(emittedKeys.map { Int32($0) }, emittedValues))
        nextTick = try r.readOptionalInt64()
    }
}
