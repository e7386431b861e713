import SluiceCore

/// Which pairs of rows a condition accepts: a probe row (an arriving event) beside a found row (a
/// window's or a table's), over one layout, left attributes then right. The condition runs column
/// by column over all the pairs at once; null counts as false.
struct PairMatcher {
    /// Nil accepts every pair.
    let condition: CompiledExpression?
    /// Columns of the layout the condition reads; the others are not gathered for it.
    let reads: [Bool]
    let leftTypes: [AttributeType]
    let rightTypes: [AttributeType]
    /// Whether probe rows are the left part of the layout.
    let probeIsLeft: Bool

    /// Whether each pair (`probe` row `probes[i]`, `found` row `founds[i]`) satisfies the condition.
    func matches(_ probe: EventBatch, _ probes: [Int], _ found: EventBatch, _ founds: [Int], context: ExecutionContext) -> [Bool] {
        guard let condition else { return [Bool](repeating: true, count: probes.count) }
        guard !probes.isEmpty else { return [] }
        let count = probes.count
        var columns: [Column] = []
        columns.reserveCapacity(reads.count)
        for (i, type) in (leftTypes + rightTypes).enumerated() {
            guard reads[i] else {
                columns.append(Column(unread: type, count: count))
                continue
            }
            let isLeft = i < leftTypes.count
            let column = isLeft ? i : i - leftTypes.count
            columns.append(isLeft == probeIsLeft ? probe.columns[column].gather(probes) : found.columns[column].gather(founds))
        }
        let pairs = EventBatch(timestamps: probes.map { probe.timestamps[$0] }, kinds: probes.map { probe.kinds[$0] }, columns: columns)
        let truth = condition.evaluate(EvaluationInput(batch: pairs, now: context.now, context: context))
        var out = truth.bools
        if !truth.nulls.isEmpty {
            for i in 0..<count where truth.nulls[i] { out[i] = false }
        }
        return out
    }
}
