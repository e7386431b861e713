import SluiceCore
import SluiceQL

/// The `within … per …` of a query that reads an aggregation, compiled once:
/// `within "2017-06-** **:**:**"` (a pattern whose wildcards cover a year, month, day, hour, minute
/// or second), or `within start, end` with longs of milliseconds or 'yyyy-MM-dd HH:mm:ss[ ±HH:mm]'
/// strings (end excluded); `per "seconds" | "minutes" | "hours" | "days" | "months" | "years"`,
/// one of the durations the aggregation keeps. In a join each part may read the arriving event.
struct AggregationRange {
    struct Resolved: Hashable {
        var start: Int64
        var end: Int64
        var per: AggregationDuration
    }

    let start: CompiledExpression
    let end: CompiledExpression?
    let per: CompiledExpression
    let context: ExecutionContext

    /// Compiles the parts over `compiler`'s scope; constant parts are checked now.
    init(within: Expression?, withinEnd: Expression?, per: Expression?, aggregation: IncrementalAggregation, compiler: ExpressionCompiler,
         at range: SourceRange) throws(Diagnostic) {
        guard let within, let per else {
            throw Diagnostic("a query of aggregation '\(aggregation.name)' needs 'within … per …', as in "
                             + "within \"2017-06-** **:**:**\" per \"days\"", at: range)
        }
        context = compiler.context
        start = try compiler.compile(within)
        end = try withinEnd.map { e throws(Diagnostic) in try compiler.compile(e) }
        self.per = try compiler.compile(per)
        let bounds = [(within, start)] + (withinEnd.map { [($0, end!)] } ?? [])
        for (e, x) in bounds {
            guard x.type == .string || x.type == .long || x.type == .int else {
                throw Diagnostic("'within' takes a time string or a long of milliseconds, found \(x.type)", at: e.range)
            }
        }
        if end == nil, start.type != .string {
            throw Diagnostic("a single 'within' is a pattern such as \"2017-06-** **:**:**\"; give a range as 'within start, end'",
                             at: within.range)
        }
        guard self.per.type == .string else { throw Diagnostic("'per' takes a duration name such as \"days\", found \(self.per.type)", at: per.range) }
        if case .string(let text)? = self.per.constant {
            guard let d = AggregationDuration(perName: text) else {
                throw Diagnostic("'per' takes seconds, minutes, hours, days, months or years, found \"\(text)\"", at: per.range)
            }
            guard aggregation.durations.contains(d) else {
                throw Diagnostic("aggregation '\(aggregation.name)' does not keep \(d.name): per one of "
                                 + aggregation.durations.map(\.name).joined(separator: ", "), at: per.range)
            }
        }
        if end == nil, let value = start.constant, !value.isNull, Self.pattern(value) == nil {
            throw Diagnostic("'within' pattern \"\(value)\" is not 'yyyy-MM-dd HH:mm:ss' with trailing fields as wildcards (**)", at: within.range)
        }
        for (e, x) in bounds where end != nil {
            if let value = x.constant, !value.isNull, Self.instant(value) == nil {
                throw Diagnostic("'within' time \"\(value)\" is not 'yyyy-MM-dd HH:mm:ss[ ±HH:mm]' or a long of milliseconds", at: e.range)
            }
        }
        if let s = start.constant.flatMap(Self.instant), let e = end?.constant.flatMap(Self.instant), s >= e {
            throw Diagnostic("'within' starts at \(s) and ends at \(e): the start must come before the end, which is excluded", at: within.range)
        }
    }

    /// Each row's range, or nil where its values name none (no buckets match it).
    func resolve(_ batch: EventBatch, durations: [AggregationDuration]) -> [Resolved?] {
        let input = EvaluationInput(batch: batch, now: context.now, context: context)
        let starts = start.evaluate(input), ends = end?.evaluate(input), pers = per.evaluate(input)
        return (0..<batch.count).map { i in
            guard !pers.isNull(i), let d = AggregationDuration(perName: pers.string(at: i)), durations.contains(d) else { return nil }
            if let ends {
                guard let s = Self.instant(starts.value(at: i)), let e = Self.instant(ends.value(at: i)) else { return nil }
                return Resolved(start: s, end: e, per: d)
            }
            guard let (s, e) = Self.pattern(starts.value(at: i)) else { return nil }
            return Resolved(start: s, end: e, per: d)
        }
    }

    private static func instant(_ v: Value) -> Int64? {
        switch v {
        case .string(let s): AggregationTimeText.parse(s)
        case .int(let i): Int64(i)
        case .long(let l): l
        default: nil
        }
    }

    private static func pattern(_ v: Value) -> (Int64, Int64)? {
        guard case .string(let s) = v else { return nil }
        return AggregationTimeText.range(pattern: s).map { ($0.start, $0.end) }
    }
}
