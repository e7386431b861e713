import SluiceCore

extension Parser {
    /// `define stream|table|window|trigger|aggregation|function …`; `start` includes the annotations.
    mutating func parseDefinition(annotations: [Annotation], start begin: SourceLocation) throws(Diagnostic) -> Definition {
        advance() // define
        switch token.keyword {
        case .stream:
            advance()
            let name = try parseName("a stream name after 'define stream'")
            let attributes = try parseAttributeList(of: name)
            return .stream(StreamDefinition(annotations: annotations, name: name, attributes: attributes, range: range(from: begin)))
        case .table:
            advance()
            let name = try parseName("a table name after 'define table'")
            let attributes = try parseAttributeList(of: name)
            return .table(TableDefinition(annotations: annotations, name: name, attributes: attributes, range: range(from: begin)))
        case .window:
            advance()
            return .window(try parseWindowDefinition(annotations: annotations, start: begin))
        case .trigger:
            advance()
            return .trigger(try parseTriggerDefinition(annotations: annotations, start: begin))
        case .aggregation:
            advance()
            return .aggregation(try parseAggregationDefinition(annotations: annotations, start: begin))
        case .function:
            if let first = annotations.first {
                throw Diagnostic("a function definition takes no annotations", at: first.range)
            }
            advance()
            return .function(try parseFunctionDefinition(start: begin))
        default:
            throw unexpected("'stream', 'table', 'window', 'trigger', 'aggregation' or 'function' after 'define'")
        }
    }

    /// `(a string, b int, …)` after the name of a stream, table or window.
    mutating func parseAttributeList(of owner: Identifier) throws(Diagnostic) -> [AttributeDefinition] {
        try expect(.leftParen, "'(' to start the attribute list of '\(owner.name)'")
        var attributes: [AttributeDefinition] = []
        repeat {
            let name = try parseName("an attribute name")
            let type = try parseAttributeType(of: name.name)
            if let previous = attributes.first(where: { $0.name == name.name }) {
                throw Diagnostic("duplicate attribute '\(name.name)' (first defined at \(previous.range.start))", at: name.range)
            }
            attributes.append(AttributeDefinition(name: name.name, type: type, range: range(from: name.range.start)))
        } while consume(.comma) != nil
        try expect(.rightParen, "')' to close the attribute list of '\(owner.name)'")
        return attributes
    }

    mutating func parseAttributeType(of attribute: String) throws(Diagnostic) -> AttributeType {
        guard at(.identifier) else { throw unexpected("the type of attribute '\(attribute)'") }
        guard let type = AttributeType(keyword: token.text) else {
            throw Diagnostic("unknown attribute type '\(token.text)' (expected string, int, long, float, double, bool or object)",
                             at: token.range)
        }
        advance()
        return type
    }

    /// `W (…) length(5) [output all|current|expired [events]]`.
    private mutating func parseWindowDefinition(annotations: [Annotation], start begin: SourceLocation) throws(Diagnostic) -> WindowDefinition {
        let name = try parseName("a window name after 'define window'")
        let attributes = try parseAttributeList(of: name)
        guard token.isName else { throw unexpected("a window function such as 'length(5)' for '\(name.name)'") }
        let window = try parseFunctionCall()
        var outputType = OutputEventType.all
        if consume(.output) != nil {
            outputType = try parseOutputEventType(required: true) ?? .all
        }
        return WindowDefinition(annotations: annotations, name: name, attributes: attributes, window: window,
                                outputEventType: outputType, range: range(from: begin))
    }

    /// `T at every 5 sec`, `T at 'start'`, `T at '0 0 * * * ?'`.
    private mutating func parseTriggerDefinition(annotations: [Annotation], start begin: SourceLocation) throws(Diagnostic) -> TriggerDefinition {
        let name = try parseName("a trigger name after 'define trigger'")
        try expect(.at, "'at' after the trigger name '\(name.name)'")
        let schedule: TriggerDefinition.Schedule
        if consume(.every) != nil {
            let timeStart = start
            let every = try parseTimeValue(after: "'at every'")
            guard every > 0 else { throw Diagnostic("a trigger period must be positive", at: range(from: timeStart)) }
            schedule = .every(milliseconds: every)
        } else if at(.string) {
            let text = advance().text
            schedule = text.lowercased() == "start" ? .start : .cron(text)
        } else {
            throw unexpected("'every <time>', 'start' or a cron expression after 'at'")
        }
        return TriggerDefinition(annotations: annotations, name: name, schedule: schedule, range: range(from: begin))
    }

    /// `A from S select … [group by …] aggregate [by ts] every sec ... year` (or a comma list).
    private mutating func parseAggregationDefinition(annotations: [Annotation], start begin: SourceLocation) throws(Diagnostic) -> AggregationDefinition {
        let name = try parseName("an aggregation name after 'define aggregation'")
        try expect(.from, "'from' after the aggregation name '\(name.name)'")
        let input = try parseSingleInputStream(.aggregation)
        guard at(.select) else { throw unexpected("'select' in the aggregation '\(name.name)'") }
        let selectStart = start
        advance()
        var selector = Selector(range: range(from: selectStart))
        try parseSelection(into: &selector)
        if consume(.group) != nil {
            try expect(.by, "'by' after 'group'")
            selector.groupBy = try parseExpressionList()
        }
        selector.range = range(from: selectStart)
        try expect(.aggregate, "'aggregate' in the aggregation '\(name.name)'")
        var aggregateBy: Expression?
        if consume(.by) != nil {
            aggregateBy = try parseAttributeReference("the timestamp attribute after 'aggregate by'")
        }
        try expect(.every, "'every' and the granularities of the aggregation '\(name.name)'")
        let first = try parseDuration()
        let granularity: AggregationDefinition.Granularity
        if consume(.tripleDot) != nil {
            let last = try parseDuration()
            guard TimeDuration.allCases.firstIndex(of: last)! >= TimeDuration.allCases.firstIndex(of: first)! else {
                throw Diagnostic("the granularity range must go from the finer to the coarser duration", at: peek(-1).range)
            }
            granularity = .range(first, last)
        } else {
            var list = [first]
            while consume(.comma) != nil {
                list.append(try parseDuration())
            }
            granularity = .list(list)
        }
        return AggregationDefinition(annotations: annotations, name: name, input: input, selector: selector,
                                     aggregateBy: aggregateBy, granularity: granularity, range: range(from: begin))
    }

    private mutating func parseDuration() throws(Diagnostic) -> TimeDuration {
        guard at(.identifier), let duration = token.keyword?.duration else {
            throw unexpected("a duration: sec, min, hour, day, week, month or year")
        }
        advance()
        return duration
    }

    /// `f[javascript] return string { body }`.
    private mutating func parseFunctionDefinition(start begin: SourceLocation) throws(Diagnostic) -> FunctionDefinition {
        let name = try parseName("a function name after 'define function'")
        try expect(.leftBracket, "'[' and the language of the function '\(name.name)'")
        let language = try parseName("the language of the function '\(name.name)'")
        try expect(.rightBracket, "']' after the language '\(language.name)'")
        try expect(.return, "'return' and the return type of the function '\(name.name)'")
        let returnType = try parseAttributeType(of: "the return value")
        guard at(.script) else { throw unexpected("'{' and the body of the function '\(name.name)'") }
        let body = advance().text
        return FunctionDefinition(name: name, language: language.name, returnType: returnType, body: body, range: range(from: begin))
    }
}
