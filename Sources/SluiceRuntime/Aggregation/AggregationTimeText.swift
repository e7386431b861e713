/// Siddhi's timestamp strings for aggregations: `'2017-06-01 04:05:50'`, optionally followed by a
/// zone offset (`'2017-06-01 04:05:50 +05:30'`), and the `within` patterns whose trailing fields are
/// wildcards (`"2017-06-** **:**:**"`). Without an offset a string is read as UTC.
enum AggregationTimeText {
    /// Milliseconds since the epoch, or nil when `text` is not `yyyy-MM-dd HH:mm:ss[ ±HH:mm]`.
    static func parse(_ text: String) -> Int64? {
        guard let (fields, offset) = split(text), fields.allSatisfy({ $0 != nil }) else { return nil }
        return instant(fields.map { $0! }, offset: offset)
    }

    /// The range `[start, end)` a `within` pattern covers: the finest written field's bucket.
    static func range(pattern text: String) -> (start: Int64, end: Int64)? {
        guard let (fields, offset) = split(text), fields[0] != nil else { return nil }
        let written = fields.prefix { $0 != nil }.count
        // Once a field is a wildcard, every later one is.
        guard fields[written...].allSatisfy({ $0 == nil }) else { return nil }
        var values = fields.map { $0 ?? 0 }
        if written < 3 { values[2] = 1 }
        if written < 2 { values[1] = 1 }
        guard let start = instant(values, offset: offset) else { return nil }
        let unit: AggregationDuration = [.years, .months, .days, .hours, .minutes, .seconds][written - 1]
        // A local bucket starts where the UTC one does, shifted by the offset.
        return (start, unit.step(start + offset, by: 1) - offset)
    }

    /// Year, month, day, hour, minute and second (nil for a wildcard field) and the zone offset in milliseconds.
    private static func split(_ text: String) -> ([Int64?], Int64)? {
        let parts = text.split(separator: " ", omittingEmptySubsequences: true)
        guard parts.count == 2 || parts.count == 3 else { return nil }
        let date = parts[0].split(separator: "-", omittingEmptySubsequences: false)
        let time = parts[1].split(separator: ":", omittingEmptySubsequences: false)
        guard date.count == 3, time.count == 3 else { return nil }
        var fields: [Int64?] = []
        for (i, field) in (date + time).enumerated() {
            let width = i == 0 ? 4 : 2
            guard field.count == width else { return nil }
            if field.allSatisfy({ $0 == "*" }) {
                fields.append(nil)
            } else {
                guard field.allSatisfy(\.isASCII), field.allSatisfy(\.isNumber), let v = Int64(field) else { return nil }
                fields.append(v)
            }
        }
        var offset: Int64 = 0
        if parts.count == 3 {
            guard let o = zoneOffset(parts[2]) else { return nil }
            offset = o
        }
        return (fields, offset)
    }

    /// `+05:30`, `-0800` or `Z`, in milliseconds east of UTC.
    private static func zoneOffset(_ text: Substring) -> Int64? {
        if text == "Z" || text == "UTC" || text == "GMT" { return 0 }
        guard let sign = text.first, sign == "+" || sign == "-" else { return nil }
        let digits = text.dropFirst().filter { $0 != ":" }
        guard digits.count == 4, digits.allSatisfy({ $0.isASCII && $0.isNumber }),
              let hh = Int64(digits.prefix(2)), let mm = Int64(digits.suffix(2)), hh < 24, mm < 60 else { return nil }
        let ms = (hh * 60 + mm) * 60_000
        return sign == "+" ? ms : -ms
    }

    private static func instant(_ f: [Int64], offset: Int64) -> Int64? {
        guard (1...12).contains(f[1]), (1...31).contains(f[2]), f[3] < 24, f[4] < 60, f[5] < 60 else { return nil }
        let days = Civil.days(year: Int(f[0]), month: Int(f[1]), day: Int(f[2]))
        // Refuse dates that do not exist (2017-02-30).
        let date = Civil.date(ofDay: days)
        guard (Int64(date.year), Int64(date.month), Int64(date.day)) == (f[0], f[1], f[2]) else { return nil }
        return ((days * 24 + f[3]) * 60 + f[4]) * 60_000 + f[5] * 1_000 - offset
    }
}
