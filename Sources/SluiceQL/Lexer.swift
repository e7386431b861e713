import SluiceCore

/// Turns SiddhiQL text into tokens. Works on UTF-8 bytes; columns count characters, not bytes.
struct Lexer {
    private let bytes: [UInt8]
    private var pos = 0
    private var line = 1
    private var column = 1
    private var tokens: [Token] = []

    init(_ source: String) {
        bytes = Array(source.utf8)
    }

    /// All tokens of `source`, ending with one `.eof`.
    static func tokenize(_ source: String) throws(Diagnostic) -> [Token] {
        var lexer = Lexer(source)
        return try lexer.run()
    }

    private var location: SourceLocation { SourceLocation(line: line, column: column, offset: pos) }

    private func peek(_ ahead: Int = 0) -> UInt8 {
        let i = pos + ahead
        return i < bytes.count ? bytes[i] : 0
    }

    /// Consumes one byte, keeping line and column right for newlines and multi-byte characters.
    private mutating func bump() {
        let b = bytes[pos]
        pos += 1
        if b == UInt8(ascii: "\n") {
            line += 1
            column = 1
        } else if b == UInt8(ascii: "\r") {
            // A CRLF pair counts once, at its LF.
            if pos >= bytes.count || bytes[pos] != UInt8(ascii: "\n") {
                line += 1
                column = 1
            }
        } else if b & 0xC0 != 0x80 {
            column += 1
        }
    }

    /// Consumes bytes known to be ASCII and not newlines.
    private mutating func bumpASCII(_ n: Int = 1) {
        pos += n
        column += n
    }

    private func text(_ from: Int, _ to: Int) -> String {
        String(decoding: bytes[from..<to], as: UTF8.self)
    }

    private mutating func run() throws(Diagnostic) -> [Token] {
        tokens.reserveCapacity(bytes.count / 4 + 1)
        while true {
            try skipTrivia()
            let start = location
            guard pos < bytes.count else {
                tokens.append(Token(.eof, "", range: SourceRange(start)))
                return tokens
            }
            let c = bytes[pos]
            if isIdentifierStart(c) {
                lexIdentifier(start)
            } else if isDigit(c) {
                lexNumber(start)
            } else {
                try lexOther(c, start)
            }
        }
    }

    private mutating func add(_ kind: TokenKind, _ text: String, _ start: SourceLocation, keyword: Keyword? = nil) {
        tokens.append(Token(kind, text, keyword: keyword, range: SourceRange(start: start, end: location)))
    }

    // MARK: Trivia

    private mutating func skipTrivia() throws(Diagnostic) {
        while pos < bytes.count {
            let c = bytes[pos]
            switch c {
            case UInt8(ascii: " "), UInt8(ascii: "\t"), 0x0B, 0x0C:
                bumpASCII()
            case UInt8(ascii: "\n"), UInt8(ascii: "\r"):
                bump()
            case UInt8(ascii: "-") where peek(1) == UInt8(ascii: "-"):
                skipLine()
            case UInt8(ascii: "/") where peek(1) == UInt8(ascii: "/"):
                skipLine()
            case UInt8(ascii: "/") where peek(1) == UInt8(ascii: "*"):
                let start = location
                bumpASCII(2)
                while true {
                    guard pos < bytes.count else {
                        throw Diagnostic("unterminated block comment",
                                         at: SourceRange(start: start, end: SourceLocation(line: start.line, column: start.column + 2, offset: start.offset + 2)))
                    }
                    if bytes[pos] == UInt8(ascii: "*") && peek(1) == UInt8(ascii: "/") {
                        bumpASCII(2)
                        break
                    }
                    bump()
                }
            default:
                return
            }
        }
    }

    private mutating func skipLine() {
        while pos < bytes.count && bytes[pos] != UInt8(ascii: "\n") && bytes[pos] != UInt8(ascii: "\r") {
            bump()
        }
    }

    // MARK: Identifiers and numbers

    private func isIdentifierStart(_ c: UInt8) -> Bool {
        (c >= UInt8(ascii: "a") && c <= UInt8(ascii: "z")) || (c >= UInt8(ascii: "A") && c <= UInt8(ascii: "Z")) || c == UInt8(ascii: "_")
    }

    private func isDigit(_ c: UInt8) -> Bool { c >= UInt8(ascii: "0") && c <= UInt8(ascii: "9") }

    private func isIdentifierPart(_ c: UInt8) -> Bool { isIdentifierStart(c) || isDigit(c) }

    private mutating func lexIdentifier(_ start: SourceLocation) {
        let from = pos
        while pos < bytes.count && isIdentifierPart(bytes[pos]) { pos += 1 }
        column += pos - from
        let name = text(from, pos)
        // The longest keyword is "unidirectional"; short strings lowercase without allocating.
        let keyword = pos - from <= 14 ? Keyword(rawValue: name.lowercased()) : nil
        add(.identifier, name, start, keyword: keyword)
    }

    private mutating func lexNumber(_ start: SourceLocation) {
        let from = pos
        var kind = TokenKind.int
        while isDigit(peek()) { bumpASCII() }
        if peek() == UInt8(ascii: "."), isDigit(peek(1)) {
            kind = .double
            bumpASCII()
            while isDigit(peek()) { bumpASCII() }
        }
        lexExponentAndSuffix(&kind)
        add(kind, text(from, pos), start)
    }

    /// `.5`, `.5e3`, `.5F`.
    private mutating func lexLeadingDotNumber(_ start: SourceLocation) {
        let from = pos
        var kind = TokenKind.double
        bumpASCII()
        while isDigit(peek()) { bumpASCII() }
        lexExponentAndSuffix(&kind)
        add(kind, text(from, pos), start)
    }

    private mutating func lexExponentAndSuffix(_ kind: inout TokenKind) {
        let e = peek()
        if e == UInt8(ascii: "e") || e == UInt8(ascii: "E") {
            let sign = peek(1) == UInt8(ascii: "+") || peek(1) == UInt8(ascii: "-")
            if isDigit(peek(sign ? 2 : 1)) {
                kind = .double
                bumpASCII(sign ? 2 : 1)
                while isDigit(peek()) { bumpASCII() }
            }
        }
        // A suffix counts only when no identifier runs on after it, so `10min` is `10` then `min`.
        let s = peek()
        guard !isIdentifierPart(peek(1)) else { return }
        switch s {
        case UInt8(ascii: "L"), UInt8(ascii: "l"):
            guard kind == .int else { return }
            kind = .long
        case UInt8(ascii: "F"), UInt8(ascii: "f"):
            kind = .float
        case UInt8(ascii: "D"), UInt8(ascii: "d"):
            kind = .double
        default:
            return
        }
        bumpASCII()
    }

    // MARK: Everything else

    private mutating func lexOther(_ c: UInt8, _ start: SourceLocation) throws(Diagnostic) {
        switch c {
        case UInt8(ascii: "'"), UInt8(ascii: "\""):
            try lexString(c, start)
        case UInt8(ascii: "`"):
            try lexQuotedIdentifier(start)
        case UInt8(ascii: "{"):
            try lexScript(start)
        case UInt8(ascii: "."):
            if peek(1) == UInt8(ascii: "."), peek(2) == UInt8(ascii: ".") {
                bumpASCII(3)
                add(.tripleDot, "...", start)
            } else if isDigit(peek(1)), leadingDotMayStartNumber {
                lexLeadingDotNumber(start)
            } else {
                punct(.dot, ".", start)
            }
        case UInt8(ascii: "-"):
            if peek(1) == UInt8(ascii: ">") { punct(.arrow, "->", start, 2) } else { punct(.minus, "-", start) }
        case UInt8(ascii: "="):
            if peek(1) == UInt8(ascii: "=") { punct(.equal, "==", start, 2) } else { punct(.assign, "=", start) }
        case UInt8(ascii: "!"):
            if peek(1) == UInt8(ascii: "=") { punct(.notEqual, "!=", start, 2) } else { punct(.bang, "!", start) }
        case UInt8(ascii: "<"):
            if peek(1) == UInt8(ascii: "=") { punct(.lessOrEqual, "<=", start, 2) } else { punct(.less, "<", start) }
        case UInt8(ascii: ">"):
            if peek(1) == UInt8(ascii: "=") { punct(.greaterOrEqual, ">=", start, 2) } else { punct(.greater, ">", start) }
        case UInt8(ascii: ","): punct(.comma, ",", start)
        case UInt8(ascii: ";"): punct(.semicolon, ";", start)
        case UInt8(ascii: "("): punct(.leftParen, "(", start)
        case UInt8(ascii: ")"): punct(.rightParen, ")", start)
        case UInt8(ascii: "["): punct(.leftBracket, "[", start)
        case UInt8(ascii: "]"): punct(.rightBracket, "]", start)
        case UInt8(ascii: ":"): punct(.colon, ":", start)
        case UInt8(ascii: "#"): punct(.hash, "#", start)
        case UInt8(ascii: "@"): punct(.atSign, "@", start)
        case UInt8(ascii: "+"): punct(.plus, "+", start)
        case UInt8(ascii: "*"): punct(.star, "*", start)
        case UInt8(ascii: "/"): punct(.slash, "/", start)
        case UInt8(ascii: "%"): punct(.percent, "%", start)
        case UInt8(ascii: "?"): punct(.question, "?", start)
        default:
            // Report the whole character, even when it takes several bytes.
            var end = pos + 1
            while end < bytes.count && bytes[end] & 0xC0 == 0x80 { end += 1 }
            let shown = text(pos, end)
            let hint = c == UInt8(ascii: "&") ? " (SiddhiQL writes 'and')" : c == UInt8(ascii: "|") ? " (SiddhiQL writes 'or')" : ""
            throw Diagnostic("unexpected character '\(shown)'\(hint)",
                             at: SourceRange(start: start, end: SourceLocation(line: line, column: column + 1, offset: end)))
        }
    }

    /// `.5` is a number only where a value may start; after a name, `)` or `]` the dot is a member access.
    private var leadingDotMayStartNumber: Bool {
        guard let last = tokens.last else { return true }
        switch last.kind {
        case .identifier, .quotedIdentifier, .rightParen, .rightBracket, .string, .int, .long, .float, .double: return false
        default: return true
        }
    }

    private mutating func punct(_ kind: TokenKind, _ text: String, _ start: SourceLocation, _ length: Int = 1) {
        bumpASCII(length)
        add(kind, text, start)
    }

    private func unterminated(_ what: String, _ start: SourceLocation) -> Diagnostic {
        Diagnostic("unterminated \(what)", at: SourceRange(start: start, end: location))
    }

    private mutating func lexString(_ quote: UInt8, _ start: SourceLocation) throws(Diagnostic) {
        if quote == UInt8(ascii: "\""), peek(1) == quote, peek(2) == quote {
            return try lexTripleQuotedString(start)
        }
        bumpASCII()
        let from = pos
        // Like Siddhi, plain strings have no escapes and end at the line.
        while pos < bytes.count && bytes[pos] != quote {
            if bytes[pos] == UInt8(ascii: "\n") || bytes[pos] == UInt8(ascii: "\r") {
                throw unterminated("string literal", start)
            }
            bump()
        }
        guard pos < bytes.count else { throw unterminated("string literal", start) }
        let value = text(from, pos)
        bumpASCII()
        add(.string, value, start)
    }

    /// `"""…"""` may span lines and takes Java escapes.
    private mutating func lexTripleQuotedString(_ start: SourceLocation) throws(Diagnostic) {
        bumpASCII(3)
        var value: [UInt8] = []
        while true {
            guard pos < bytes.count else { throw unterminated("string literal", start) }
            let c = bytes[pos]
            if c == UInt8(ascii: "\""), peek(1) == c, peek(2) == c {
                bumpASCII(3)
                break
            }
            if c == UInt8(ascii: "\\"), pos + 1 < bytes.count {
                bumpASCII()
                let e = bytes[pos]
                switch e {
                case UInt8(ascii: "n"): value.append(UInt8(ascii: "\n")); bumpASCII()
                case UInt8(ascii: "t"): value.append(UInt8(ascii: "\t")); bumpASCII()
                case UInt8(ascii: "r"): value.append(UInt8(ascii: "\r")); bumpASCII()
                case UInt8(ascii: "b"): value.append(0x08); bumpASCII()
                case UInt8(ascii: "f"): value.append(0x0C); bumpASCII()
                case UInt8(ascii: "\""), UInt8(ascii: "'"), UInt8(ascii: "\\"): value.append(e); bumpASCII()
                case UInt8(ascii: "u"):
                    var hex: UInt32 = 0
                    var digits = 0
                    var i = pos + 1
                    while i < bytes.count && bytes[i] == UInt8(ascii: "u") { i += 1 }
                    while digits < 4, i < bytes.count, let d = hexValue(bytes[i]) {
                        hex = hex * 16 + d
                        digits += 1
                        i += 1
                    }
                    if digits == 4, let scalar = Unicode.Scalar(hex) {
                        value.append(contentsOf: Array(String(Character(scalar)).utf8))
                        bumpASCII(i - pos)
                    } else {
                        value.append(UInt8(ascii: "\\"))
                    }
                default:
                    // Unknown escapes stay as written.
                    value.append(UInt8(ascii: "\\"))
                }
                continue
            }
            value.append(c)
            bump()
        }
        add(.string, String(decoding: value, as: UTF8.self), start)
    }

    private func hexValue(_ c: UInt8) -> UInt32? {
        switch c {
        case UInt8(ascii: "0")...UInt8(ascii: "9"): UInt32(c - UInt8(ascii: "0"))
        case UInt8(ascii: "a")...UInt8(ascii: "f"): UInt32(c - UInt8(ascii: "a") + 10)
        case UInt8(ascii: "A")...UInt8(ascii: "F"): UInt32(c - UInt8(ascii: "A") + 10)
        default: nil
        }
    }

    private mutating func lexQuotedIdentifier(_ start: SourceLocation) throws(Diagnostic) {
        bumpASCII()
        let from = pos
        while pos < bytes.count && bytes[pos] != UInt8(ascii: "`") {
            if bytes[pos] == UInt8(ascii: "\n") || bytes[pos] == UInt8(ascii: "\r") {
                throw unterminated("quoted identifier", start)
            }
            bump()
        }
        guard pos < bytes.count else { throw unterminated("quoted identifier", start) }
        let name = text(from, pos)
        bumpASCII()
        if name.isEmpty { throw Diagnostic("empty quoted identifier", at: SourceRange(start: start, end: location)) }
        add(.quotedIdentifier, name, start)
    }

    /// A function body: everything up to the matching `}`, skipping braces in strings and comments.
    private mutating func lexScript(_ start: SourceLocation) throws(Diagnostic) {
        bumpASCII()
        let from = pos
        var depth = 1
        while true {
            guard pos < bytes.count else { throw unterminated("function body", start) }
            let c = bytes[pos]
            switch c {
            case UInt8(ascii: "{"):
                depth += 1
                bumpASCII()
            case UInt8(ascii: "}"):
                depth -= 1
                if depth == 0 {
                    let body = text(from, pos)
                    bumpASCII()
                    add(.script, body, start)
                    return
                }
                bumpASCII()
            case UInt8(ascii: "\""), UInt8(ascii: "'"), UInt8(ascii: "`"):
                bump()
                while pos < bytes.count && bytes[pos] != c {
                    if bytes[pos] == UInt8(ascii: "\\") && pos + 1 < bytes.count { bump() }
                    bump()
                }
                if pos < bytes.count { bump() }
            case UInt8(ascii: "/") where peek(1) == UInt8(ascii: "/"):
                skipLine()
            case UInt8(ascii: "/") where peek(1) == UInt8(ascii: "*"):
                bumpASCII(2)
                while pos < bytes.count && !(bytes[pos] == UInt8(ascii: "*") && peek(1) == UInt8(ascii: "/")) { bump() }
                if pos < bytes.count { bumpASCII(2) }
            default:
                bump()
            }
        }
    }
}
