import SluiceCore
import SluiceQL

/// How long an aggregation keeps each duration's buckets: Siddhi's `@purge`, on by default.
///
/// `@purge(enable='true', interval='15 min', @retentionPeriod(sec='120 sec', min='24 hours',
/// hours='30 days', days='1 year', months='all', years='all'))` spells out Siddhi's defaults and
/// minimums (a retention below 120 sec, 120 min, 25 hours, 32 days or 13 months is refused).
/// Siddhi measures age against the wall clock; Sluice against the newest event time the
/// aggregation has seen, so that replicas purge at the same events. A bucket is dropped only once
/// it has rolled up into the next duration, so coarser durations never lose what it held.
struct AggregationRetention {
    /// Engine time between purges.
    var interval: Int64
    /// Per kept duration, finest first: how long its buckets live (nil: for ever).
    var periods: [Int64?]

    private static let day: Int64 = 86_400_000

    private static func defaults(_ d: AggregationDuration) -> (period: Int64?, minimum: Int64) {
        switch d {
        case .seconds: (120_000, 120_000)
        case .minutes: (day, 120 * 60_000)
        case .hours: (30 * day, 25 * 3_600_000)
        case .days: (365 * day, 32 * day)
        case .months: (nil, 13 * 30 * day)
        case .years: (nil, 0)
        }
    }

    /// The retention of an aggregation keeping `durations`, or nil when `@purge(enable='false')`.
    static func of(_ definition: AggregationDefinition, durations: [AggregationDuration]) throws(Diagnostic) -> AggregationRetention? {
        var retention = AggregationRetention(interval: 15 * 60_000, periods: durations.map { defaults($0).period })
        guard let purge = definition.annotations.first(where: { $0.name.lowercased() == "purge" }) else { return retention }
        switch purge.value("enable")?.lowercased() {
        case "false": return nil
        case "true", nil: break
        case let other?: throw Diagnostic("@purge: 'enable' takes true or false, found '\(other)'", at: purge.range)
        }
        retention.interval = try AppRuntime.duration(purge, "interval", default: retention.interval)
        guard retention.interval > 0 else { throw Diagnostic("@purge: 'interval' must be positive", at: purge.range) }
        for periods in purge.annotations where periods.name.lowercased() == "retentionperiod" {
            for element in periods.elements {
                guard let name = element.key, let d = duration(named: name) else {
                    throw Diagnostic("@retentionPeriod takes sec, min, hours, days, months or years, as in sec='120 sec'", at: element.range)
                }
                guard let level = durations.firstIndex(of: d) else {
                    throw Diagnostic("@retentionPeriod: aggregation '\(definition.name.name)' does not keep \(d.name)", at: element.range)
                }
                if element.value.lowercased() == "all" {
                    retention.periods[level] = nil
                    continue
                }
                let period = try AppRuntime.duration(periods, name, default: nil)
                let minimum = defaults(d).minimum
                guard period >= minimum else {
                    throw Diagnostic("@retentionPeriod: \(d.name) must be kept at least \(minimum / 60_000) minutes, as in Siddhi",
                                     at: element.range)
                }
                retention.periods[level] = period
            }
        }
        return retention
    }

    private static func duration(named name: String) -> AggregationDuration? {
        switch name.lowercased() {
        case "sec", "second", "seconds": .seconds
        case "min", "minute", "minutes": .minutes
        case "hour", "hours": .hours
        case "day", "days": .days
        case "month", "months": .months
        case "year", "years": .years
        default: nil
        }
    }
}
