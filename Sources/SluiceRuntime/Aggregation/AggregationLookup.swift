import SluiceCore

/// The stream side's stage before its `JoinSide` in a join with an aggregation, and what that
/// join searches on the aggregation's side. Each arriving chunk is cut into runs of events that
/// name the same `within … per …` range; for each run the aggregation is read once, and the run
/// is joined with those rows. The aggregation never triggers (Siddhi: the join is unidirectional
/// from the stream).
final class AggregationLookup: Processor, JoinSearchable {
    let aggregation: IncrementalAggregation
    let range: AggregationRange
    private var found: EventBatch

    init(aggregation: IncrementalAggregation, range: AggregationRange) {
        self.aggregation = aggregation
        self.range = range
        found = EventBatch(types: aggregation.schema.types)
    }

    var joinContents: (batch: EventBatch, rows: Range<Int>) { (found, 0..<found.count) }

    override func process(_ chunk: EventBatch) {
        guard !chunk.isEmpty else { return }
        let ranges = range.resolve(chunk, durations: aggregation.durations)
        var runStart = 0
        for i in 1...chunk.count where i == chunk.count || ranges[i] != ranges[runStart] {
            if let r = ranges[runStart] {
                found = aggregation.find(start: r.start, end: r.end, per: r.per)
            } else {
                found = EventBatch(types: aggregation.schema.types)
            }
            next?.process(runStart == 0 && i == chunk.count ? chunk : chunk.slice(runStart..<i))
            runStart = i
        }
        found = EventBatch(types: aggregation.schema.types)
    }
}
