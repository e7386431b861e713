import SluiceCore

/// `[condition]`: keeps the rows whose condition is true. Reset markers always pass.
final class FilterProcessor: Processor {
    let condition: CompiledExpression
    let context: ExecutionContext

    init(condition: CompiledExpression, context: ExecutionContext) {
        self.condition = condition
        self.context = context
    }

    override func process(_ chunk: EventBatch) {
        let keep = condition.evaluate(EvaluationInput(batch: chunk, now: context.now, context: context))
        let truth = keep.bools
        let n = chunk.count
        var rows = [Int]()
        rows.reserveCapacity(n)
        truth.withUnsafeBufferPointer { t in
            for i in 0..<n where (t[i] && !keep.isNull(i)) || chunk.kinds[i] == .reset { rows.append(i) }
        }
        if rows.count == n {
            emit(chunk)
        } else if !rows.isEmpty {
            emit(chunk.gather(rows))
        }
    }
}

/// The first stage of a query reading a stream: events inserted as expired by an upstream
/// query are ordinary arrivals here.
final class StreamEntryProcessor: Processor {
    override func process(_ chunk: EventBatch) {
        if chunk.kinds.allSatisfy({ $0 == .current }) {
            emit(chunk)
        } else {
            var c = chunk
            c.kinds = [EventKind](repeating: .current, count: c.count)
            emit(c)
        }
    }
}
