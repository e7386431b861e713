import SluiceCore
import SluiceQL

/// One granularity of an incremental aggregation, and where its buckets begin.
///
/// Bucket boundaries are computed in UTC, always: months and years follow the UTC calendar.
/// Siddhi uses the JVM's zone (or the zone written in a `within` string); a cluster whose
/// nodes may sit in different zones must not depend on that, so Sluice fixes UTC.
enum AggregationDuration: Int, CaseIterable, Comparable, Sendable {
    case seconds, minutes, hours, days, months, years

    init?(_ duration: TimeDuration) {
        switch duration {
        case .seconds: self = .seconds
        case .minutes: self = .minutes
        case .hours: self = .hours
        case .days: self = .days
        case .months: self = .months
        case .years: self = .years
        case .weeks: return nil
        }
    }

    /// `per "days"`: Siddhi's names, plural, compared case-insensitively.
    init?(perName: String) {
        guard let d = Self.allCases.first(where: { $0.name == perName.lowercased() }) else { return nil }
        self = d
    }

    var name: String {
        switch self {
        case .seconds: "seconds"
        case .minutes: "minutes"
        case .hours: "hours"
        case .days: "days"
        case .months: "months"
        case .years: "years"
        }
    }

    static func < (a: Self, b: Self) -> Bool { a.rawValue < b.rawValue }

    /// The length of a bucket for the fixed durations; nil for months and years.
    private var fixedMillis: Int64? {
        switch self {
        case .seconds: 1_000
        case .minutes: 60_000
        case .hours: 3_600_000
        case .days: 86_400_000
        case .months, .years: nil
        }
    }

    /// The start of the bucket that holds `time` (milliseconds since the epoch).
    func bucketStart(_ time: Int64) -> Int64 {
        if let unit = fixedMillis { return Self.floorDiv(time, unit) * unit }
        let date = Civil.date(ofDay: Self.floorDiv(time, 86_400_000))
        return Civil.days(year: date.year, month: self == .months ? date.month : 1, day: 1) * 86_400_000
    }

    /// The start of the bucket `n` buckets after the one starting at `start` (n may be negative).
    func step(_ start: Int64, by n: Int64) -> Int64 {
        if let unit = fixedMillis { return start &+ n &* unit }
        let date = Civil.date(ofDay: Self.floorDiv(start, 86_400_000))
        let months = Int64(date.year) * 12 + Int64(date.month - 1) + (self == .months ? n : n * 12)
        let year = Self.floorDiv(months, 12)
        return Civil.days(year: Int(year), month: Int(months - year * 12) + 1, day: 1) * 86_400_000
    }

    static func floorDiv(_ a: Int64, _ b: Int64) -> Int64 {
        let q = a / b
        return (a % b != 0 && (a < 0) != (b < 0)) ? q - 1 : q
    }

    /// The durations an aggregation keeps, finest first: `every sec ... year` or `every sec, min`.
    static func kept(_ granularity: AggregationDefinition.Granularity, at range: SourceRange) throws(Diagnostic) -> [AggregationDuration] {
        func one(_ d: TimeDuration) throws(Diagnostic) -> AggregationDuration {
            guard let kept = AggregationDuration(d) else {
                throw Diagnostic("incremental aggregations do not aggregate by weeks (Siddhi neither): use days or months", at: range)
            }
            return kept
        }
        switch granularity {
        case .range(let from, let to):
            let a = try one(from), b = try one(to)
            guard a <= b else { throw Diagnostic("'every \(from.rawValue) ... \(to.rawValue)' runs backwards: write the finer duration first", at: range) }
            return allCases.filter { $0 >= a && $0 <= b }
        case .list(let list):
            var kept: [AggregationDuration] = []
            for d in list { kept.append(try one(d)) }
            return Array(Set(kept)).sorted()
        }
    }
}
