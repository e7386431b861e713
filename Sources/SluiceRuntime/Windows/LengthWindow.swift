import SluiceCore

/// `length(n)`: the last n events. Each arrival past n expires the oldest, which precedes it.
final class LengthWindow: WindowProcessor {
    let length: Int
    private var queue: EventQueue

    init(length: Int, types: [AttributeType], context: ExecutionContext, scheduler: Scheduler) {
        self.length = length
        self.queue = EventQueue(types: types)
        super.init(types: types, context: context, scheduler: scheduler)
    }

    override func process(_ chunk: EventBatch) {
        var out = newBatch(capacity: chunk.count * 2)
        for row in 0..<chunk.count where chunk.kinds[row] == .current {
            let ts = chunk.timestamps[row]
            if queue.count >= length && length > 0 {
                queue.popFirst(into: &out, timestamp: ts)
            }
            out.append(from: chunk, row: row)
            if length > 0 {
                queue.append(from: chunk, row: row)
            } else {
                out.append(from: chunk, row: row, kind: .expired)
            }
        }
        emit(out)
    }

    override func snapshot(into w: inout StateWriter) { queue.snapshot(into: &w) }
    override func restore(from r: inout StateReader) throws { try queue.restore(from: &r) }
}
