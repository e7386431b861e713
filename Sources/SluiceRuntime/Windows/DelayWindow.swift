import SluiceCore

/// `delay(t)`: holds each event for t, then emits it as a current event.
final class DelayWindow: WindowProcessor {
    let duration: Int64
    private var queue: EventQueue

    init(duration: Int64, types: [AttributeType], context: ExecutionContext, scheduler: Scheduler) {
        self.duration = duration
        self.queue = EventQueue(types: types)
        super.init(types: types, context: context, scheduler: scheduler)
    }

    private func release(upTo now: Int64, into out: inout EventBatch) {
        while !queue.isEmpty && queue.timestamp(0) + duration <= now {
            queue.popFirst(into: &out, kind: .current, timestamp: now)
        }
    }

    override func process(_ chunk: EventBatch) {
        var out = newBatch()
        for row in 0..<chunk.count where chunk.kinds[row] == .current {
            release(upTo: chunk.timestamps[row], into: &out)
            queue.append(from: chunk, row: row)
        }
        emit(out)
        rearm()
    }

    override func timerFired(at time: Int64) {
        var out = newBatch()
        release(upTo: time, into: &out)
        emit(out)
        rearm()
    }

    override func rearm() {
        if !queue.isEmpty { arm(at: queue.timestamp(0) + duration) }
    }

    override func snapshot(into w: inout StateWriter) { queue.snapshot(into: &w) }
    override func restore(from r: inout StateReader) throws { try queue.restore(from: &r) }
}
