import SluiceCore

extension Parser {
    /// `from <input> [select …] [output …] <action>`; `start` includes the annotations.
    mutating func parseQuery(annotations: [Annotation], start begin: SourceLocation) throws(Diagnostic) -> Query {
        advance() // from
        let input = try parseQueryInput()
        let selector = try parseSelectorIfPresent()
        var outputRate: OutputRate?
        if at(.output) {
            outputRate = try parseOutputRate()
        }
        guard let output = try parseOutputAction() else {
            var expected = "'insert', 'delete', 'update' or 'return'"
            if outputRate == nil { expected = "'output', " + expected }
            if !selector.isWritten { expected = "'select', " + expected }
            throw unexpected(expected)
        }
        return Query(annotations: annotations, input: input, selector: selector, outputRate: outputRate, output: output,
                     range: range(from: begin))
    }

    // MARK: Selection

    /// `select …` with its clauses, or an implicit `select *` (an empty range at the next token) when absent.
    mutating func parseSelectorIfPresent() throws(Diagnostic) -> Selector {
        guard at(.select) else { return Selector(range: SourceRange(start)) }
        let begin = start
        advance()
        var selector = Selector(range: SourceRange(begin))
        try parseSelection(into: &selector)
        if consume(.group) != nil {
            try expect(.by, "'by' after 'group'")
            selector.groupBy = try parseExpressionList()
        }
        if consume(.having) != nil {
            selector.having = try parseExpression()
        }
        if consume(.order) != nil {
            try expect(.by, "'by' after 'order'")
            repeat {
                let expression = try parseExpression()
                var ascending = true
                if consume(.desc) != nil {
                    ascending = false
                } else {
                    _ = consume(.asc)
                }
                selector.orderBy.append(OrderByItem(expression: expression, ascending: ascending))
            } while consume(.comma) != nil
        }
        if consume(.limit) != nil {
            selector.limit = try parseExpression()
        }
        if consume(.offset) != nil {
            selector.offset = try parseExpression()
        }
        selector.range = range(from: begin)
        return selector
    }

    /// After `select`: `[distinct] *` or `expr [as name], …`.
    mutating func parseSelection(into selector: inout Selector) throws(Diagnostic) {
        // `distinct` is also a legal attribute name: `select distinct, x`.
        if at(.distinct), peek().kind != .comma, peek().keyword != .as, peek().kind != .eof {
            advance()
            selector.distinct = true
        }
        if consume(.star) != nil {
            selector.projection = nil
            return
        }
        var attributes: [OutputAttribute] = []
        repeat {
            let expression = try parseExpression()
            var alias: Identifier?
            if consume(.as) != nil {
                alias = try parseAlias()
            }
            attributes.append(OutputAttribute(expression: expression, alias: alias, range: range(from: expression.range.start)))
        } while consume(.comma) != nil
        selector.projection = attributes
    }

    // MARK: Output

    /// `output [all|first|last] every (N events | <time>)`, `output snapshot every <time>`.
    private mutating func parseOutputRate() throws(Diagnostic) -> OutputRate {
        let begin = start
        advance() // output
        if consume(.snapshot) != nil {
            try expect(.every, "'every' after 'output snapshot'")
            let milliseconds = try parseTimeValue(after: "'output snapshot every'")
            return .snapshot(milliseconds: milliseconds, range: range(from: begin))
        }
        var kind = OutputRate.Kind.all
        if consume(.all) != nil {
            kind = .all
        } else if consume(.first) != nil {
            kind = .first
        } else if consume(.last) != nil {
            kind = .last
        }
        try expect(.every, "'every' after 'output'")
        if at(.int), peek().keyword == .events {
            let number = advance()
            advance()
            guard let count = Int(number.text), count > 0 else {
                throw Diagnostic("the event count must be a positive number", at: number.range)
            }
            return .events(kind, count: count, range: range(from: begin))
        }
        guard at(.int), peek().keyword?.timeUnitMilliseconds != nil else {
            throw unexpected("a number of events such as '5 events' or a time such as '5 sec' after 'every'")
        }
        let milliseconds = try parseTimeValue(after: "'every'")
        return .time(kind, milliseconds: milliseconds, range: range(from: begin))
    }

    /// `insert …`, `delete …`, `update …`, `update or insert …`, `return …`; nil when none starts here.
    private mutating func parseOutputAction() throws(Diagnostic) -> OutputAction? {
        if consume(.insert) != nil {
            let eventType = try parseOutputEventType(required: false) ?? .current
            try expect(.into, "'into' after 'insert'")
            var isInner = false
            var isFault = false
            if consume(.hash) != nil {
                isInner = true
            } else if consume(.bang) != nil {
                isFault = true
            }
            let target = try parseName("a stream or table name after 'into'")
            return .insert(into: target, isInner: isInner, isFault: isFault, eventType: eventType)
        }
        if consume(.delete) != nil {
            let table = try parseName("a table name after 'delete'")
            let eventType = try parseForEventType()
            try expect(.on, "'on' and the condition of the delete")
            return .delete(table: table, eventType: eventType, on: try parseExpression())
        }
        if at(.update) {
            advance()
            if at(.or), peek().keyword == .insert {
                advance()
                advance()
                try expect(.into, "'into' after 'update or insert'")
                let table = try parseName("a table name after 'update or insert into'")
                let eventType = try parseForEventType()
                let set = try parseSetClause()
                try expect(.on, "'on' and the condition of the update")
                return .updateOrInsert(table: table, eventType: eventType, set: set, on: try parseExpression())
            }
            let table = try parseName("a table name after 'update'")
            let eventType = try parseForEventType()
            let set = try parseSetClause()
            try expect(.on, "'on' and the condition of the update")
            return .update(table: table, eventType: eventType, set: set, on: try parseExpression())
        }
        if consume(.return) != nil {
            return .returnEvents(eventType: try parseOutputEventType(required: false) ?? .current)
        }
        return nil
    }

    /// `all [events]`, `current [events]`, `expired [events]` or a lone `events` (current).
    mutating func parseOutputEventType(required: Bool) throws(Diagnostic) -> OutputEventType? {
        let type: OutputEventType
        if consume(.all) != nil {
            type = .all
        } else if consume(.current) != nil {
            type = .current
        } else if consume(.expired) != nil {
            type = .expired
        } else if consume(.events) != nil {
            return .current
        } else if required {
            throw unexpected("'all events', 'current events' or 'expired events'")
        } else {
            return nil
        }
        _ = consume(.events)
        return type
    }

    /// `for current|expired|all events`, current when absent.
    private mutating func parseForEventType() throws(Diagnostic) -> OutputEventType {
        guard consume(.for) != nil else { return .current }
        return try parseOutputEventType(required: true) ?? .current
    }

    /// `set T.a = x, b = y`; empty when absent.
    private mutating func parseSetClause() throws(Diagnostic) -> [SetAssignment] {
        guard consume(.set) != nil else { return [] }
        var assignments: [SetAssignment] = []
        repeat {
            let target = try parseAttributeReference("an attribute to set")
            try expect(.assign, "'=' after the attribute to set")
            assignments.append(SetAssignment(target: target, value: try parseExpression()))
        } while consume(.comma) != nil
        return assignments
    }

    // MARK: Partitions

    /// `partition with (key of S, …) begin q; … end`.
    mutating func parsePartition(annotations: [Annotation], start begin: SourceLocation) throws(Diagnostic) -> Partition {
        advance() // partition
        try expect(.with, "'with' after 'partition'")
        try expect(.leftParen, "'(' and the partition keys after 'partition with'")
        var keys: [PartitionKey] = []
        repeat {
            keys.append(try parsePartitionKey())
        } while consume(.comma) != nil
        try expect(.rightParen, "',' or ')' to close the partition keys")
        try expect(.begin, "'begin' and the queries of the partition")
        var queries: [Query] = []
        while true {
            while consume(.semicolon) != nil {}
            if at(.end) { break }
            let annotations = try parseAnnotations()
            if let app = annotations.first(where: { $0.isAppAnnotation }) {
                throw Diagnostic("'@\(app.name)' belongs at the top of the app, not inside a partition", at: app.range)
            }
            guard at(.from) else { throw unexpected("a query or 'end' to close the partition") }
            queries.append(try parseQuery(annotations: annotations, start: annotations.first?.range.start ?? start))
            if at(.eof) { throw unexpected("'end' to close the partition") }
            if !at(.end) {
                try expect(.semicolon, "';' after the query")
            }
        }
        if queries.isEmpty {
            throw Diagnostic("a partition needs at least one query", at: token.range)
        }
        advance() // end
        return Partition(annotations: annotations, keys: keys, queries: queries, range: range(from: begin))
    }

    /// `expr of S` or `cond as 'label' or cond as 'label' … of S`.
    private mutating func parsePartitionKey() throws(Diagnostic) -> PartitionKey {
        var conditionStart = start
        let first = try parseExpression()
        guard at(.as) else {
            try expect(.of, "'of' and the stream to partition")
            return .value(expression: first, stream: try parseName("a stream name after 'of'"))
        }
        var ranges: [RangeCondition] = []
        var condition = first
        while true {
            try expect(.as, "'as' and a label for the range")
            guard at(.string) else { throw unexpected("a quoted label after 'as'") }
            let label = advance().text
            ranges.append(RangeCondition(condition: condition, label: label, range: range(from: conditionStart)))
            guard consume(.or) != nil else { break }
            conditionStart = start
            condition = try parseExpression()
        }
        try expect(.of, "'of' and the stream to partition")
        return .range(ranges: ranges, stream: try parseName("a stream name after 'of'"))
    }

    // MARK: On-demand queries

    /// `from T [as t] [on c] [within a[, b]] [per p] [select …]`, or `[select …]` then
    /// `insert into T`, `delete T on c`, `update T [set …] on c`, `update or insert into T [set …] on c`.
    mutating func parseOnDemandQuery() throws(Diagnostic) -> OnDemandQuery {
        let begin = start
        if consume(.from) != nil {
            let source = try parseName("a table, window or aggregation name after 'from'")
            var alias: Identifier?
            if consume(.as) != nil {
                alias = try parseAlias()
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
            let selector = try parseSelectorIfPresent()
            return OnDemandQuery(action: .find(source: source, on: on, within: within, per: per), selector: selector,
                                 range: range(from: begin), sourceAlias: alias, withinEnd: withinEnd)
        }
        let selector = try parseSelectorIfPresent()
        let action: OnDemandQuery.Action
        if consume(.insert) != nil {
            try expect(.into, "'into' after 'insert'")
            action = .insert(into: try parseName("a table name after 'into'"))
        } else if consume(.delete) != nil {
            let table = try parseName("a table name after 'delete'")
            try expect(.on, "'on' and the condition of the delete")
            action = .delete(table: table, on: try parseExpression())
        } else if consume(.update) != nil {
            if at(.or), peek().keyword == .insert {
                advance()
                advance()
                try expect(.into, "'into' after 'update or insert'")
                let table = try parseName("a table name after 'update or insert into'")
                let set = try parseSetClause()
                try expect(.on, "'on' and the condition of the update")
                action = .updateOrInsert(table: table, set: set, on: try parseExpression())
            } else {
                let table = try parseName("a table name after 'update'")
                let set = try parseSetClause()
                try expect(.on, "'on' and the condition of the update")
                action = .update(table: table, set: set, on: try parseExpression())
            }
        } else {
            throw unexpected(selector.isWritten ? "'insert', 'delete' or 'update'" : "'from', 'select', 'delete' or 'update'")
        }
        return OnDemandQuery(action: action, selector: selector, range: range(from: begin))
    }
}

extension Selector {
    /// False for the implicit `select *` of a query that has no `select`.
    var isWritten: Bool { range.start != range.end }
}
