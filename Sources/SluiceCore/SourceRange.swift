/// A position in an app's text. Lines and columns count from 1.
public struct SourceLocation: Sendable, Hashable, Comparable, CustomStringConvertible {
    public var line: Int
    public var column: Int
    /// UTF-8 offset from the start of the text.
    public var offset: Int

    public init(line: Int, column: Int, offset: Int) {
        self.line = line
        self.column = column
        self.offset = offset
    }

    public static let start = SourceLocation(line: 1, column: 1, offset: 0)

    public static func < (a: SourceLocation, b: SourceLocation) -> Bool { a.offset < b.offset }

    public var description: String { "\(line):\(column)" }
}

/// The half-open span of text a syntax node came from.
public struct SourceRange: Sendable, Hashable, CustomStringConvertible {
    public var start: SourceLocation
    public var end: SourceLocation

    public init(start: SourceLocation, end: SourceLocation) {
        self.start = start
        self.end = end
    }

    public init(_ location: SourceLocation) {
        self.start = location
        self.end = location
    }

    public static let unknown = SourceRange(.start)

    /// The smallest range that covers both.
    public func joined(with other: SourceRange) -> SourceRange {
        SourceRange(start: min(start, other.start), end: max(end, other.end))
    }

    public var description: String { start.description }
}

/// An error in an app, pinned to the token that caused it.
public struct Diagnostic: Error, Sendable, Hashable, CustomStringConvertible {
    public var range: SourceRange
    public var message: String

    public init(_ message: String, at range: SourceRange) {
        self.message = message
        self.range = range
    }

    public var description: String { "\(range.start.line):\(range.start.column): \(message)" }

    /// `file:line:column: message`, the form compilers print.
    public func formatted(file: String) -> String { "\(file):\(range.start.line):\(range.start.column): \(message)" }
}
