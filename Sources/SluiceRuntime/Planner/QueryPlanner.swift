import SluiceCore
import SluiceQL

/// Where a query finds its streams. Inside a partition, partitioned and inner streams resolve
/// to the partition instance's own junctions.
protocol StreamResolver: AnyObject {
    /// The junction a query reads from, and whether it is a named window (whose expired events stay expired).
    func inputJunction(_ stream: Identifier, isInner: Bool) throws(Diagnostic) -> (StreamJunction, isWindow: Bool)
    /// The junction for `insert into`, defining the stream from the projection when it is new.
    func outputJunction(_ stream: Identifier, isInner: Bool, schema: StreamSchema) throws(Diagnostic) -> StreamJunction
}

/// The running pieces of one query.
struct PlannedQuery {
    var stateful: [Snapshottable] = []
    var windows: [WindowProcessor] = []
    var rateLimiters: [RateLimiter] = []
    /// Undoes the query's subscriptions (partition instances are purged this way).
    var subscription: (junction: StreamJunction, token: Int)?
    /// Whether the query emits the same events, in the same order, when consecutive chunks of its
    /// input arrive merged into one: true of batch windows (they emit per flush, not per chunk) and
    /// of queries that keep every row (no aggregates, grouping, ordering, limits or rate limits).
    var outputIgnoresChunking = false
}

/// Compiles one query into a chain of stages and wires it to its junctions.
struct QueryPlanner {
    let context: ExecutionContext
    let scheduler: Scheduler

    func plan(_ query: Query, resolver: StreamResolver) throws(Diagnostic) -> PlannedQuery {
        guard case .single(let input) = query.input else {
            let what: String
            switch query.input {
            case .join: what = "joins"
            case .state(let s): what = s.kind == .pattern ? "patterns" : "sequences"
            case .single: what = ""
            }
            throw Diagnostic("\(what) are not supported yet", at: query.input.range)
        }
        var stream = input.stream
        if input.isFault {
            // The runtime defines `!S` only for a stream that routes its errors there.
            stream = Identifier("!" + stream.name, range: stream.range)
            guard (try? resolver.inputJunction(stream, isInner: input.isInner)) != nil else {
                throw Diagnostic("'\(input.stream.name)' has no fault stream: add @OnError(action='STREAM') "
                                 + "or a @sink with on.error='STREAM' to its definition", at: input.stream.range)
            }
        }
        let (junction, isWindow) = try resolver.inputJunction(stream, isInner: input.isInner)
        let schema = junction.schema
        var planned = PlannedQuery()
        let scope = Scope(stream: schema.name, alias: input.alias?.name, attributes: schema.pairs)
        let compiler = ExpressionCompiler(scope: scope, context: context)

        let head: Processor = isWindow ? Processor() : StreamEntryProcessor()
        var tail = head
        var window: WindowProcessor?
        var windowName: String?
        for handler in input.handlers {
            switch handler {
            case .filter(let condition):
                let c = try compiler.compileCondition(condition, what: "a filter")
                let f = FilterProcessor(condition: c, context: context)
                tail.next = f
                tail = f
            case .window(let call):
                if window != nil { throw Diagnostic("a query can have only one window", at: call.range) }
                if isWindow { throw Diagnostic("'\(schema.name)' is a named window and cannot take another window", at: call.range) }
                let w = try WindowFactory(context: context, scheduler: scheduler).make(call, schema: schema, compiler: compiler)
                window = w
                windowName = call.name.name
                planned.windows.append(w)
                planned.stateful.append(w)
                tail.next = w
                tail = w
            case .function(let call):
                throw Diagnostic("unknown stream function '\(call.qualifiedName)'", at: call.range)
            }
        }

        // Event types the output wants.
        let eventType: OutputEventType
        switch query.output {
        case .insert(_, _, _, let t): eventType = t
        case .delete(let table, _, _), .update(let table, _, _, _), .updateOrInsert(let table, _, _, _):
            throw Diagnostic("tables are not supported yet: cannot write to '\(table.name)'", at: table.range)
        case .returnEvents:
            throw Diagnostic("'return' is only valid in an on-demand query", at: query.range)
        }
        let currentOn = eventType != .expired
        let expiredOn = eventType != .current
        window?.expectsExpired = expiredOn

        // Selection.
        let inputArity = schema.attributes.count
        var slots: [QuerySelector.AggregateSlot] = []
        var argumentCompiler = compiler
        argumentCompiler.aggregateContext = "an aggregate's argument"
        var selectCompiler = compiler
        selectCompiler.aggregateHandler = { (call: FunctionCall, _: ExpressionCompiler) throws(Diagnostic) -> CompiledExpression in
            let slot = try Self.makeAggregate(call, compiler: argumentCompiler, hasWindow: window != nil || isWindow)
            slots.append(slot)
            return .attribute(inputArity + slots.count - 1, type: slot.aggregator.resultType)
        }

        var projection: [CompiledExpression] = []
        var outputAttributes: [StreamSchema.Attribute] = []
        if let items = query.selector.projection {
            for item in items {
                let c = try selectCompiler.compile(item.expression)
                let name: String
                if let alias = item.alias {
                    name = alias.name
                } else if case .variable(let v) = item.expression.kind {
                    name = v.attribute.name
                } else {
                    throw Diagnostic("give this expression a name with 'as'", at: item.expression.range)
                }
                if outputAttributes.contains(where: { $0.name == name }) {
                    throw Diagnostic("duplicate output attribute '\(name)'", at: item.alias?.range ?? item.range)
                }
                projection.append(c)
                outputAttributes.append(.init(name: name, type: c.type == .object ? .string : c.type))
            }
        } else {
            for (i, a) in schema.attributes.enumerated() {
                projection.append(.attribute(i, type: a.type))
                outputAttributes.append(a)
            }
        }

        var groupBy: [CompiledExpression] = []
        for g in query.selector.groupBy { groupBy.append(try compiler.compile(g)) }

        var having: CompiledExpression?
        if let h = query.selector.having {
            var havingScope = Scope()
            havingScope.add(qualifiers: [], attributes: outputAttributes.map { ($0.name, $0.type) }, offset: 0)
            havingScope.add(qualifiers: [schema.name] + (input.alias.map { [$0.name] } ?? []), attributes: schema.pairs,
                            offset: outputAttributes.count)
            var havingCompiler = ExpressionCompiler(scope: havingScope, context: context)
            let base = outputAttributes.count + inputArity
            havingCompiler.aggregateHandler = { (call: FunctionCall, _: ExpressionCompiler) throws(Diagnostic) -> CompiledExpression in
                let slot = try Self.makeAggregate(call, compiler: argumentCompiler, hasWindow: window != nil || isWindow)
                slots.append(slot)
                return .attribute(base + slots.count - 1, type: slot.aggregator.resultType)
            }
            having = try havingCompiler.compileCondition(h, what: "'having'")
        }

        var orderBy: RowOrdering?
        if !query.selector.orderBy.isEmpty {
            var keys: [(column: Int, ascending: Bool)] = []
            for item in query.selector.orderBy {
                guard case .variable(let v) = item.expression.kind,
                      let i = outputAttributes.firstIndex(where: { $0.name == v.attribute.name }) else {
                    throw Diagnostic("'order by' must name an output attribute", at: item.expression.range)
                }
                keys.append((i, item.ascending))
            }
            orderBy = RowOrdering(keys: keys)
        }
        let limit = try Self.constantCount(query.selector.limit, what: "limit")
        let offset = try Self.constantCount(query.selector.offset, what: "offset")

        // Siddhi 5.1 aggregates per chunk everywhere except under `output snapshot`.
        var batching = true
        if case .snapshot? = query.outputRate { batching = false }
        let selector = QuerySelector(context: context, aggregates: slots, groupBy: groupBy, projection: projection,
                                     having: having, orderBy: orderBy, limit: limit, offset: offset,
                                     batching: batching, currentOn: currentOn, expiredOn: expiredOn)
        if isWindow {
            selector.chunkShape = .endsAtCurrent
        } else if let windowName {
            selector.chunkShape = WindowFactory.batchWindows.contains(windowName) ? .whole
                : (windowName == "sort" ? .startsAtCurrent : .endsAtCurrent)
        } else {
            selector.chunkShape = .eachRow
        }
        // A batch window whose selector keeps only each group's aggregates and last row hands the
        // selector its rows as they arrive instead of buffering them (`BatchAccumulation`).
        if let window, batching, currentOn, !expiredOn, having == nil, !(slots.isEmpty && groupBy.isEmpty),
           query.selector.groupBy.allSatisfy({ Self.readsOnlyTheRow($0, aggregates: false) }),
           (query.selector.projection ?? []).allSatisfy({ Self.readsOnlyTheRow($0.expression, aggregates: true) }) {
            // `select *` reads every attribute; otherwise only what the projection and `group by` name.
            let carried = query.selector.projection.map { projection in
                let read = AttributeUsage.names(in: projection.map(\.expression) + query.selector.groupBy)
                return schema.attributes.map { read.contains($0.name) }
            }
            let accumulation = BatchAccumulation(selector: selector, inputTypes: schema.attributes.map(\.type), carried: carried)
            if window.accumulate(into: accumulation) { selector.accumulation = accumulation }
        }
        planned.outputIgnoresChunking = query.outputRate == nil
            && (selector.chunkShape == .whole
                || (slots.isEmpty && groupBy.isEmpty && orderBy == nil && limit == nil && offset == nil))
        planned.stateful.append(selector)
        tail.next = selector
        tail = selector

        let outputTypes = outputAttributes.map(\.type)
        if let rate = query.outputRate {
            let mode: RateLimiter.Mode
            switch rate {
            case .events(let kind, let count, let range):
                guard count > 0 else { throw Diagnostic("the event count must be positive", at: range) }
                mode = .events(kind, count)
            case .time(let kind, let ms, let range):
                guard ms > 0 else { throw Diagnostic("the output period must be positive", at: range) }
                mode = .time(kind, ms)
            case .snapshot(let ms, let range):
                guard ms > 0 else { throw Diagnostic("the snapshot period must be positive", at: range) }
                mode = .snapshot(ms)
            }
            let limiter = RateLimiter(mode: mode, types: outputTypes, context: context, scheduler: scheduler,
                                      selector: groupBy.isEmpty ? nil : selector, snapshotOfAggregates: !slots.isEmpty)
            planned.rateLimiters.append(limiter)
            planned.stateful.append(limiter)
            tail.next = limiter
            tail = limiter
        }

        guard case .insert(let target, let isInner, _, _) = query.output else { fatalError("checked above") }
        let outSchema = StreamSchema(name: target.name, attributes: outputAttributes)
        let outJunction = try resolver.outputJunction(target, isInner: isInner, schema: outSchema)
        tail.next = InsertIntoStream(junction: outJunction)

        let token = junction.subscribe { batch in head.process(batch) }
        planned.subscription = (junction, token)
        return planned
    }

    /// Whether `e` reads nothing but its row's attributes and constants (and, with `aggregates`,
    /// aggregates of such), so that it gives the same value whenever it is evaluated.
    static func readsOnlyTheRow(_ e: Expression, aggregates: Bool) -> Bool {
        switch e.kind {
        case .constant, .variable:
            return true
        case .negate(let a), .not(let a), .isNull(let a):
            return readsOnlyTheRow(a, aggregates: aggregates)
        case .arithmetic(_, let a, let b), .comparison(_, let a, let b), .and(let a, let b), .or(let a, let b):
            return readsOnlyTheRow(a, aggregates: aggregates) && readsOnlyTheRow(b, aggregates: aggregates)
        case .function(let call):
            if call.namespace == nil, rowFunctions.contains(call.name.name) {
                return call.arguments.allSatisfy { readsOnlyTheRow($0, aggregates: aggregates) }
            }
            return aggregates && AggregatorKind(name: call.name.name, namespace: call.namespace?.name) != nil
                && call.arguments.allSatisfy { readsOnlyTheRow($0, aggregates: false) }
        default:
            return false
        }
    }

    /// Built-in functions whose value depends on their arguments alone (not the clock, a
    /// generator or the row's timestamp).
    static let rowFunctions: Set<String> = [
        "cast", "convert", "coalesce", "default", "ifThenElse", "maximum", "minimum", "instanceOfBoolean",
        "instanceOfString", "instanceOfInteger", "instanceOfLong", "instanceOfFloat", "instanceOfDouble",
    ]

    static func constantCount(_ e: Expression?, what: String) throws(Diagnostic) -> Int? {
        guard let e else { return nil }
        switch e.kind {
        case .constant(.int(let v)) where v >= 0: return Int(v)
        case .constant(.long(let v)) where v >= 0: return Int(v)
        default: throw Diagnostic("'\(what)' needs a non-negative integer constant", at: e.range)
        }
    }

    static func makeAggregate(_ call: FunctionCall, compiler: ExpressionCompiler, hasWindow: Bool) throws(Diagnostic) -> QuerySelector.AggregateSlot {
        guard let kind = AggregatorKind(name: call.name.name, namespace: call.namespace?.name) else {
            throw Diagnostic("unknown aggregate '\(call.qualifiedName)'", at: call.name.range)
        }
        if kind == .count {
            guard call.arguments.count <= 1 else { throw Diagnostic("'count' takes at most one argument", at: call.range) }
            return .init(aggregator: CountAggregator(), argument: nil)
        }
        guard call.arguments.count == 1 else {
            throw Diagnostic("'\(kind.rawValue)' takes one argument, found \(call.arguments.count)", at: call.range)
        }
        let arg = try compiler.compile(call.arguments[0])
        let range = call.arguments[0].range
        func numeric() throws(Diagnostic) {
            guard arg.type.isNumeric else { throw Diagnostic("'\(kind.rawValue)' needs a numeric argument, found \(arg.type)", at: range) }
        }
        let aggregator: Aggregator
        switch kind {
        case .sum: try numeric(); aggregator = SumAggregator(inputType: arg.type, average: false)
        case .avg: try numeric(); aggregator = SumAggregator(inputType: arg.type, average: true)
        case .stdDev: try numeric(); aggregator = StdDevAggregator()
        case .min, .max:
            try numeric()
            aggregator = MinMaxAggregator(inputType: arg.type, wantMax: kind == .max, forever: false)
        case .minForever, .maxForever:
            try numeric()
            aggregator = MinMaxAggregator(inputType: arg.type, wantMax: kind == .maxForever, forever: true)
        case .distinctCount: aggregator = DistinctCountAggregator()
        case .and, .or:
            guard arg.type == .bool else { throw Diagnostic("'\(kind.rawValue)' needs a bool argument, found \(arg.type)", at: range) }
            aggregator = LogicalAggregator(isAnd: kind == .and)
        case .count: fatalError("handled above")
        }
        return .init(aggregator: aggregator, argument: arg)
    }
}
