import SluiceCore

/// The window of a join side that names none (Siddhi's `EmptyWindowProcessor`, a length-0
/// window): it holds nothing, so that side is never found, and each event passes as current,
/// then expired, then a reset, so that aggregates over the join start over after it.
final class EmptyWindow: WindowProcessor, JoinSearchable {
    private let empty: EventBatch

    override init(types: [AttributeType], context: ExecutionContext, scheduler: Scheduler) {
        empty = EventBatch(types: types)
        super.init(types: types, context: context, scheduler: scheduler)
    }

    var joinContents: (batch: EventBatch, rows: Range<Int>) { (empty, 0..<0) }

    override func process(_ chunk: EventBatch) {
        var out = newBatch(capacity: chunk.count * (expectsExpired ? 3 : 2))
        for row in 0..<chunk.count where chunk.kinds[row] == .current {
            let ts = chunk.timestamps[row]
            out.append(from: chunk, row: row)
            if expectsExpired { out.append(from: chunk, row: row, kind: .expired, timestamp: ts) }
            out.appendMarker(.reset, timestamp: ts)
        }
        emit(out)
    }
}
