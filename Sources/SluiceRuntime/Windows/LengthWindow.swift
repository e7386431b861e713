import SluiceCore

/// `length(n)`: the last n events. Each arrival past n expires the oldest, which precedes it.
final class LengthWindow: WindowProcessor, JoinSearchable {
    let length: Int
    private var buffer: SlidingBuffer
    var joinContents: (batch: EventBatch, rows: Range<Int>) { buffer.contents }

    init(length: Int, types: [AttributeType], context: ExecutionContext, scheduler: Scheduler) {
        self.length = length
        self.buffer = SlidingBuffer(types: types)
        super.init(types: types, context: context, scheduler: scheduler)
    }

    override func process(_ chunk: EventBatch) {
        if let out = Self.slide(&buffer, chunk, length: length) { emit(out) }
    }

    /// Static and `inout`, so the window's state is accessed once per chunk, not once per row.
    private static func slide(_ buffer: inout SlidingBuffer, _ chunk: EventBatch, length: Int) -> EventBatch? {
        for row in 0..<chunk.count where chunk.kinds[row] == .current {
            let ts = chunk.timestamps[row]
            if length == 0 {
                buffer.emitCurrent(chunk, row: row)
                buffer.emitExpired(chunk, row: row, timestamp: ts)
                continue
            }
            if buffer.count >= length { buffer.expireOldest(timestamp: ts) }
            buffer.emitCurrent(chunk, row: row)
            buffer.admit(row: row)
        }
        return buffer.finish(chunk)
    }

    override func snapshot(into w: inout StateWriter) { buffer.snapshot(into: &w) }
    override func restore(from r: inout StateReader) throws { try buffer.restore(from: &r) }
}
