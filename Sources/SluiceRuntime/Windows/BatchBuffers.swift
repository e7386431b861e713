import SluiceCore

/// Takes a batch window's rows as they arrive, and its flushes, in place of the window's buffer:
/// a selector that needs only each group's aggregates and last row folds the rows in at once
/// instead of copying them into the window and out again (see `QuerySelector`).
protocol BatchAccumulator: AnyObject {
    /// Folds in current rows of the batch being filled.
    func accumulate(_ chunk: EventBatch, rows: Range<Int>)
    /// Emits what the batch's rows produce, as a flush of the buffered rows would, and starts a new batch.
    func flushAccumulated(at time: Int64)
    /// Rows folded in since the last flush.
    var accumulatedCount: Int { get }
}

/// The two halves of a batch window: the batch being filled and, when expired events are wanted,
/// the batch emitted last time (it expires when the next one is emitted). With an accumulator,
/// the batch being filled lives downstream instead.
struct BatchBuffers {
    var current: EventQueue
    var previous: EventQueue
    /// Set once at deploy time, and only when nobody downstream wants expired events.
    var accumulator: BatchAccumulator?
    /// A join searches the batch emitted last: keep it even when nobody wants it expired.
    var keepsLastBatch = false

    /// The batch emitted last, as a join searches it (empty unless `keepsLastBatch` or expired events are wanted).
    var lastBatch: (batch: EventBatch, rows: Range<Int>) { (previous.storage, previous.row(0)..<previous.storage.count) }

    init(types: [AttributeType]) {
        current = EventQueue(types: types)
        previous = EventQueue(types: types)
    }

    var isEmpty: Bool { currentCount == 0 && previous.isEmpty }

    /// Rows in the batch being filled.
    var currentCount: Int { accumulator?.accumulatedCount ?? current.count }

    mutating func append(from chunk: EventBatch, rows: Range<Int>) {
        if let accumulator {
            accumulator.accumulate(chunk, rows: rows)
        } else {
            current.append(from: chunk, rows: rows)
        }
    }

    /// Siddhi's flush: the previous batch as expired events, then a reset, then the new batch.
    /// With an accumulator, the accumulator emits and `out` stays empty.
    mutating func flush(at time: Int64, expectsExpired: Bool, into out: inout EventBatch) {
        if let accumulator {
            accumulator.flushAccumulated(at: time)
            return
        }
        if expectsExpired && !previous.isEmpty {
            previous.copyAll(into: &out, kind: .expired, timestamp: time)
        }
        previous.removeAll()
        guard !current.isEmpty else { return }
        out.appendMarker(.reset, timestamp: time)
        current.copyAll(into: &out, kind: .current)
        if expectsExpired || keepsLastBatch { previous = current }
        current.removeAll()
    }

    func snapshot(into w: inout StateWriter) {
        current.snapshot(into: &w)
        previous.snapshot(into: &w)
    }

    mutating func restore(from r: inout StateReader) throws {
        try current.restore(from: &r)
        try previous.restore(from: &r)
    }
}

/// A chunk's current rows, added to the batch being filled in runs: a run ends at a row that is not
/// current, or where the batch must be flushed before the row joins.
struct CurrentRun {
    private var start: Int?

    mutating func include(_ row: Int) {
        if start == nil { start = row }
    }

    /// Adds the run so far (the rows before `row`) to the batch.
    mutating func end(before row: Int, of chunk: EventBatch, into buffers: inout BatchBuffers) {
        if let s = start { buffers.append(from: chunk, rows: s..<row) }
        start = nil
    }
}

/// `lengthBatch(n)`: emits every n events at once.
final class LengthBatchWindow: WindowProcessor, JoinSearchable {
    let length: Int
    private var buffers: BatchBuffers
    var joinContents: (batch: EventBatch, rows: Range<Int>) { buffers.lastBatch }
    override func searchedByJoin() { buffers.keepsLastBatch = true }

    init(length: Int, types: [AttributeType], context: ExecutionContext, scheduler: Scheduler) {
        self.length = max(1, length)
        self.buffers = BatchBuffers(types: types)
        super.init(types: types, context: context, scheduler: scheduler)
    }

    override func process(_ chunk: EventBatch) {
        guard chunk.isAllCurrent else {
            for row in 0..<chunk.count where chunk.kinds[row] == .current { add(chunk, rows: row..<row + 1) }
            return
        }
        add(chunk, rows: 0..<chunk.count)
    }

    /// Adds a run of current rows, emitting a batch each time one fills up.
    private func add(_ chunk: EventBatch, rows: Range<Int>) {
        var start = rows.lowerBound
        while start < rows.upperBound {
            let end = min(rows.upperBound, start + length - buffers.currentCount)
            buffers.append(from: chunk, rows: start..<end)
            start = end
            if buffers.currentCount == length {
                var out = newBatch(capacity: length * 2 + 1)
                buffers.flush(at: chunk.timestamps[end - 1], expectsExpired: expectsExpired, into: &out)
                emit(out)
            }
        }
    }

    override func accumulate(into accumulator: BatchAccumulator) -> Bool {
        buffers.accumulator = accumulator
        return true
    }

    override func snapshot(into w: inout StateWriter) { buffers.snapshot(into: &w) }
    override func restore(from r: inout StateReader) throws { try buffers.restore(from: &r) }
}

/// `batch()` / `batch(n)`: each arriving chunk is a batch (cut into pieces of at most n events).
final class ChunkBatchWindow: WindowProcessor, JoinSearchable {
    let length: Int?
    private var buffers: BatchBuffers
    var joinContents: (batch: EventBatch, rows: Range<Int>) { buffers.lastBatch }
    override func searchedByJoin() { buffers.keepsLastBatch = true }

    init(length: Int?, types: [AttributeType], context: ExecutionContext, scheduler: Scheduler) {
        self.length = length.map { max(1, $0) }
        self.buffers = BatchBuffers(types: types)
        super.init(types: types, context: context, scheduler: scheduler)
    }

    override func process(_ chunk: EventBatch) {
        let rows = (0..<chunk.count).filter { chunk.kinds[$0] == .current }
        guard !rows.isEmpty else { return }
        let size = length ?? rows.count
        var start = 0
        while start < rows.count {
            let end = min(start + size, rows.count)
            for r in rows[start..<end] { buffers.current.append(from: chunk, row: r) }
            var out = newBatch(capacity: (end - start) * 2 + 1)
            buffers.flush(at: chunk.timestamps[rows[end - 1]], expectsExpired: expectsExpired, into: &out)
            emit(out)
            start = end
        }
    }

    override func snapshot(into w: inout StateWriter) { buffers.snapshot(into: &w) }
    override func restore(from r: inout StateReader) throws { try buffers.restore(from: &r) }
}
