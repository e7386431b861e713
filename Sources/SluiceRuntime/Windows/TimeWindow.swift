import SluiceCore

/// `time(t)`: events of the last t milliseconds. An event expires when the clock reaches ts + t,
/// either on a later arrival (before it) or on a timer.
final class TimeWindow: WindowProcessor {
    let duration: Int64
    private var buffer: SlidingBuffer

    init(duration: Int64, types: [AttributeType], context: ExecutionContext, scheduler: Scheduler) {
        self.duration = duration
        self.buffer = SlidingBuffer(types: types)
        super.init(types: types, context: context, scheduler: scheduler)
    }

    override func process(_ chunk: EventBatch) {
        for row in 0..<chunk.count where chunk.kinds[row] == .current {
            let ts = chunk.timestamps[row]
            while !buffer.isEmpty && buffer.oldestTimestamp(chunk) + duration <= ts { buffer.expireOldest(timestamp: ts) }
            buffer.emitCurrent(chunk, row: row)
            buffer.admit(row: row)
        }
        if let out = buffer.finish(chunk) { emit(out) }
        rearm()
    }

    override func timerFired(at time: Int64) {
        let none = newBatch()
        while !buffer.isEmpty && buffer.oldestTimestamp(none) + duration <= time { buffer.expireOldest(timestamp: time) }
        if let out = buffer.finish(none) { emit(out) }
        rearm()
    }

    override func rearm() {
        if !buffer.queue.isEmpty { arm(at: buffer.queue.timestamp(0) + duration) }
    }

    override func snapshot(into w: inout StateWriter) { buffer.snapshot(into: &w) }
    override func restore(from r: inout StateReader) throws { try buffer.restore(from: &r) }
}

/// `timeLength(t, n)`: at most n events, none older than t.
final class TimeLengthWindow: WindowProcessor {
    let duration: Int64
    let length: Int
    private var buffer: SlidingBuffer

    init(duration: Int64, length: Int, types: [AttributeType], context: ExecutionContext, scheduler: Scheduler) {
        self.duration = duration
        self.length = length
        self.buffer = SlidingBuffer(types: types)
        super.init(types: types, context: context, scheduler: scheduler)
    }

    override func process(_ chunk: EventBatch) {
        for row in 0..<chunk.count where chunk.kinds[row] == .current {
            let ts = chunk.timestamps[row]
            while !buffer.isEmpty && buffer.oldestTimestamp(chunk) + duration <= ts { buffer.expireOldest(timestamp: ts) }
            if buffer.count >= length && !buffer.isEmpty { buffer.expireOldest(timestamp: ts) }
            buffer.emitCurrent(chunk, row: row)
            buffer.admit(row: row)
        }
        if let out = buffer.finish(chunk) { emit(out) }
        rearm()
    }

    override func timerFired(at time: Int64) {
        let none = newBatch()
        while !buffer.isEmpty && buffer.oldestTimestamp(none) + duration <= time { buffer.expireOldest(timestamp: time) }
        if let out = buffer.finish(none) { emit(out) }
        rearm()
    }

    override func rearm() {
        if !buffer.queue.isEmpty { arm(at: buffer.queue.timestamp(0) + duration) }
    }

    override func snapshot(into w: inout StateWriter) { buffer.snapshot(into: &w) }
    override func restore(from r: inout StateReader) throws { try buffer.restore(from: &r) }
}

/// `externalTime(attr, t)`: like `time`, but time is the event's own attribute and moves only with arrivals.
final class ExternalTimeWindow: WindowProcessor {
    let timeColumn: Int
    let duration: Int64
    private var buffer: SlidingBuffer

    init(timeColumn: Int, duration: Int64, types: [AttributeType], context: ExecutionContext, scheduler: Scheduler) {
        self.timeColumn = timeColumn
        self.duration = duration
        self.buffer = SlidingBuffer(types: types)
        super.init(types: types, context: context, scheduler: scheduler)
    }

    override func process(_ chunk: EventBatch) {
        let times = chunk.columns[timeColumn]
        for row in 0..<chunk.count where chunk.kinds[row] == .current {
            let now = times.longs[row]
            while !buffer.isEmpty && buffer.oldestLong(column: timeColumn, chunk) + duration <= now {
                buffer.expireOldest(timestamp: chunk.timestamps[row])
            }
            buffer.emitCurrent(chunk, row: row)
            buffer.admit(row: row)
        }
        if let out = buffer.finish(chunk) { emit(out) }
    }

    override func snapshot(into w: inout StateWriter) { buffer.snapshot(into: &w) }
    override func restore(from r: inout StateReader) throws { try buffer.restore(from: &r) }
}
