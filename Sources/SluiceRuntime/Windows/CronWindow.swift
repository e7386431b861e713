import SluiceCore

/// `cron('<expression>')`: collects events and, at each time the Quartz cron expression names
/// (UTC, on the engine clock), emits them as one batch, after the previous batch as expired events
/// stamped with that time. As Siddhi's CronWindowProcessor, it emits nothing at a time when no event
/// arrived since the last batch (the previous batch then waits for the next one), emits no reset,
/// and always carries the expired events, so aggregates over it restart with each batch.
final class CronWindow: WindowProcessor {
    let cron: CronSchedule
    private var current: EventQueue
    private var previous: EventQueue
    /// The next firing time while events wait; nil while none do.
    private var nextFire: Int64?

    init(cron: CronSchedule, types: [AttributeType], context: ExecutionContext, scheduler: Scheduler) {
        self.cron = cron
        current = EventQueue(types: types)
        previous = EventQueue(types: types)
        super.init(types: types, context: context, scheduler: scheduler)
    }

    override func process(_ chunk: EventBatch) {
        var start: Int?
        func endRun(before row: Int) {
            if let s = start { current.append(from: chunk, rows: s..<row) }
            start = nil
        }
        for row in 0..<chunk.count {
            guard chunk.kinds[row] == .current else {
                endRun(before: row)
                continue
            }
            let ts = chunk.timestamps[row]
            if let due = nextFire, due <= ts {
                endRun(before: row)
                fire(upTo: ts)
            }
            if nextFire == nil { nextFire = cron.next(after: ts) }
            if start == nil { start = row }
        }
        endRun(before: chunk.count)
        rearm()
    }

    /// Emits the waiting events at the firing time due by `time`, if one is.
    private func fire(upTo time: Int64) {
        guard let due = nextFire, due <= time else { return }
        nextFire = nil
        guard !current.isEmpty else { return }
        var out = newBatch(capacity: previous.count + current.count)
        previous.copyAll(into: &out, kind: .expired, timestamp: due)
        current.copyAll(into: &out, kind: .current)
        previous = current
        current.removeAll()
        emit(out)
    }

    override func timerFired(at time: Int64) {
        fire(upTo: time)
        rearm()
    }

    override func rearm() {
        if let nextFire, !current.isEmpty { arm(at: nextFire) }
    }

    override func snapshot(into w: inout StateWriter) {
        current.snapshot(into: &w)
        previous.snapshot(into: &w)
        w.write(nextFire)
    }

    override func restore(from r: inout StateReader) throws {
        try current.restore(from: &r)
        try previous.restore(from: &r)
        nextFire = try r.readOptionalInt64()
    }
}
