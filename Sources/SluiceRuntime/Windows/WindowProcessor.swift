import SluiceCore

/// The common ground of windows: their schema, the scheduler, and whether anyone downstream
/// wants expired events (batch windows keep the previous batch only when someone does).
class WindowProcessor: Processor, Snapshottable, TimeDriven {
    let types: [AttributeType]
    let context: ExecutionContext
    let scheduler: Scheduler
    var expectsExpired = true
    /// Registered at construction so that timer ties break in plan order, before and after a restore.
    private(set) var timerID = -1
    /// The time of the earliest timer this window has pending, if any.
    private var armedAt: Int64?

    init(types: [AttributeType], context: ExecutionContext, scheduler: Scheduler) {
        self.types = types
        self.context = context
        self.scheduler = scheduler
        super.init()
        timerID = scheduler.register(self)
    }

    /// Asks for `onTime` at `time`, unless an earlier timer is already pending.
    final func arm(at time: Int64) {
        if let armedAt, armedAt <= time, armedAt > context.now { return }
        armedAt = time
        scheduler.schedule(timerID, at: time)
    }

    final func onTime(_ time: Int64) {
        if armedAt == time { armedAt = nil }
        timerFired(at: time)
    }

    func timerFired(at time: Int64) {}

    /// Hands the rows of each batch to `accumulator` instead of buffering them, when this window
    /// is a batch window that can (it is asked only when nothing downstream wants expired events).
    func accumulate(into accumulator: BatchAccumulator) -> Bool { false }

    /// A join searches this window's contents (see `JoinSearchable`): keep what it searches.
    func searchedByJoin() {}

    func newBatch(capacity: Int = 0) -> EventBatch { EventBatch(types: types, capacity: capacity) }

    func snapshot(into w: inout StateWriter) {}
    func restore(from r: inout StateReader) throws {}

    /// Re-arms the timer that the restored state implies.
    func rearm() {}

    func releaseTimer() {
        scheduler.unregister(timerID)
    }
}
