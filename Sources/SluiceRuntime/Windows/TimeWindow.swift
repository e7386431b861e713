import SluiceCore

/// `time(t)`: events of the last t milliseconds. An event expires when the clock reaches ts + t,
/// either on a later arrival (before it) or on a timer.
final class TimeWindow: WindowProcessor {
    let duration: Int64
    private var queue: EventQueue

    init(duration: Int64, types: [AttributeType], context: ExecutionContext, scheduler: Scheduler) {
        self.duration = duration
        self.queue = EventQueue(types: types)
        super.init(types: types, context: context, scheduler: scheduler)
    }

    private func expire(upTo now: Int64, into out: inout EventBatch) {
        while !queue.isEmpty && queue.timestamp(0) + duration <= now {
            queue.popFirst(into: &out, timestamp: now)
        }
    }

    override func process(_ chunk: EventBatch) {
        var out = newBatch(capacity: chunk.count * 2)
        for row in 0..<chunk.count where chunk.kinds[row] == .current {
            let ts = chunk.timestamps[row]
            expire(upTo: ts, into: &out)
            out.append(from: chunk, row: row)
            queue.append(from: chunk, row: row)
        }
        emit(out)
        rearm()
    }

    override func timerFired(at time: Int64) {
        var out = newBatch()
        expire(upTo: time, into: &out)
        emit(out)
        rearm()
    }

    override func rearm() {
        if !queue.isEmpty { arm(at: queue.timestamp(0) + duration) }
    }

    override func snapshot(into w: inout StateWriter) { queue.snapshot(into: &w) }
    override func restore(from r: inout StateReader) throws { try queue.restore(from: &r) }
}

/// `timeLength(t, n)`: at most n events, none older than t.
final class TimeLengthWindow: WindowProcessor {
    let duration: Int64
    let length: Int
    private var queue: EventQueue

    init(duration: Int64, length: Int, types: [AttributeType], context: ExecutionContext, scheduler: Scheduler) {
        self.duration = duration
        self.length = length
        self.queue = EventQueue(types: types)
        super.init(types: types, context: context, scheduler: scheduler)
    }

    private func expire(upTo now: Int64, into out: inout EventBatch) {
        while !queue.isEmpty && queue.timestamp(0) + duration <= now {
            queue.popFirst(into: &out, timestamp: now)
        }
    }

    override func process(_ chunk: EventBatch) {
        var out = newBatch(capacity: chunk.count * 2)
        for row in 0..<chunk.count where chunk.kinds[row] == .current {
            let ts = chunk.timestamps[row]
            expire(upTo: ts, into: &out)
            if queue.count >= length { queue.popFirst(into: &out, timestamp: ts) }
            out.append(from: chunk, row: row)
            queue.append(from: chunk, row: row)
        }
        emit(out)
        rearm()
    }

    override func timerFired(at time: Int64) {
        var out = newBatch()
        expire(upTo: time, into: &out)
        emit(out)
        rearm()
    }

    override func rearm() {
        if !queue.isEmpty { arm(at: queue.timestamp(0) + duration) }
    }

    override func snapshot(into w: inout StateWriter) { queue.snapshot(into: &w) }
    override func restore(from r: inout StateReader) throws { try queue.restore(from: &r) }
}

/// `externalTime(attr, t)`: like `time`, but time is the event's own attribute and moves only with arrivals.
final class ExternalTimeWindow: WindowProcessor {
    let timeColumn: Int
    let duration: Int64
    private var queue: EventQueue

    init(timeColumn: Int, duration: Int64, types: [AttributeType], context: ExecutionContext, scheduler: Scheduler) {
        self.timeColumn = timeColumn
        self.duration = duration
        self.queue = EventQueue(types: types)
        super.init(types: types, context: context, scheduler: scheduler)
    }

    override func process(_ chunk: EventBatch) {
        var out = newBatch(capacity: chunk.count * 2)
        let times = chunk.columns[timeColumn]
        for row in 0..<chunk.count where chunk.kinds[row] == .current {
            let now = times.longs[row]
            while !queue.isEmpty && queue.long(column: timeColumn, 0) + duration <= now {
                queue.popFirst(into: &out, timestamp: chunk.timestamps[row])
            }
            out.append(from: chunk, row: row)
            queue.append(from: chunk, row: row)
        }
        emit(out)
    }

    override func snapshot(into w: inout StateWriter) { queue.snapshot(into: &w) }
    override func restore(from r: inout StateReader) throws { try queue.restore(from: &r) }
}
