import SluiceCore
import SluiceQL

/// Where a query finds its streams. Inside a partition, partitioned and inner streams resolve
/// to the partition instance's own junctions.
protocol StreamResolver: AnyObject {
    /// The junction a query reads from, and whether it is a named window (whose expired events stay expired).
    func inputJunction(_ stream: Identifier, isInner: Bool) throws(Diagnostic) -> (StreamJunction, isWindow: Bool)
    /// The junction for `insert into`, defining the stream from the projection when it is new.
    func outputJunction(_ stream: Identifier, isInner: Bool, schema: StreamSchema) throws(Diagnostic) -> StreamJunction
    /// The named window `name`, which a join searches.
    func namedWindow(_ name: String) -> NamedWindow?
    /// The table `name`.
    func table(_ name: String) -> InMemoryTable?
    /// The incremental aggregation `name`, which a join searches.
    func aggregation(_ name: String) -> IncrementalAggregation?
}

/// The running pieces of one query.
struct PlannedQuery {
    var stateful: [Snapshottable] = []
    var windows: [WindowProcessor] = []
    var rateLimiters: [RateLimiter] = []
    /// Patterns and sequences, whose absences wait on timers.
    var patterns: [PatternProcessor] = []
    /// Undoes the query's subscriptions (partition instances are purged this way).
    var subscriptions: [(junction: StreamJunction, token: Int)] = []
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
        switch query.input {
        case .single(let input):
            return try planSingle(query, input, resolver: resolver)
        case .join(let join):
            return try planJoin(query, join, resolver: resolver)
        case .state(let s):
            return try planPattern(query, s, resolver: resolver)
        }
    }

    /// A compiler over `scope` that can test `in` the app's tables.
    func makeCompiler(_ scope: Scope, _ resolver: StreamResolver) -> ExpressionCompiler {
        var compiler = ExpressionCompiler(scope: scope, context: context)
        compiler.tables = { name in resolver.table(name) }
        return compiler
    }

    /// One input stream's chain up to its window: entry, filters, window.
    private struct InputChain {
        var junction: StreamJunction
        var schema: StreamSchema
        var isNamedWindow: Bool
        var head: Processor
        var tail: Processor
        var window: WindowProcessor?
        var windowName: String?
    }

    private func planInput(_ input: SingleInputStream, resolver: StreamResolver, planned: inout PlannedQuery) throws(Diagnostic) -> InputChain {
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
        let compiler = makeCompiler(Scope(stream: schema.name, alias: input.alias?.name, attributes: schema.pairs), resolver)
        let head: Processor = isWindow ? Processor() : StreamEntryProcessor()
        var chain = InputChain(junction: junction, schema: schema, isNamedWindow: isWindow, head: head, tail: head)
        for handler in input.handlers {
            switch handler {
            case .filter(let condition):
                let c = try compiler.compileCondition(condition, what: "a filter")
                let f = FilterProcessor(condition: c, context: context)
                chain.tail.next = f
                chain.tail = f
            case .window(let call):
                if chain.window != nil { throw Diagnostic("a query can have only one window", at: call.range) }
                if isWindow { throw Diagnostic("'\(schema.name)' is a named window and cannot take another window", at: call.range) }
                let w = try WindowFactory(context: context, scheduler: scheduler).make(call, schema: schema, compiler: compiler)
                chain.window = w
                chain.windowName = call.name.name
                planned.windows.append(w)
                planned.stateful.append(w)
                chain.tail.next = w
                chain.tail = w
            case .function(let call):
                throw Diagnostic("unknown stream function '\(call.qualifiedName)'", at: call.range)
            }
        }
        return chain
    }

    private func planSingle(_ query: Query, _ input: SingleInputStream, resolver: StreamResolver) throws(Diagnostic) -> PlannedQuery {
        var planned = PlannedQuery()
        let chain = try planInput(input, resolver: resolver, planned: &planned)
        let shape: QuerySelector.ChunkShape
        if chain.isNamedWindow {
            shape = .endsAtCurrent
        } else if let windowName = chain.windowName {
            shape = WindowFactory.batchWindows.contains(windowName) ? .whole : (windowName == "sort" ? .startsAtCurrent : .endsAtCurrent)
        } else {
            shape = .eachRow
        }
        let source = SelectionInput(parts: [.init(qualifiers: [chain.schema.name] + (input.alias.map { [$0.name] } ?? []),
                                                  attributes: chain.schema.attributes)],
                                    windows: planned.windows, hasWindow: chain.window != nil || chain.isNamedWindow, chunkShape: shape,
                                    accumulatingWindow: chain.window)
        try planSelection(query, source: source, tail: chain.tail, planned: &planned, resolver: resolver)
        let head = chain.head
        planned.subscriptions.append((chain.junction, chain.junction.subscribe { batch in head.process(batch) }))
        return planned
    }

    /// Windows a join can search: sliding windows their events, batch windows the batch they
    /// emitted last.
    static let joinableWindows: Set<String> = ["length", "time", "timeLength", "externalTime",
                                               "lengthBatch", "timeBatch", "externalTimeBatch", "batch"]

    private func planJoin(_ query: Query, _ join: JoinInputStream, resolver: StreamResolver) throws(Diagnostic) -> PlannedQuery {
        let aggregations = [join.left, join.right].map { resolver.aggregation($0.stream.name) }
        if aggregations.allSatisfy({ $0 != nil }) {
            throw Diagnostic("both sides of the join are aggregations: one must be a stream or a window", at: join.range)
        }
        var planned = PlannedQuery()
        // A table or aggregation side has no chain: it never triggers, and is searched as it is.
        var chains: [InputChain?] = []
        var schemas: [StreamSchema] = []
        var searchable: [JoinSearchable?] = []
        for input in [join.left, join.right] {
            if let aggregation = resolver.aggregation(input.stream.name) {
                if !input.handlers.isEmpty {
                    throw Diagnostic("aggregation '\(input.stream.name)' takes no filter or window in a join: "
                                     + "use 'within … per …' and the join condition", at: input.range)
                }
                // Searched through the stream side's lookup, made once that side is planned.
                searchable.append(nil)
                chains.append(nil)
                schemas.append(aggregation.schema)
                continue
            }
            if let table = resolver.table(input.stream.name) {
                if !input.handlers.isEmpty {
                    throw Diagnostic("table '\(input.stream.name)' takes no filter or window in a join", at: input.range)
                }
                searchable.append(table)
                chains.append(nil)
                schemas.append(table.schema)
                continue
            }
            var chain = try planInput(input, resolver: resolver, planned: &planned)
            if chain.isNamedWindow {
                // The window's own output triggers; the other side searches what the window holds.
                guard let named = resolver.namedWindow(input.stream.name), let found = named.window as? JoinSearchable else {
                    throw Diagnostic("a join cannot search named window '\(input.stream.name)': its window is not one a join can search; "
                                     + "it can search " + Self.joinableWindows.sorted().joined(separator: ", "), at: input.stream.range)
                }
                named.window.searchedByJoin()
                searchable.append(found)
                chains.append(chain)
                schemas.append(chain.schema)
                continue
            }
            if let name = chain.windowName, !Self.joinableWindows.contains(name) {
                throw Diagnostic("a join cannot search the '\(name)' window yet; it can search "
                                 + Self.joinableWindows.sorted().joined(separator: ", "), at: input.window?.range ?? input.range)
            }
            if chain.window == nil {
                // Siddhi gives a side without a window an empty one: it triggers but is never found.
                let w = EmptyWindow(types: chain.schema.attributes.map(\.type), context: context, scheduler: scheduler)
                planned.windows.append(w)
                chain.window = w
                chain.tail.next = w
                chain.tail = w
            }
            guard let found = chain.window as? JoinSearchable else { fatalError("checked above") }
            chain.window?.searchedByJoin()
            searchable.append(found)
            chains.append(chain)
            schemas.append(chain.schema)
        }
        // Checked once both sides resolve: a side may be an aggregation planned later.
        if aggregations.allSatisfy({ $0 == nil }), let extra = join.within ?? join.per {
            throw Diagnostic("'within … per …' belongs to a join with an aggregation, and neither side is one", at: extra.range)
        }
        if chains.allSatisfy({ $0 == nil }) {
            let kinds = aggregations.contains { $0 != nil } ? "a table and an aggregation" : "tables"
            throw Diagnostic("both sides of the join are \(kinds): one must be a stream or a window", at: join.range)
        }
        // A side with an alias is named by its alias only.
        let parts = [join.left, join.right].enumerated().map { side, input in
            SelectionInput.Part(qualifiers: [input.alias?.name ?? input.stream.name], attributes: schemas[side].attributes, side: side + 1)
        }
        if parts[0].qualifiers == parts[1].qualifiers {
            throw Diagnostic("both sides of the join are named '\(parts[0].qualifiers[0])': give one an alias with 'as'", at: join.right.range)
        }
        var scope = Scope()
        scope.add(parts, from: 0)
        let compiler = makeCompiler(scope, resolver)
        var condition: CompiledExpression?
        var reads = [Bool](repeating: false, count: scope.entries.count)
        if let on = join.on {
            condition = try compiler.compileCondition(on, what: "a join condition")
            for variable in AttributeUsage.variables(in: on) {
                if let entry = scope.lookup(variable) { reads[entry.index] = true }
            }
        }
        // The stream side reads its aggregation through a lookup over the range its events name.
        var lookup: (side: Int, processor: AggregationLookup)?
        if let aggregated = aggregations.firstIndex(where: { $0 != nil }), let aggregation = aggregations[aggregated] {
            if join.trigger == (aggregated == 0 ? .left : .right) {
                throw Diagnostic("aggregation '\(aggregation.name)' cannot be 'unidirectional': a join with an aggregation is "
                                 + "triggered by its stream side only", at: [join.left, join.right][aggregated].range)
            }
            let streamSide = 1 - aggregated
            let stream = [join.left, join.right][streamSide]
            let streamScope = Scope(stream: stream.stream.name, alias: stream.alias?.name, attributes: schemas[streamSide].pairs)
            let range = try AggregationRange(within: join.within, withinEnd: join.withinEnd, per: join.per, aggregation: aggregation,
                                             compiler: makeCompiler(streamScope, resolver), at: join.range)
            let processor = AggregationLookup(aggregation: aggregation, range: range)
            searchable[aggregated] = processor
            lookup = (streamSide, processor)
        }
        let leftTypes = parts[0].attributes.map(\.type), rightTypes = parts[1].attributes.map(\.type)
        let key = join.on.flatMap { Self.equalKey(in: $0, scope: scope, probe: 1, probeStart: 0, found: 2, foundStart: leftTypes.count) }
        let sides = [
            JoinSide(position: .left, isTrigger: join.trigger != .right && chains[0] != nil, isOuter: join.type == .leftOuter || join.type == .fullOuter,
                     condition: condition, conditionReads: reads, equalKey: key.map { ($0.probe, $0.found) },
                     leftTypes: leftTypes, rightTypes: rightTypes, other: searchable[1]!, context: context),
            JoinSide(position: .right, isTrigger: join.trigger != .left && chains[1] != nil, isOuter: join.type == .rightOuter || join.type == .fullOuter,
                     condition: condition, conditionReads: reads, equalKey: key.map { ($0.found, $0.probe) },
                     leftTypes: leftTypes, rightTypes: rightTypes, other: searchable[0]!, context: context),
        ]
        // Both sides feed one selector.
        let merge = Processor()
        for (position, (chain, side)) in zip(chains, sides).enumerated() {
            if let lookup, lookup.side == position {
                chain?.tail.next = lookup.processor
                lookup.processor.next = side
            } else {
                chain?.tail.next = side
            }
            side.next = merge
        }
        let source = SelectionInput(parts: parts, windows: planned.windows, hasWindow: true, chunkShape: .whole, accumulatingWindow: nil)
        let selector = try planSelection(query, source: source, tail: merge, planned: &planned, resolver: resolver)
        for side in sides {
            side.chunkPerArrival = !planned.outputIgnoresChunking || context.eachEventIsAChunk
            // Expired joined rows matter only to aggregates (they subtract) and to expired output.
            side.joinsExpired = selector.expiredOn || selector.hasAggregates
        }
        for chain in chains.compactMap({ $0 }) {
            let head = chain.head
            planned.subscriptions.append((chain.junction, chain.junction.subscribe { batch in head.process(batch) }))
        }
        return planned
    }

    /// What the selection reads: its rows' attributes, in parts that expressions qualify by
    /// stream id or alias (one part for a stream, two for a join).
    struct SelectionInput {
        struct Part {
            var qualifiers: [String]
            var attributes: [StreamSchema.Attribute]
            /// The join side (1 or 2), or 0 for a single stream.
            var side = 0
            /// Which collected event of a pattern's counted stream the part holds.
            var eventIndex: EventIndex?
            /// Bookkeeping columns of a pattern that no expression names and `select *` skips.
            var hidden = false
            /// The pattern events whose presence the part tells, at its first column.
            var presence: [(qualifier: String, test: PresenceTest)] = []
        }

        enum PresenceTest {
            case always, counted
            case flagged(Int64)
        }
        var parts: [Part]
        var windows: [WindowProcessor]
        /// Whether aggregates run over a window (they subtract expired rows) or over the stream.
        var hasWindow: Bool
        var chunkShape: QuerySelector.ChunkShape
        /// The batch window that may hand its rows straight to the selector.
        var accumulatingWindow: WindowProcessor?
    }

    /// Plans everything after the input: selection, rate limiting and the output, behind `tail`.
    @discardableResult
    func planSelection(_ query: Query, source: SelectionInput, tail: Processor, planned: inout PlannedQuery,
                               resolver: StreamResolver) throws(Diagnostic) -> QuerySelector {
        // Event types the output wants.
        let eventType: OutputEventType
        switch query.output {
        case .insert(_, _, _, let t), .delete(_, let t, _), .update(_, let t, _, _), .updateOrInsert(_, let t, _, _): eventType = t
        case .returnEvents:
            throw Diagnostic("'return' is only valid in an on-demand query", at: query.range)
        }
        let currentOn = eventType != .expired
        let expiredOn = eventType != .current
        for w in source.windows { w.expectsExpired = expiredOn }

        // Selection.
        let inputAttributes = source.parts.flatMap(\.attributes)
        let inputArity = inputAttributes.count
        var compiler = makeCompiler(Scope(), resolver)
        compiler.scope.add(source.parts, from: 0)
        let hasWindow = source.hasWindow
        var tail = tail
        var slots: [QuerySelector.AggregateSlot] = []
        var argumentCompiler = compiler
        argumentCompiler.aggregateContext = "an aggregate's argument"
        var selectCompiler = compiler
        selectCompiler.aggregateHandler = { (call: FunctionCall, _: ExpressionCompiler) throws(Diagnostic) -> CompiledExpression in
            let slot = try Self.makeAggregate(call, compiler: argumentCompiler, hasWindow: hasWindow)
            slots.append(slot)
            return .attribute(inputArity + slots.count - 1, type: slot.aggregator.resultType)
        }

        var projection: [CompiledExpression] = []
        var outputAttributes: [StreamSchema.Attribute] = []
        if let items = query.selector.projection {
            for item in items {
                let c = try selectCompiler.compile(item.expression)
                let name = try Self.outputName(item)
                if outputAttributes.contains(where: { $0.name == name }) {
                    throw Diagnostic("duplicate output attribute '\(name)'", at: item.alias?.range ?? item.range)
                }
                projection.append(c)
                outputAttributes.append(.init(name: name, type: c.type == .object ? .string : c.type))
            }
        } else {
            let hidden = source.parts.flatMap { part in [Bool](repeating: part.hidden || part.eventIndex != nil, count: part.attributes.count) }
            for (i, a) in inputAttributes.enumerated() where !hidden[i] {
                if outputAttributes.contains(where: { $0.name == a.name }) {
                    throw Diagnostic("'select *' would output '\(a.name)' twice: name the attributes to select", at: query.selector.range)
                }
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
            havingScope.add(source.parts, from: outputAttributes.count)
            var havingCompiler = makeCompiler(havingScope, resolver)
            let base = outputAttributes.count + inputArity
            havingCompiler.aggregateHandler = { (call: FunctionCall, _: ExpressionCompiler) throws(Diagnostic) -> CompiledExpression in
                let slot = try Self.makeAggregate(call, compiler: argumentCompiler, hasWindow: hasWindow)
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
        selector.chunkShape = source.chunkShape
        // A batch window whose selector keeps only each group's aggregates and last row hands the
        // selector its rows as they arrive instead of buffering them (`BatchAccumulation`).
        if let window = source.accumulatingWindow, batching, currentOn, !expiredOn, having == nil, !(slots.isEmpty && groupBy.isEmpty),
           query.selector.groupBy.allSatisfy({ Self.readsOnlyTheRow($0, aggregates: false) }),
           (query.selector.projection ?? []).allSatisfy({ Self.readsOnlyTheRow($0.expression, aggregates: true) }) {
            // `select *` reads every attribute; otherwise only what the projection and `group by` name.
            let carried = query.selector.projection.map { projection in
                let read = AttributeUsage.names(in: projection.map(\.expression) + query.selector.groupBy)
                return inputAttributes.map { read.contains($0.name) }
            }
            let accumulation = BatchAccumulation(selector: selector, inputTypes: inputAttributes.map(\.type), carried: carried)
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

        switch query.output {
        case .insert(let target, let isInner, _, _):
            if !isInner, let table = resolver.table(target.name) {
                tail.next = try TablePlanner(context: context).writer(.insert, table: table, output: outputAttributes, set: nil, on: nil,
                                                                       at: target.range)
            } else {
                let outSchema = StreamSchema(name: target.name, attributes: outputAttributes)
                let outJunction = try resolver.outputJunction(target, isInner: isInner, schema: outSchema)
                tail.next = InsertIntoStream(junction: outJunction)
            }
        case .delete(let target, _, let on):
            tail.next = try TablePlanner(context: context).writer(.delete, table: Self.table(target, resolver), output: outputAttributes,
                                                                   set: nil, on: on, at: target.range)
        case .update(let target, _, let set, let on):
            tail.next = try TablePlanner(context: context).writer(.update, table: Self.table(target, resolver), output: outputAttributes,
                                                                   set: set, on: on, at: target.range)
        case .updateOrInsert(let target, _, let set, let on):
            tail.next = try TablePlanner(context: context).writer(.updateOrInsert, table: Self.table(target, resolver),
                                                                   output: outputAttributes, set: set, on: on, at: target.range)
        case .returnEvents:
            fatalError("checked above")
        }
        return selector
    }

    /// The name a selected item outputs as: its alias, or a plain attribute's own name.
    static func outputName(_ item: OutputAttribute) throws(Diagnostic) -> String {
        if let alias = item.alias { return alias.name }
        if case .variable(let v) = item.expression.kind { return v.attribute.name }
        throw Diagnostic("give this expression a name with 'as'", at: item.expression.range)
    }

    static func table(_ name: Identifier, _ resolver: StreamResolver) throws(Diagnostic) -> InMemoryTable {
        guard let table = resolver.table(name.name) else { throw Diagnostic("table '\(name.name)' is not defined", at: name.range) }
        return table
    }

    /// An attribute of side `probe` and one of side `found` (columns within each side, whose
    /// first columns are at `probeStart` and `foundStart` in the scope) that `condition` requires
    /// to be equal: a term `a == b` of its top-level `and`s, both of the same type among those whose
    /// equality is equality of their keys (not float or double: 0.0 == -0.0; not objects).
    static func equalKey(in condition: Expression, scope: Scope, probe: Int, probeStart: Int, found: Int,
                         foundStart: Int) -> (probe: Int, found: Int)? {
        switch condition.kind {
        case .and(let a, let b):
            return equalKey(in: a, scope: scope, probe: probe, probeStart: probeStart, found: found, foundStart: foundStart)
                ?? equalKey(in: b, scope: scope, probe: probe, probeStart: probeStart, found: found, foundStart: foundStart)
        case .comparison(.equal, let a, let b):
            guard case .variable(let va) = a.kind, case .variable(let vb) = b.kind,
                  let ea = scope.lookup(va), let eb = scope.lookup(vb), ea.type == eb.type,
                  [.string, .int, .long, .bool].contains(ea.type) else { return nil }
            if ea.side == probe && eb.side == found { return (ea.index - probeStart, eb.index - foundStart) }
            if ea.side == found && eb.side == probe { return (eb.index - probeStart, ea.index - foundStart) }
            return nil
        default:
            return nil
        }
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

extension Scope {
    /// Adds `parts` one after another, the first at column `start`, each by its qualifiers and side.
    mutating func add(_ parts: [QueryPlanner.SelectionInput.Part], from start: Int, qualifiedOnly: Bool = false) {
        var offset = start
        for part in parts {
            for (qualifier, test) in part.presence {
                switch test {
                case .always: presence[qualifier] = .always
                case .counted: presence[qualifier] = .counted(column: offset)
                case .flagged(let bit): presence[qualifier] = .flagged(column: offset, bit: bit)
                }
            }
            if !part.hidden {
                add(qualifiers: part.qualifiers, attributes: part.attributes.map { ($0.name, $0.type) }, offset: offset, side: part.side,
                    qualifiedOnly: qualifiedOnly, eventIndex: part.eventIndex)
            }
            offset += part.attributes.count
        }
    }
}
