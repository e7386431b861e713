import SluiceCore

/// `time(t)`: events of the last t milliseconds. An event expires when the clock reaches ts + t,
/// either on a later arrival (before it) or on a timer.
final class TimeWindow: WindowProcessor, JoinSearchable {
    let duration: Int64
    private var buffer: SlidingBuffer
    var joinContents: (batch: EventBatch, rows: Range<Int>) { buffer.contents }

    init(duration: Int64, types: [AttributeType], context: ExecutionContext, scheduler: Scheduler) {
        self.duration = duration
        self.buffer = SlidingBuffer(types: types)
        super.init(types: types, context: context, scheduler: scheduler)
    }

    override func process(_ chunk: EventBatch) {
        if let out = Self.slide(&buffer, chunk, duration: duration, length: .max) { emit(out) }
        rearm()
    }

    override func timerFired(at time: Int64) {
        if let out = Self.expire(&buffer, upTo: time, duration: duration, empty: newBatch()) { emit(out) }
        rearm()
    }

    /// Admits a chunk into a window bounded by time (and length). Static and `inout`, so the
    /// window's state is accessed once per chunk, not once per row.
    static func slide(_ buffer: inout SlidingBuffer, _ chunk: EventBatch, duration: Int64, length: Int) -> EventBatch? {
        for row in 0..<chunk.count where chunk.kinds[row] == .current {
            let ts = chunk.timestamps[row]
            while !buffer.isEmpty && buffer.oldestTimestamp(chunk) + duration <= ts { buffer.expireOldest(timestamp: ts) }
            if buffer.count >= length && !buffer.isEmpty { buffer.expireOldest(timestamp: ts) }
            buffer.emitCurrent(chunk, row: row)
            buffer.admit(row: row)
        }
        return buffer.finish(chunk)
    }

    /// Expires what is due at `time` (a timer).
    static func expire(_ buffer: inout SlidingBuffer, upTo time: Int64, duration: Int64, empty: EventBatch) -> EventBatch? {
        while !buffer.isEmpty && buffer.oldestTimestamp(empty) + duration <= time { buffer.expireOldest(timestamp: time) }
        return buffer.finish(empty)
    }

    override func rearm() {
        if !buffer.queue.isEmpty { arm(at: buffer.queue.timestamp(0) + duration) }
    }

    override func snapshot(into w: inout StateWriter) { buffer.snapshot(into: &w) }
    override func restore(from r: inout StateReader) throws { try buffer.restore(from: &r) }
}

/// `timeLength(t, n)`: at most n events, none older than t.
final class TimeLengthWindow: WindowProcessor, JoinSearchable {
    let duration: Int64
    let length: Int
    private var buffer: SlidingBuffer
    var joinContents: (batch: EventBatch, rows: Range<Int>) { buffer.contents }

    init(duration: Int64, length: Int, types: [AttributeType], context: ExecutionContext, scheduler: Scheduler) {
        self.duration = duration
        self.length = length
        self.buffer = SlidingBuffer(types: types)
        super.init(types: types, context: context, scheduler: scheduler)
    }

    override func process(_ chunk: EventBatch) {
        if let out = TimeWindow.slide(&buffer, chunk, duration: duration, length: length) { emit(out) }
        rearm()
    }

    override func timerFired(at time: Int64) {
        if let out = TimeWindow.expire(&buffer, upTo: time, duration: duration, empty: newBatch()) { emit(out) }
        rearm()
    }

    override func rearm() {
        if !buffer.queue.isEmpty { arm(at: buffer.queue.timestamp(0) + duration) }
    }

    override func snapshot(into w: inout StateWriter) { buffer.snapshot(into: &w) }
    override func restore(from r: inout StateReader) throws { try buffer.restore(from: &r) }
}

/// `externalTime(attr, t)`: like `time`, but time is the event's own attribute and moves only with arrivals.
final class ExternalTimeWindow: WindowProcessor, JoinSearchable {
    let timeColumn: Int
    let duration: Int64
    private var buffer: SlidingBuffer
    var joinContents: (batch: EventBatch, rows: Range<Int>) { buffer.contents }

    init(timeColumn: Int, duration: Int64, types: [AttributeType], context: ExecutionContext, scheduler: Scheduler) {
        self.timeColumn = timeColumn
        self.duration = duration
        self.buffer = SlidingBuffer(types: types)
        super.init(types: types, context: context, scheduler: scheduler)
    }

    override func process(_ chunk: EventBatch) {
        if let out = Self.slide(&buffer, chunk, timeColumn: timeColumn, duration: duration) { emit(out) }
    }

    private static func slide(_ buffer: inout SlidingBuffer, _ chunk: EventBatch, timeColumn: Int, duration: Int64) -> EventBatch? {
        let times = chunk.columns[timeColumn].longs
        for row in 0..<chunk.count where chunk.kinds[row] == .current {
            let now = times[row]
            while !buffer.isEmpty && buffer.oldestLong(column: timeColumn, chunk) + duration <= now {
                buffer.expireOldest(timestamp: chunk.timestamps[row])
            }
            buffer.emitCurrent(chunk, row: row)
            buffer.admit(row: row)
        }
        return buffer.finish(chunk)
    }

    override func snapshot(into w: inout StateWriter) { buffer.snapshot(into: &w) }
    override func restore(from r: inout StateReader) throws { try buffer.restore(from: &r) }
}
