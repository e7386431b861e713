import SluiceCore

// Precedence, lowest first: or, and, not, == !=, < <= > >=, is null / in, + -, * / %, unary minus, primary.
// Equality sits below the relational operators, as in Siddhi, so `a < b == c < d` compares two booleans.
extension Parser {
    mutating func parseExpression() throws(Diagnostic) -> Expression {
        try enterNested()
        defer { leaveNested() }
        return try parseOr()
    }

    mutating func parseExpressionList() throws(Diagnostic) -> [Expression] {
        var list = [try parseExpression()]
        while consume(.comma) != nil {
            list.append(try parseExpression())
        }
        return list
    }

    private mutating func parseOr() throws(Diagnostic) -> Expression {
        var left = try parseAnd()
        while consume(.or) != nil {
            let right = try parseAnd()
            left = Expression(.or(left, right), range: left.range.joined(with: right.range))
        }
        return left
    }

    private mutating func parseAnd() throws(Diagnostic) -> Expression {
        var left = try parseNot()
        while consume(.and) != nil {
            let right = try parseNot()
            left = Expression(.and(left, right), range: left.range.joined(with: right.range))
        }
        return left
    }

    private mutating func parseNot() throws(Diagnostic) -> Expression {
        if let not = consume(.not) {
            let operand = try parseNot()
            return Expression(.not(operand), range: SourceRange(start: not.range.start, end: operand.range.end))
        }
        return try parseIn()
    }

    /// `cond in T` binds looser than comparisons, as in Siddhi's grammar: `T.x == x in T` tests
    /// the whole comparison against the table's rows.
    private mutating func parseIn() throws(Diagnostic) -> Expression {
        var left = try parseEquality()
        while at(.in) {
            advance()
            let table = try parseName("a table name after 'in'")
            left = Expression(.inTable(left, table: table), range: range(from: left.range.start))
        }
        return left
    }

    private mutating func parseEquality() throws(Diagnostic) -> Expression {
        var left = try parseRelational()
        while true {
            let op: ComparisonOperator
            switch token.kind {
            case .equal: op = .equal
            case .notEqual: op = .notEqual
            default: return left
            }
            advance()
            let right = try parseRelational()
            left = Expression(.comparison(op, left, right), range: left.range.joined(with: right.range))
        }
    }

    private mutating func parseRelational() throws(Diagnostic) -> Expression {
        var left = try parseNullCheck()
        while true {
            let op: ComparisonOperator
            switch token.kind {
            case .less: op = .less
            case .lessOrEqual: op = .lessOrEqual
            case .greater: op = .greater
            case .greaterOrEqual: op = .greaterOrEqual
            default: return left
            }
            advance()
            let right = try parseNullCheck()
            left = Expression(.comparison(op, left, right), range: left.range.joined(with: right.range))
        }
    }

    /// `x is null`.
    private mutating func parseNullCheck() throws(Diagnostic) -> Expression {
        var left = try parseAdditive()
        while true {
            if at(.is) {
                advance()
                if at(.not) {
                    throw Diagnostic("SiddhiQL has no 'is not null'; write 'not (x is null)'", at: token.range)
                }
                try expect(.null, "'null' after 'is'")
                // A bare name stays a variable (`.isNull`): only the runtime knows whether it names an
                // attribute or an event reference, and it turns the latter into a stream check.
                left = Expression(.isNull(left), range: range(from: left.range.start))
            } else {
                return left
            }
        }
    }

    private mutating func parseAdditive() throws(Diagnostic) -> Expression {
        var left = try parseMultiplicative()
        while true {
            let op: ArithmeticOperator
            switch token.kind {
            case .plus: op = .add
            case .minus: op = .subtract
            default: return left
            }
            advance()
            let right = try parseMultiplicative()
            left = Expression(.arithmetic(op, left, right), range: left.range.joined(with: right.range))
        }
    }

    private mutating func parseMultiplicative() throws(Diagnostic) -> Expression {
        var left = try parseUnary()
        while true {
            let op: ArithmeticOperator
            switch token.kind {
            case .star: op = .multiply
            case .slash: op = .divide
            case .percent: op = .modulo
            default: return left
            }
            advance()
            let right = try parseUnary()
            left = Expression(.arithmetic(op, left, right), range: left.range.joined(with: right.range))
        }
    }

    private mutating func parseUnary() throws(Diagnostic) -> Expression {
        if at(.minus) {
            let minus = advance()
            if token.isNumber {
                // `-5` is one constant, so `-2147483648` fits an int.
                return try parseNumber(negative: true, start: minus.range.start)
            }
            let operand = try parseUnary()
            return Expression(.negate(operand), range: SourceRange(start: minus.range.start, end: operand.range.end))
        }
        if at(.plus) {
            let plus = advance()
            var operand = try parseUnary()
            operand.range.start = plus.range.start
            return operand
        }
        return try parsePrimary()
    }

    // MARK: Primary

    private mutating func parsePrimary() throws(Diagnostic) -> Expression {
        let t = token
        switch t.kind {
        case .leftParen:
            advance()
            var inner = try parseExpression()
            try expect(.rightParen, "')' to close the '(' at \(t.range.start)")
            inner.range = range(from: t.range.start)
            return inner
        case .int, .long, .float, .double:
            return try parseNumber(negative: false, start: t.range.start)
        case .string:
            advance()
            return Expression(.constant(.string(t.text)), range: t.range)
        case .hash:
            advance()
            let stream = try parseName("a stream name after '#'")
            return try parseQualifiedReference(stream, isInner: true, start: t.range.start)
        case .identifier, .quotedIdentifier:
            if t.kind == .identifier {
                switch t.keyword {
                case .true:
                    advance()
                    return Expression(.constant(.bool(true)), range: t.range)
                case .false:
                    advance()
                    return Expression(.constant(.bool(false)), range: t.range)
                case .null:
                    advance()
                    return Expression(.constant(.null), range: t.range)
                default:
                    break
                }
            }
            if peek().kind == .leftParen || (peek().kind == .colon && peek(2).isName && peek(3).kind == .leftParen) {
                let call = try parseFunctionCall()
                return Expression(.function(call), range: call.range)
            }
            if peek().kind == .dot || peek().kind == .leftBracket {
                advance()
                return try parseQualifiedReference(Identifier(t.text, range: t.range), isInner: false, start: t.range.start)
            }
            if isReservedName(t) {
                throw unexpected("an expression")
            }
            advance()
            return Expression(.variable(Variable(attribute: Identifier(t.text, range: t.range))), range: t.range)
        default:
            throw unexpected("an expression")
        }
    }

    /// Siddhi lets keywords serve as names, but a clause keyword where a name or value belongs is nearly
    /// always a missing one (`select insert into …`); refusing it here gives a clearer error.
    func isReservedName(_ t: Token) -> Bool {
        guard t.kind == .identifier, let k = t.keyword else { return false }
        switch k {
        case .select, .insert, .delete, .update, .return, .output, .into, .having, .limit, .offset, .within, .per,
             .join, .define, .partition, .begin, .unidirectional, .every, .and, .or, .not, .is, .in:
            return true
        case .group, .order:
            return peek().keyword == .by
        default:
            return false
        }
    }

    /// After `S` or `#S`: `.attr`, `[index].attr`, or `[index] is null` / `#S is null` for a stream check.
    private mutating func parseQualifiedReference(_ qualifier: Identifier, isInner: Bool, start begin: SourceLocation) throws(Diagnostic) -> Expression {
        var index: EventIndex?
        if consume(.leftBracket) != nil {
            index = try parseEventIndex(of: qualifier)
            try expect(.rightBracket, "']' to close the event index of '\(qualifier.name)'")
        }
        if consume(.dot) != nil {
            let attribute = try parseName("an attribute name after '\(qualifier.name).'")
            let variable = Variable(qualifier: qualifier, isInnerQualifier: isInner, index: index, attribute: attribute)
            return Expression(.variable(variable), range: range(from: begin))
        }
        if at(.is), peek().keyword == .null {
            advance()
            advance()
            return Expression(.streamIsNull(qualifier, index: index), range: range(from: begin))
        }
        throw unexpected("'.' and an attribute name after '\(isInner ? "#" : "")\(qualifier.name)\(index == nil ? "" : "[…]")'")
    }

    /// `0`, `last`, `last - 1`.
    private mutating func parseEventIndex(of qualifier: Identifier) throws(Diagnostic) -> EventIndex {
        if at(.int) {
            let t = advance()
            guard let position = Int(t.text) else { throw Diagnostic("event index '\(t.text)' is too large", at: t.range) }
            return .position(position)
        }
        if consume(.last) != nil {
            if consume(.minus) != nil {
                guard at(.int) else { throw unexpected("a number after 'last -'") }
                let t = advance()
                guard let minus = Int(t.text) else { throw Diagnostic("event index '\(t.text)' is too large", at: t.range) }
                return .last(minus: minus)
            }
            return .last(minus: 0)
        }
        throw unexpected("an event index of '\(qualifier.name)': a number, 'last' or 'last - n'")
    }

    /// `[ns:]name(args)`; `f(*)` and `f()` both have no arguments.
    mutating func parseFunctionCall() throws(Diagnostic) -> FunctionCall {
        let begin = start
        var namespace: Identifier?
        var name = try parseName("a function name")
        if consume(.colon) != nil {
            namespace = name
            name = try parseName("a function name after '\(name.name):'")
        }
        let qualified = namespace.map { "\($0.name):\(name.name)" } ?? name.name
        try expect(.leftParen, "'(' after the function name '\(qualified)'")
        var arguments: [Expression] = []
        if consume(.star) != nil {
            // `count(*)`
        } else if !at(.rightParen) {
            arguments = try parseExpressionList()
        }
        try expect(.rightParen, "')' to close the arguments of '\(qualified)'")
        return FunctionCall(namespace: namespace, name: name, arguments: arguments, range: range(from: begin))
    }

    /// An attribute such as `a`, `T.a` or `e1.a`, where only that may stand (set targets, `aggregate by`).
    mutating func parseAttributeReference(_ expected: String) throws(Diagnostic) -> Expression {
        guard token.isName || at(.hash) else { throw unexpected(expected) }
        let expression = try parsePrimary()
        guard case .variable = expression.kind else {
            throw Diagnostic("expected \(expected), not a function call or constant", at: expression.range)
        }
        return expression
    }

    // MARK: Literals

    /// A numeric literal at the current token, or a time constant when a unit follows an int.
    private mutating func parseNumber(negative: Bool, start begin: SourceLocation) throws(Diagnostic) -> Expression {
        let t = token
        if t.kind == .int, peek().kind == .identifier, peek().keyword?.timeUnitMilliseconds != nil {
            let milliseconds = try parseTimeValue(after: "")
            return Expression(.constant(.time(milliseconds: negative ? -milliseconds : milliseconds)), range: range(from: begin))
        }
        advance()
        let sign = negative ? "-" : ""
        let constant: Constant
        switch t.kind {
        case .int:
            guard let value = Int32(sign + t.text) else {
                throw Diagnostic("integer literal '\(sign)\(t.text)' is out of range for int; add an 'L' suffix for a long", at: t.range)
            }
            constant = .int(value)
        case .long:
            guard let value = Int64(sign + t.text.dropLast()) else {
                throw Diagnostic("long literal '\(sign)\(t.text)' is out of range", at: t.range)
            }
            constant = .long(value)
        case .float:
            guard let value = Float(sign + t.text.dropLast()), value.isFinite else {
                throw Diagnostic("float literal '\(sign)\(t.text)' is out of range", at: t.range)
            }
            constant = .float(value)
        default:
            let digits = t.text.last.map { $0 == "d" || $0 == "D" } == true ? String(t.text.dropLast()) : t.text
            guard let value = Double(sign + digits), value.isFinite else {
                throw Diagnostic("double literal '\(sign)\(t.text)' is out of range", at: t.range)
            }
            constant = .double(value)
        }
        return Expression(.constant(constant), range: SourceRange(start: begin, end: t.range.end))
    }

    /// `5 sec`, `1 min 30 sec`, `2 hours`: a sum of int-unit pairs, in milliseconds.
    mutating func parseTimeValue(after context: String) throws(Diagnostic) -> Int64 {
        guard at(.int), peek().kind == .identifier, peek().keyword?.timeUnitMilliseconds != nil else {
            throw unexpected("a time value such as '5 sec'\(context.isEmpty ? "" : " after \(context)")")
        }
        var total: Int64 = 0
        while at(.int), peek().kind == .identifier, let unit = peek().keyword?.timeUnitMilliseconds {
            let number = advance()
            advance()
            guard let count = Int64(number.text) else { throw Diagnostic("time value '\(number.text)' is too large", at: number.range) }
            let (part, overflow1) = count.multipliedReportingOverflow(by: unit)
            let (sum, overflow2) = total.addingReportingOverflow(part)
            if overflow1 || overflow2 {
                throw Diagnostic("time value is too large", at: SourceRange(start: number.range.start, end: lastEnd))
            }
            total = sum
        }
        return total
    }
}
