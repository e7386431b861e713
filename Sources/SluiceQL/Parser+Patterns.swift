import SluiceCore

/// What a pattern or sequence has shown so far while parsing it.
struct StateParseContext {
    /// Set by the first `->` (pattern) or `,` (sequence); the two cannot mix.
    var kind: StateInputStream.Kind?
    /// The first `*`, `+` or `?`, which only a sequence allows.
    var firstQuantifier: Token?
}

// Grammar, loosest first:
//   chain   := term (('->' | ',') chain)?          right-nested: A -> B -> C is next(A, next(B, C))
//   term    := 'every' logical | logical
//   logical := unary (('and' | 'or') unary)*
//   unary   := '(' chain ')' ['within' time] | 'not' stream ['for' time] | [ref '='] stream [count | quantifier]
extension Parser {
    mutating func parseStateInput() throws(Diagnostic) -> StateInputStream {
        let begin = start
        var context = StateParseContext()
        let root = try parseStateChain(&context)
        var within: Int64?
        if consume(.within) != nil {
            within = try parseTimeValue(after: "'within'")
        }
        let kind = context.kind ?? (context.firstQuantifier != nil ? .sequence : .pattern)
        if kind == .pattern, let quantifier = context.firstQuantifier {
            throw Diagnostic("'\(quantifier.text)' is only allowed in a sequence (events separated by ','); use '<n:m>' in a pattern",
                             at: quantifier.range)
        }
        return StateInputStream(kind: kind, root: root, within: within, range: range(from: begin))
    }

    private mutating func parseStateChain(_ context: inout StateParseContext) throws(Diagnostic) -> StateElement {
        let first = try parseStateTerm(&context)
        let kind: StateInputStream.Kind
        switch token.kind {
        case .arrow: kind = .pattern
        case .comma: kind = .sequence
        default: return first
        }
        if let existing = context.kind, existing != kind {
            throw Diagnostic("cannot mix '->' (pattern) and ',' (sequence) in one input", at: token.range)
        }
        context.kind = kind
        advance()
        let rest = try parseStateChain(&context)
        return .next(first, rest)
    }

    private mutating func parseStateTerm(_ context: inout StateParseContext) throws(Diagnostic) -> StateElement {
        if consume(.every) != nil {
            return .every(try parseLogicalState(&context))
        }
        return try parseLogicalState(&context)
    }

    private mutating func parseLogicalState(_ context: inout StateParseContext) throws(Diagnostic) -> StateElement {
        var left = try parseUnaryState(&context)
        var combined = false
        while at(.and) || at(.or) {
            let operatorToken = advance()
            let op: LogicalOperator = operatorToken.keyword == .and ? .and : .or
            let right = try parseUnaryState(&context)
            // `not S` without `for` waits for its partner, which only `and` provides.
            if op == .or, left.isOpenAbsent || right.isOpenAbsent {
                throw Diagnostic("'not …' without 'for <time>' can only be combined with 'and'", at: operatorToken.range)
            }
            left = .logical(left, op, right)
            combined = true
        }
        if !combined, case .absent(let element, nil) = left {
            throw unexpected("'for <time>' or 'and …' after 'not \(element.stream.stream.name)'")
        }
        return left
    }

    private mutating func parseUnaryState(_ context: inout StateParseContext) throws(Diagnostic) -> StateElement {
        if at(.leftParen) {
            try enterNested()
            defer { leaveNested() }
            let open = advance()
            let inner = try parseStateChain(&context)
            try expect(.rightParen, "')' to close the '(' at \(open.range.start)")
            // `(…) within t` bounds the group unless it ends the whole input, where the bound is the input's.
            if at(.within) {
                let save = index
                advance()
                let milliseconds = try parseTimeValue(after: "'within'")
                switch token.kind {
                case .arrow, .comma, .rightParen:
                    return .within(inner, milliseconds: milliseconds)
                default:
                    if at(.and) || at(.or) { return .within(inner, milliseconds: milliseconds) }
                    index = save
                }
            }
            return inner
        }
        if consume(.not) != nil {
            if token.isName, peek().kind == .assign {
                throw Diagnostic("an absent stream ('not …') takes no event reference", at: token.range)
            }
            let element = try parseStreamState()
            var milliseconds: Int64?
            if consume(.for) != nil {
                milliseconds = try parseTimeValue(after: "'for'")
            }
            return .absent(element, forMilliseconds: milliseconds)
        }
        let element = try parseStreamState()
        switch token.kind {
        case .less:
            return try parseCount(element)
        case .star, .plus, .question:
            let quantifierToken = advance()
            if context.firstQuantifier == nil { context.firstQuantifier = quantifierToken }
            let quantifier: SequenceQuantifier = quantifierToken.kind == .star ? .zeroOrMore
                : quantifierToken.kind == .plus ? .oneOrMore : .zeroOrOne
            return .quantified(element, quantifier)
        default:
            return .stream(element)
        }
    }

    /// `[e1=]S[filter]#fn(…)`.
    private mutating func parseStreamState() throws(Diagnostic) -> StreamStateElement {
        let begin = start
        var reference: Identifier?
        if token.isName, peek().kind == .assign {
            reference = try parseName("an event reference")
            advance() // =
        }
        let stream = try parseSingleInputStream(.state)
        return StreamStateElement(eventReference: reference, stream: stream, range: range(from: begin))
    }

    /// `<2:5>`, `<2:>`, `<:5>`, `<3>`.
    private mutating func parseCount(_ element: StreamStateElement) throws(Diagnostic) -> StateElement {
        let open = advance() // <
        var min: Int?
        var max: Int?
        if at(.int) {
            min = try parseCountBound()
        }
        if consume(.colon) != nil {
            if at(.int) { max = try parseCountBound() }
        } else {
            max = min
        }
        if min == nil && max == nil {
            throw unexpected("a count such as '<2:5>', '<2:>', '<:5>' or '<3>'")
        }
        try expect(.greater, "'>' to close the count of '\(element.stream.stream.name)'")
        if let min, let max, min > max {
            throw Diagnostic("the minimum count \(min) exceeds the maximum \(max)", at: range(from: open.range.start))
        }
        return .count(element, min: min, max: max)
    }

    private mutating func parseCountBound() throws(Diagnostic) -> Int {
        let t = advance()
        guard let value = Int(t.text) else { throw Diagnostic("count '\(t.text)' is too large", at: t.range) }
        return value
    }
}

private extension StateElement {
    /// `not S` still waiting for an `and` partner or a `for` duration.
    var isOpenAbsent: Bool {
        if case .absent(_, nil) = self { return true }
        return false
    }
}
