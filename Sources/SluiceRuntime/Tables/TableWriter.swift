import SluiceCore

/// The output of a query that writes to a table: `insert into T`, `delete T on …`,
/// `update T set … on …` and `update or insert into T set … on …`. The events of a chunk apply
/// in order, each seeing the table as the earlier ones left it.
///
/// The `on` condition and the `set` values run over a pair: the query's output event (its
/// attributes unqualified) beside one table row (qualified by the table's name). When the
/// condition fixes every primary-key attribute by an equality with the event's values, the one
/// row with that key is the only candidate; otherwise every row is.
final class TableWriter: Processor {
    enum Action {
        case insert
        case delete
        case update
        case updateOrInsert
    }

    let table: InMemoryTable
    let action: Action
    let context: ExecutionContext
    /// Over the pair layout; nil for `insert`.
    let matcher: PairMatcher?
    /// `set` targets (table columns) and values over the pair layout.
    let assignments: [(column: Int, value: CompiledExpression)]
    /// Per primary-key column, an expression over the event alone that the condition requires it
    /// to equal; nil when the condition does not fix the whole key.
    let keyProbe: [CompiledExpression]?

    init(table: InMemoryTable, action: Action, matcher: PairMatcher?, assignments: [(column: Int, value: CompiledExpression)],
         keyProbe: [CompiledExpression]?, context: ExecutionContext) {
        self.table = table
        self.action = action
        self.matcher = matcher
        self.assignments = assignments
        self.keyProbe = keyProbe
        self.context = context
    }

    override func process(_ chunk: EventBatch) {
        let events = (0..<chunk.count).filter { chunk.kinds[$0] != .reset }
        guard !events.isEmpty else { return }
        apply(chunk, events)
        // A stored table's changes from this chunk land in its database before anything else runs.
        table.writeThrough(context)
    }

    private func apply(_ chunk: EventBatch, _ events: [Int]) {
        if action == .insert {
            // The planner checked that the output is the table's row; a taken key drops the row, as in Siddhi.
            for e in events { table.insert(chunk.values(at: e)) }
            return
        }
        let keys = keyProbe.map { probes in
            let input = EvaluationInput(batch: chunk, now: context.now, context: context)
            return probes.map { $0.evaluate(input) }
        }
        for e in events {
            let found = table.contents
            var candidates: [Int]
            if let keys {
                candidates = table.row(withKey: keys.map { $0.value(at: e) }).map { [$0] } ?? []
            } else {
                candidates = Array(0..<found.count)
            }
            let matched = matches(chunk, e, found, candidates)
            switch action {
            case .insert:
                break
            case .delete:
                table.delete(matched)
            case .update, .updateOrInsert:
                if matched.isEmpty {
                    if action == .updateOrInsert { table.insert(chunk.values(at: e)) }
                    continue
                }
                let pairs = pairBatch(chunk, e, found, matched)
                let input = EvaluationInput(batch: pairs, now: context.now, context: context)
                let values = assignments.map { $0.value.evaluate(input) }
                for (i, row) in matched.enumerated() {
                    // A change onto another row's key is skipped, as Siddhi skips it.
                    table.update(row, assignments.indices.map { (assignments[$0].column, values[$0].value(at: i)) })
                }
            }
        }
    }

    private func matches(_ chunk: EventBatch, _ event: Int, _ found: EventBatch, _ candidates: [Int]) -> [Int] {
        guard let matcher, !candidates.isEmpty else { return candidates }
        let ok = matcher.matches(chunk, [Int](repeating: event, count: candidates.count), found, candidates, context: context)
        return candidates.indices.filter { ok[$0] }.map { candidates[$0] }
    }

    /// The event beside each matched row, in the pair layout.
    private func pairBatch(_ chunk: EventBatch, _ event: Int, _ found: EventBatch, _ rows: [Int]) -> EventBatch {
        let repeated = [Int](repeating: event, count: rows.count)
        return EventBatch(timestamps: repeated.map { chunk.timestamps[$0] }, kinds: repeated.map { chunk.kinds[$0] },
                          columns: chunk.columns.map { $0.gather(repeated) } + found.columns.map { $0.gather(rows) })
    }
}
