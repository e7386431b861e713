/// A Quartz cron expression, as Siddhi's `define trigger T at '<cron>'` takes it:
/// `seconds minutes hours day-of-month month day-of-week [year]`, evaluated in UTC on the engine
/// clock (milliseconds since the epoch). Each field takes `*`, numbers, ranges `a-b`, lists `a,b`
/// and steps `*/n` or `a/n` (`a-b/n`); months and weekdays also by name (`JAN`, `MON`; Sunday is 1).
/// One of day-of-month and day-of-week is `?` (any), as Quartz requires. Quartz's `L`, `W` and `#`
/// are refused with a message rather than misread.
struct CronSchedule: Sendable, Equatable {
    let seconds: [Int], minutes: [Int], hours: [Int]
    /// Nil when the field is `?` or `*`: any day passes it.
    let daysOfMonth: Set<Int>?, daysOfWeek: Set<Int>?
    let months: Set<Int>
    /// Nil when the year field is absent or `*`.
    let yearSet: Set<Int>?

    struct ParseError: Error {
        let message: String
    }

    init(_ text: String) throws(ParseError) {
        let fields = text.split(whereSeparator: { $0 == " " || $0 == "\t" }).map(String.init)
        guard fields.count == 6 || fields.count == 7 else {
            throw ParseError(message: "a cron expression has 6 or 7 fields (seconds minutes hours day-of-month month day-of-week [year]); '\(text)' has \(fields.count)")
        }
        seconds = try Self.values(fields[0], "seconds", 0...59).sorted()
        minutes = try Self.values(fields[1], "minutes", 0...59).sorted()
        hours = try Self.values(fields[2], "hours", 0...23).sorted()
        months = Set(try Self.values(fields[4], "month", 1...12, names: Self.monthNames))
        let dayOfMonthAny = fields[3] == "?" || fields[3] == "*"
        let dayOfWeekAny = fields[5] == "?" || fields[5] == "*"
        guard fields[3] == "?" || fields[5] == "?" else {
            throw ParseError(message: "one of day-of-month and day-of-week must be '?' in '\(text)'")
        }
        daysOfMonth = dayOfMonthAny ? nil : Set(try Self.values(fields[3], "day-of-month", 1...31))
        daysOfWeek = dayOfWeekAny ? nil : Set(try Self.values(fields[5], "day-of-week", 1...7, names: Self.dayNames))
        if fields.count == 7, fields[6] != "*" {
            yearSet = Set(try Self.values(fields[6], "year", 1970...2199))
        } else {
            yearSet = nil
        }
    }

    static let monthNames = ["JAN", "FEB", "MAR", "APR", "MAY", "JUN", "JUL", "AUG", "SEP", "OCT", "NOV", "DEC"]
    static let dayNames = ["SUN", "MON", "TUE", "WED", "THU", "FRI", "SAT"]

    /// The values one field allows.
    private static func values(_ field: String, _ what: String, _ bounds: ClosedRange<Int>, names: [String] = []) throws(ParseError) -> [Int] {
        var out = Set<Int>()
        for part in field.split(separator: ",", omittingEmptySubsequences: false).map(String.init) {
            guard !part.isEmpty else { throw ParseError(message: "empty item in the \(what) field '\(field)'") }
            // Quartz's last-day, weekday and nth-weekday forms: letters outside a name, or '#'.
            let letters = part.filter(\.isLetter).uppercased()
            if part.contains("#") || ["L", "W", "LW"].contains(letters) {
                throw ParseError(message: "the \(what) field '\(field)' uses L, W or #, which Sluice's cron triggers do not support")
            }
            var rangePart = Substring(part), step = 1
            if let slash = part.firstIndex(of: "/") {
                rangePart = part[..<slash]
                guard let s = Int(part[part.index(after: slash)...]), s > 0 else {
                    throw ParseError(message: "the step in '\(part)' (\(what)) must be a positive number")
                }
                step = s
            }
            let low: Int, high: Int
            if rangePart == "*" || rangePart == "?" {
                (low, high) = (bounds.lowerBound, bounds.upperBound)
            } else if let dash = rangePart.firstIndex(of: "-") {
                low = try number(rangePart[..<dash], what, bounds, names)
                high = try number(rangePart[rangePart.index(after: dash)...], what, bounds, names)
                guard low <= high else { throw ParseError(message: "the range '\(rangePart)' (\(what)) goes backwards") }
            } else {
                low = try number(rangePart, what, bounds, names)
                // `a/n` runs from a to the field's end.
                high = part.contains("/") ? bounds.upperBound : low
            }
            for v in stride(from: low, through: high, by: step) { out.insert(v) }
        }
        return Array(out)
    }

    private static func number(_ text: Substring, _ what: String, _ bounds: ClosedRange<Int>, _ names: [String]) throws(ParseError) -> Int {
        if let i = names.firstIndex(of: text.uppercased()) { return bounds.lowerBound + i }
        guard let v = Int(text), bounds.contains(v) else {
            throw ParseError(message: "'\(text)' is not a valid \(what) (\(bounds.lowerBound)-\(bounds.upperBound)\(names.isEmpty ? "" : " or a name"))")
        }
        return v
    }

    /// The first firing time strictly after `time` (whole seconds, UTC), or nil if there is none
    /// before the year 2200.
    func next(after time: Int64) -> Int64? {
        // The next whole second after `time`.
        var second = time >= 0 ? time / 1000 + 1 : (time + 1) / 1000
        var day = floorDiv(second, 86_400)
        var secondOfDay = Int(second - day * 86_400)
        let lastDay = Civil.days(year: 2200, month: 1, day: 1)
        while day < lastDay {
            let date = Civil.date(ofDay: day)
            if matches(date) {
                let h = secondOfDay / 3600, m = secondOfDay / 60 % 60, s = secondOfDay % 60
                if let t = firstTime(atOrAfter: (h, m, s)) {
                    second = day * 86_400 + Int64(t.0 * 3600 + t.1 * 60 + t.2)
                    return second * 1000
                }
            }
            day += 1
            secondOfDay = 0
        }
        return nil
    }

    private func matches(_ date: (year: Int, month: Int, day: Int, weekday: Int)) -> Bool {
        if let yearSet, !yearSet.contains(date.year) { return false }
        guard months.contains(date.month) else { return false }
        if let daysOfMonth, !daysOfMonth.contains(date.day) { return false }
        if let daysOfWeek, !daysOfWeek.contains(date.weekday) { return false }
        return true
    }

    /// The earliest allowed time of day at or after `from`.
    private func firstTime(atOrAfter from: (Int, Int, Int)) -> (Int, Int, Int)? {
        for h in hours where h >= from.0 {
            for m in minutes where h > from.0 || m >= from.1 {
                for s in seconds where h > from.0 || m > from.1 || s >= from.2 {
                    return (h, m, s)
                }
            }
        }
        return nil
    }

    private func floorDiv(_ a: Int64, _ b: Int64) -> Int64 { a >= 0 ? a / b : -((-a + b - 1) / b) }
}

/// Days since 1970-01-01 and proleptic Gregorian dates, without a calendar library.
enum Civil {
    static func days(year: Int, month: Int, day: Int) -> Int64 {
        let y = month <= 2 ? year - 1 : year
        let era = (y >= 0 ? y : y - 399) / 400
        let yearOfEra = y - era * 400
        let dayOfYear = (153 * (month + (month > 2 ? -3 : 9)) + 2) / 5 + day - 1
        let dayOfEra = yearOfEra * 365 + yearOfEra / 4 - yearOfEra / 100 + dayOfYear
        return Int64(era * 146_097 + dayOfEra - 719_468)
    }

    /// Year, month (1-12), day (1-31) and weekday (1 = Sunday … 7 = Saturday, as Quartz counts).
    static func date(ofDay days: Int64) -> (year: Int, month: Int, day: Int, weekday: Int) {
        let z = Int(days) + 719_468
        let era = (z >= 0 ? z : z - 146_096) / 146_097
        let dayOfEra = z - era * 146_097
        let yearOfEra = (dayOfEra - dayOfEra / 1460 + dayOfEra / 36_524 - dayOfEra / 146_096) / 365
        let dayOfYear = dayOfEra - (365 * yearOfEra + yearOfEra / 4 - yearOfEra / 100)
        let mp = (5 * dayOfYear + 2) / 153
        let day = dayOfYear - (153 * mp + 2) / 5 + 1
        let month = mp < 10 ? mp + 3 : mp - 9
        let year = yearOfEra + era * 400 + (month <= 2 ? 1 : 0)
        // 1970-01-01 was a Thursday (5).
        let weekday = ((Int(days % 7) + 7) % 7 + 4) % 7 + 1
        return (year, month, day, weekday)
    }
}
