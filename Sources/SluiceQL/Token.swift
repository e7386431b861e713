import SluiceCore

/// What a token is. Keywords are plain identifiers here; `Token.keyword` says which one, if any.
enum TokenKind: UInt8, Sendable, Hashable {
    case identifier
    /// `` `name` ``: never a keyword.
    case quotedIdentifier
    case string
    case int
    case long
    case float
    case double
    /// `{ … }` of `define function`, kept verbatim without the braces.
    case script

    case arrow          // ->
    case comma          // ,
    case semicolon      // ;
    case leftParen      // (
    case rightParen     // )
    case leftBracket    // [
    case rightBracket   // ]
    case dot            // .
    case tripleDot      // ...
    case colon          // :
    case hash           // #
    case bang           // !
    case atSign         // @
    case assign         // =
    case equal          // ==
    case notEqual       // !=
    case less           // <
    case lessOrEqual    // <=
    case greater        // >
    case greaterOrEqual // >=
    case plus           // +
    case minus          // -
    case star           // *
    case slash          // /
    case percent        // %
    case question       // ?
    case eof
}

/// SiddhiQL keywords, matched case-insensitively. Siddhi lets most of them double as names,
/// so the parser only treats an identifier as a keyword where the grammar expects one.
enum Keyword: String, Sendable, Hashable {
    case define, stream, table, window, trigger, aggregation, aggregate, function
    case from, select, distinct, insert, delete, update, set, into, `return`
    case events, current, expired, all, first, last, output, snapshot
    case every, within, per, on, `as`, and, or, not, `is`, null, `in`, `true`, `false`
    case join, inner, outer, left, right, full, unidirectional
    case group, by, having, order, asc, desc, limit, offset
    case partition, with, of, begin, end, at, `for`
    case year, years, month, months, week, weeks, day, days, hour, hours
    case min, minute, minutes, sec, second, seconds, millisec, millisecond, milliseconds

    /// Milliseconds per unit; Siddhi counts a month as 30 days and a year as 365.
    var timeUnitMilliseconds: Int64? {
        switch self {
        case .year, .years: 365 * 86_400_000
        case .month, .months: 30 * 86_400_000
        case .week, .weeks: 7 * 86_400_000
        case .day, .days: 86_400_000
        case .hour, .hours: 3_600_000
        case .min, .minute, .minutes: 60_000
        case .sec, .second, .seconds: 1_000
        case .millisec, .millisecond, .milliseconds: 1
        default: nil
        }
    }

    /// The granularity an aggregation's `every` clause names.
    var duration: TimeDuration? {
        switch self {
        case .sec, .second, .seconds: .seconds
        case .min, .minute, .minutes: .minutes
        case .hour, .hours: .hours
        case .day, .days: .days
        case .week, .weeks: .weeks
        case .month, .months: .months
        case .year, .years: .years
        default: nil
        }
    }
}

struct Token: Sendable, Hashable {
    var kind: TokenKind
    /// The name, the string's value, or the text as written for numbers and punctuation.
    var text: String
    /// Set for unquoted identifiers that spell a keyword.
    var keyword: Keyword?
    var range: SourceRange

    init(_ kind: TokenKind, _ text: String, keyword: Keyword? = nil, range: SourceRange) {
        self.kind = kind
        self.text = text
        self.keyword = keyword
        self.range = range
    }

    var isName: Bool { kind == .identifier || kind == .quotedIdentifier }
    var isNumber: Bool { kind == .int || kind == .long || kind == .float || kind == .double }

    /// How error messages quote the token.
    var description: String {
        switch kind {
        case .eof: "end of input"
        case .string: "string '\(text.count > 30 ? String(text.prefix(30)) + "…" : text)'"
        case .script: "function body"
        case .quotedIdentifier: "'`\(text)`'"
        default: "'\(text)'"
        }
    }
}
