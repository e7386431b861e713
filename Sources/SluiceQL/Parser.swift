import SluiceCore

/// Parses SiddhiQL 5 text into the syntax tree of `AST.swift`.
public enum SiddhiParser {
    /// Parses a whole app. Throws the first Diagnostic (message + SourceRange of the offending token).
    public static func parse(_ source: String) throws(Diagnostic) -> SiddhiApp {
        var parser = try Parser(source)
        return try parser.parseApp()
    }

    /// Parses one expression, such as `price * 2 > 10 and symbol == 'IBM'`.
    public static func parseExpression(_ source: String) throws(Diagnostic) -> Expression {
        var parser = try Parser(source)
        let expression = try parser.parseExpression()
        try parser.expectEnd("after the expression")
        return expression
    }

    /// Parses an on-demand (store) query such as `from T on T.a > 5 select a, b`.
    public static func parseOnDemandQuery(_ source: String) throws(Diagnostic) -> OnDemandQuery {
        var parser = try Parser(source)
        let query = try parser.parseOnDemandQuery()
        _ = parser.consume(.semicolon)
        try parser.expectEnd("after the on-demand query")
        return query
    }
}

/// A recursive-descent parser over the token array. Split by topic across `Parser+*.swift`.
struct Parser {
    let tokens: [Token]
    var index = 0

    /// Parenthesised expressions, pattern groups and nested annotations recurse; bounding the depth
    /// keeps a hostile or broken app from overflowing the stack (no real app comes near it).
    static let maxNesting = 64
    var nesting = 0

    init(_ source: String) throws(Diagnostic) {
        tokens = try Lexer.tokenize(source)
    }

    mutating func enterNested() throws(Diagnostic) {
        nesting += 1
        if nesting > Self.maxNesting {
            throw Diagnostic("nested more than \(Self.maxNesting) levels deep", at: token.range)
        }
    }

    mutating func leaveNested() { nesting -= 1 }

    // MARK: Token access

    var token: Token { tokens[index] }

    func peek(_ ahead: Int = 1) -> Token {
        let i = Swift.max(0, index + ahead)
        return i < tokens.count ? tokens[i] : tokens[tokens.count - 1]
    }

    var start: SourceLocation { tokens[index].range.start }

    /// Where the last consumed token ends.
    var lastEnd: SourceLocation { index > 0 ? tokens[index - 1].range.end : tokens[0].range.start }

    /// From `start` to the end of the last consumed token.
    func range(from start: SourceLocation) -> SourceRange {
        SourceRange(start: start, end: max(start, lastEnd))
    }

    @discardableResult
    mutating func advance() -> Token {
        let t = tokens[index]
        if t.kind != .eof { index += 1 }
        return t
    }

    func at(_ kind: TokenKind) -> Bool { tokens[index].kind == kind }

    /// True when the current token is the unquoted keyword `k`.
    func at(_ k: Keyword) -> Bool { tokens[index].keyword == k && tokens[index].kind == .identifier }

    mutating func consume(_ kind: TokenKind) -> Token? {
        at(kind) ? advance() : nil
    }

    mutating func consume(_ k: Keyword) -> Token? {
        at(k) ? advance() : nil
    }

    @discardableResult
    mutating func expect(_ kind: TokenKind, _ expected: String) throws(Diagnostic) -> Token {
        guard at(kind) else { throw unexpected(expected) }
        return advance()
    }

    @discardableResult
    mutating func expect(_ k: Keyword, _ expected: String) throws(Diagnostic) -> Token {
        guard at(k) else { throw unexpected(expected) }
        return advance()
    }

    /// `unexpected ',' — expected an attribute name`, pinned to the current token.
    func unexpected(_ expected: String) -> Diagnostic {
        Diagnostic("unexpected \(token.description) — expected \(expected)", at: token.range)
    }

    func expectEnd(_ context: String) throws(Diagnostic) {
        guard at(.eof) else { throw unexpected("end of input \(context)") }
    }

    /// A stream, attribute or other name. Siddhi lets keywords serve as names, and so do we.
    mutating func parseName(_ expected: String) throws(Diagnostic) -> Identifier {
        guard token.isName else { throw unexpected(expected) }
        let t = advance()
        return Identifier(t.text, range: t.range)
    }

    /// The name after `as`; a clause keyword there means the name is missing.
    mutating func parseAlias() throws(Diagnostic) -> Identifier {
        if isReservedName(token) { throw unexpected("a name after 'as'") }
        return try parseName("a name after 'as'")
    }

    // MARK: App

    mutating func parseApp() throws(Diagnostic) -> SiddhiApp {
        var app = SiddhiApp()
        while true {
            while consume(.semicolon) != nil {}
            if at(.eof) { break }
            let statementStart = start
            var annotations: [Annotation] = []
            for annotation in try parseAnnotations() {
                if annotation.isAppAnnotation { app.annotations.append(annotation) } else { annotations.append(annotation) }
            }
            let begin = annotations.first?.range.start ?? start
            let what: String
            if at(.define) {
                let definition = try parseDefinition(annotations: annotations, start: begin)
                app.definitions.append(definition)
                what = "the \(definition.kindName) definition"
            } else if at(.from) {
                app.executionElements.append(.query(try parseQuery(annotations: annotations, start: begin)))
                what = "the query"
            } else if at(.partition) {
                app.executionElements.append(.partition(try parsePartition(annotations: annotations, start: begin)))
                what = "the partition"
            } else if annotations.isEmpty && start != statementStart && (at(.eof) || at(.semicolon)) {
                // Only app annotations: they need no statement after them.
                continue
            } else {
                throw unexpected("'define', 'from' or 'partition'")
            }
            if !at(.eof) {
                try expect(.semicolon, "';' after \(what)")
            }
        }
        return app
    }
}

extension Annotation {
    var isAppAnnotation: Bool { name.lowercased().hasPrefix("app:") }
}

extension Definition {
    var kindName: String {
        switch self {
        case .stream: "stream"
        case .table: "table"
        case .window: "window"
        case .trigger: "trigger"
        case .aggregation: "aggregation"
        case .function: "function"
        }
    }
}
