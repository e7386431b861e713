import SluiceCore

/// Where a single stream appears; it decides whether windows and aliases are allowed.
enum StreamPosition {
    /// `from S…` of a plain query: windows and `as alias`.
    case standard
    /// Either side of a join: windows and `as alias`.
    case join
    /// An element of a pattern or sequence: filters and stream functions only.
    case state
    /// The input of `define aggregation`: no alias.
    case aggregation
}

extension Parser {
    /// The input after `from`: a single stream, a join, a pattern or a sequence.
    mutating func parseQueryInput() throws(Diagnostic) -> InputStream {
        if at(.leftParen), peek().keyword == .from {
            throw Diagnostic("anonymous (nested) query inputs are not supported", at: token.range)
        }
        // `every`, `not`, `(` and `e1=` can only start a pattern or sequence.
        if at(.every) || at(.not) || at(.leftParen) || (token.isName && peek().kind == .assign) {
            return .state(try parseStateInput())
        }
        let save = index
        let single = try parseSingleInputStream(.standard)
        if isJoinStart {
            return .join(try parseJoin(left: single))
        }
        // `S -> T`, `S, T`, `S and T`, `S<2:>`, `S+`: a pattern or sequence whose first element has no reference.
        switch token.kind {
        case .arrow, .comma, .less, .star, .plus, .question:
            index = save
            return .state(try parseStateInput())
        default:
            if at(.and) || at(.or) {
                index = save
                return .state(try parseStateInput())
            }
        }
        return .single(single)
    }

    private var isJoinStart: Bool {
        guard at(.identifier), let k = token.keyword else { return false }
        switch k {
        case .join, .inner, .left, .right, .full, .outer, .unidirectional: return true
        default: return false
        }
    }

    /// `[#|!]S` followed by filters, stream functions and at most one window, in any order, then `as alias`.
    mutating func parseSingleInputStream(_ position: StreamPosition) throws(Diagnostic) -> SingleInputStream {
        let begin = start
        var isInner = false
        var isFault = false
        if consume(.hash) != nil {
            isInner = true
        } else if consume(.bang) != nil {
            isFault = true
        }
        if isReservedName(token) { throw unexpected("a stream name") }
        let stream = try parseName("a stream name")
        var handlers: [StreamHandler] = []
        var hasWindow = false
        while true {
            if at(.leftBracket) {
                handlers.append(.filter(try parseFilter(of: stream)))
            } else if at(.hash) {
                if peek().kind == .leftBracket {
                    advance()
                    handlers.append(.filter(try parseFilter(of: stream)))
                } else if peek().keyword == .window, peek(2).kind == .dot {
                    let hashStart = start
                    advance()
                    advance()
                    advance()
                    if position == .state {
                        throw Diagnostic("a stream in a pattern or sequence cannot have a window", at: range(from: hashStart))
                    }
                    if hasWindow {
                        throw Diagnostic("'\(stream.name)' already has a window; a stream takes at most one", at: range(from: hashStart))
                    }
                    guard token.isName else { throw unexpected("a window function such as 'length(5)' after '#window.'") }
                    handlers.append(.window(try parseFunctionCall()))
                    hasWindow = true
                } else {
                    advance()
                    guard token.isName else { throw unexpected("a window, a stream function or a filter after '#'") }
                    if token.keyword == .window, peek().kind == .leftParen {
                        advance()
                        throw unexpected("'.' and a window function after '#window', as in '#window.length(5)'")
                    }
                    handlers.append(.function(try parseFunctionCall()))
                }
            } else {
                break
            }
        }
        var alias: Identifier?
        if position == .standard || position == .join, consume(.as) != nil {
            alias = try parseAlias()
        }
        return SingleInputStream(isInner: isInner, isFault: isFault, stream: stream, alias: alias, handlers: handlers,
                                 range: range(from: begin))
    }

    /// `[condition]`.
    private mutating func parseFilter(of stream: Identifier) throws(Diagnostic) -> Expression {
        advance() // [
        let condition = try parseExpression()
        try expect(.rightBracket, "']' to close the filter of '\(stream.name)'")
        return condition
    }

    /// `A … [unidirectional] join B … [unidirectional] [on cond] [within a[, b]] [per p]`.
    private mutating func parseJoin(left: SingleInputStream) throws(Diagnostic) -> JoinInputStream {
        var trigger = JoinInputStream.Trigger.both
        if consume(.unidirectional) != nil {
            trigger = .left
        }
        let type = try parseJoinType()
        let right = try parseSingleInputStream(.join)
        if at(.unidirectional) {
            if trigger == .left {
                throw Diagnostic("only one side of a join can be unidirectional", at: token.range)
            }
            advance()
            trigger = .right
        }
        var on: Expression?
        if consume(.on) != nil {
            on = try parseExpression()
        }
        var within: Expression?
        var withinEnd: Expression?
        var per: Expression?
        if consume(.within) != nil {
            within = try parseExpression()
            if consume(.comma) != nil {
                withinEnd = try parseExpression()
            }
        }
        if consume(.per) != nil {
            per = try parseExpression()
        }
        return JoinInputStream(left: left, type: type, right: right, on: on, within: within, per: per, trigger: trigger,
                               range: range(from: left.range.start), withinEnd: withinEnd)
    }

    private mutating func parseJoinType() throws(Diagnostic) -> JoinType {
        let expected = "'join', 'inner join', 'left outer join', 'right outer join' or 'full outer join'"
        guard at(.identifier), let k = token.keyword else { throw unexpected(expected) }
        let type: JoinType
        switch k {
        case .join:
            advance()
            return .inner
        case .inner:
            advance()
            type = .inner
        case .left, .right, .full:
            advance()
            _ = consume(.outer)
            type = k == .left ? .leftOuter : k == .right ? .rightOuter : .fullOuter
        case .outer:
            advance()
            type = .fullOuter
        default:
            throw unexpected(expected)
        }
        try expect(.join, "'join'")
        return type
    }
}
