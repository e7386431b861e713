import SluiceCore

/// `timeBatch(t[, start])`: emits what arrived in each period of t at the period's end.
/// Periods start at the first event, or at `start + k·t` when a start time is given.
final class TimeBatchWindow: WindowProcessor, JoinSearchable {
    let duration: Int64
    let startTime: Int64?
    private var buffers: BatchBuffers
    var joinContents: (batch: EventBatch, rows: Range<Int>) { buffers.lastBatch }
    override func searchedByJoin() { buffers.keepsLastBatch = true }
    private var nextEmit: Int64?

    init(duration: Int64, startTime: Int64?, types: [AttributeType], context: ExecutionContext, scheduler: Scheduler) {
        self.duration = max(1, duration)
        self.startTime = startTime
        self.buffers = BatchBuffers(types: types)
        super.init(types: types, context: context, scheduler: scheduler)
    }

    /// The first period end after `time` on the grid that starts at `origin`.
    private func boundary(after time: Int64, origin: Int64) -> Int64 {
        let k = (time - origin) >= 0 ? (time - origin) / duration + 1 : 0
        return origin + k * duration
    }

    /// Flushes every period that ended at or before `time`.
    private func flushDue(upTo time: Int64) {
        while let due = nextEmit, due <= time {
            if buffers.isEmpty {
                // Nothing to emit in the skipped periods: jump along the grid.
                nextEmit = boundary(after: time, origin: due)
                return
            }
            var out = newBatch()
            buffers.flush(at: due, expectsExpired: expectsExpired, into: &out)
            nextEmit = due + duration
            emit(out)
        }
    }

    override func process(_ chunk: EventBatch) {
        // Rows join the batch in runs; a run ends where an event reaches the period's end.
        var run = CurrentRun()
        for row in 0..<chunk.count {
            guard chunk.kinds[row] == .current else {
                run.end(before: row, of: chunk, into: &buffers)
                continue
            }
            let ts = chunk.timestamps[row]
            if nextEmit == nil {
                nextEmit = startTime.map { boundary(after: ts, origin: $0) } ?? ts + duration
            }
            if let due = nextEmit, due <= ts {
                run.end(before: row, of: chunk, into: &buffers)
                flushDue(upTo: ts)
            }
            run.include(row)
        }
        run.end(before: chunk.count, of: chunk, into: &buffers)
        rearm()
    }

    override func accumulate(into accumulator: BatchAccumulator) -> Bool {
        buffers.accumulator = accumulator
        return true
    }

    override func timerFired(at time: Int64) {
        flushDue(upTo: time)
        rearm()
    }

    override func rearm() {
        if let nextEmit, !buffers.isEmpty { arm(at: nextEmit) }
    }

    override func snapshot(into w: inout StateWriter) {
        buffers.snapshot(into: &w)
        w.write(nextEmit)
    }

    override func restore(from r: inout StateReader) throws {
        try buffers.restore(from: &r)
        nextEmit = try r.readOptionalInt64()
    }
}

/// `externalTimeBatch(attr, t[, start[, timeout]])`: batches by the event's own time attribute.
/// A batch is emitted when an event at or past its end arrives, or after `timeout` of engine time
/// with no such event.
final class ExternalTimeBatchWindow: WindowProcessor, JoinSearchable {
    let timeColumn: Int
    let duration: Int64
    let startTime: Int64?
    let timeout: Int64?
    private var buffers: BatchBuffers
    var joinContents: (batch: EventBatch, rows: Range<Int>) { buffers.lastBatch }
    override func searchedByJoin() { buffers.keepsLastBatch = true }
    private var endTime: Int64?
    private var timeoutAt: Int64?

    init(timeColumn: Int, duration: Int64, startTime: Int64?, timeout: Int64?, types: [AttributeType],
         context: ExecutionContext, scheduler: Scheduler) {
        self.timeColumn = timeColumn
        self.duration = max(1, duration)
        self.startTime = startTime
        self.timeout = timeout
        self.buffers = BatchBuffers(types: types)
        super.init(types: types, context: context, scheduler: scheduler)
    }

    override func process(_ chunk: EventBatch) {
        let times = chunk.columns[timeColumn].longs
        var out = newBatch()
        // Read once per chunk (and after each emission, which may re-enter): the class-held end
        // time would pay an exclusivity check per row. Written through whenever it changes.
        var end = endTime
        // Rows join the batch in runs; a run ends where an event reaches the batch's end.
        var run = CurrentRun()
        for row in 0..<chunk.count {
            guard chunk.kinds[row] == .current else {
                run.end(before: row, of: chunk, into: &buffers)
                continue
            }
            let t = times[row]
            if end == nil {
                let origin = startTime ?? t
                end = origin + max(0, (t - origin) / duration + 1) * duration
                endTime = end
            }
            if let due = end, t >= due {
                run.end(before: row, of: chunk, into: &buffers)
                endTime = due + ((t - due) / duration + 1) * duration
                buffers.flush(at: due, expectsExpired: expectsExpired, into: &out)
                emit(out)
                out.removeAll()
                end = endTime
            }
            run.include(row)
        }
        run.end(before: chunk.count, of: chunk, into: &buffers)
        if let timeout {
            timeoutAt = context.now + timeout
            arm(at: context.now + timeout)
        }
    }

    override func accumulate(into accumulator: BatchAccumulator) -> Bool {
        buffers.accumulator = accumulator
        return true
    }

    override func timerFired(at time: Int64) {
        guard let at = timeoutAt, at <= time, buffers.currentCount > 0, let end = endTime else { return }
        timeoutAt = nil
        var out = newBatch()
        buffers.flush(at: end, expectsExpired: expectsExpired, into: &out)
        emit(out)
    }

    override func rearm() {
        if let timeoutAt { arm(at: timeoutAt) }
    }

    override func snapshot(into w: inout StateWriter) {
        buffers.snapshot(into: &w)
        w.write(endTime)
        w.write(timeoutAt)
    }

    override func restore(from r: inout StateReader) throws {
        try buffers.restore(from: &r)
        endTime = try r.readOptionalInt64()
        timeoutAt = try r.readOptionalInt64()
    }
}
