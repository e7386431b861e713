import SluiceCore
import SluiceQL

/// What an on-demand query gives back: for `from … select …`, the rows it selects (timestamp -1,
/// as Siddhi's); for writes, no rows.
public struct OnDemandResult: Sendable {
    public var attributes: [StreamSchema.Attribute]
    public var rows: EventBatch
}

/// Resolves an on-demand query's source to a stream of its own, fed once with the source's
/// contents, and its output to a stream that collects the result. Tables and named windows are
/// the app's.
private final class OnDemandResolver: StreamResolver {
    let global: GlobalResolver
    let source: StreamSchema?
    private(set) var input: StreamJunction?
    private(set) var output: StreamJunction?

    init(global: GlobalResolver, source: StreamSchema?) {
        self.global = global
        self.source = source
    }

    func inputJunction(_ stream: Identifier, isInner: Bool) throws(Diagnostic) -> (StreamJunction, isWindow: Bool) {
        guard let source, source.name == stream.name else { throw Diagnostic("'\(stream.name)' is not defined", at: stream.range) }
        let j = StreamJunction(schema: source)
        input = j
        return (j, false)
    }

    func outputJunction(_ stream: Identifier, isInner: Bool, schema: StreamSchema) throws(Diagnostic) -> StreamJunction {
        let j = StreamJunction(schema: schema)
        output = j
        return j
    }

    func namedWindow(_ name: String) -> NamedWindow? { global.windows[name] }
    func table(_ name: String) -> InMemoryTable? { global.tables[name] }
    func aggregation(_ name: String) -> IncrementalAggregation? { global.aggregations[name] }
}

extension AppRuntime {
    /// Runs an on-demand (store) query, Siddhi's `SiddhiAppRuntime.query`:
    /// `from T [as t] [on cond] select … [group by …] [having …] [order by …] [limit …]` over a
    /// table or named window, or `select … insert into T`, `[select …] delete T on …`,
    /// `[select …] update T [set …] on …` and `select … update or insert into T [set …] on …`.
    /// Call it where `send` is called: it reads and changes the same state. `readOnly` refuses
    /// the writes (a replica must change only through its log).
    public func query(_ text: String, readOnly: Bool = false) throws(Diagnostic) -> OnDemandResult {
        let parsed = try SiddhiParser.parseOnDemandQuery(text)
        let origin = parsed.range
        if readOnly, case .find = parsed.action {} else if readOnly {
            throw Diagnostic("this node refuses on-demand writes: it is a member of an HA group, whose tables change only "
                             + "through replicated events; send the rows as events instead", at: origin)
        }
        switch parsed.action {
        case .find(let source, let on, let within, let per):
            let contents: EventBatch
            let schema: StreamSchema
            if let aggregation = global.aggregations[source.name] {
                contents = try Self.read(aggregation, within: within, withinEnd: parsed.withinEnd, per: per, context: context, at: source.range)
                schema = aggregation.schema
            } else if let extra = within ?? per {
                throw Diagnostic("'within … per …' reads an aggregation, and '\(source.name)' is not one", at: extra.range)
            } else if let table = global.tables[source.name] {
                contents = table.contents
                schema = table.schema
            } else if let named = global.windows[source.name], let window = named.window as? JoinSearchable {
                let (batch, rows) = window.joinContents
                contents = batch.slice(rows)
                schema = named.input.schema
            } else {
                throw Diagnostic("'\(source.name)' is not a table, named window or aggregation of app '\(name)'", at: source.range)
            }
            let input = SingleInputStream(stream: source, alias: parsed.sourceAlias, handlers: on.map { [.filter($0)] } ?? [], range: origin)
            let query = Query(input: .single(input), selector: parsed.selector,
                              output: .insert(into: Identifier("result", range: origin), isInner: false, isFault: false, eventType: .current),
                              range: origin)
            let resolver = OnDemandResolver(global: global, source: schema)
            _ = try QueryPlanner(context: context, scheduler: scheduler).plan(query, resolver: resolver)
            var rows = EventBatch(types: [])
            var attributes: [StreamSchema.Attribute] = []
            if let output = resolver.output {
                attributes = output.schema.attributes
                rows = EventBatch(types: attributes.map(\.type))
                output.subscribe { batch in rows.append(from: batch, rows: 0..<batch.count) }
            }
            var fed = contents
            fed.timestamps = [Int64](repeating: -1, count: fed.count)
            fed.kinds = [EventKind](repeating: .current, count: fed.count)
            if !fed.isEmpty { resolver.input?.publish(fed) }
            return OnDemandResult(attributes: attributes, rows: rows)
        case .insert, .delete, .update, .updateOrInsert:
            let output: OutputAction
            switch parsed.action {
            case .insert(let table): output = .insert(into: table, isInner: false, isFault: false, eventType: .current)
            case .delete(let table, let on): output = .delete(table: table, eventType: .current, on: on)
            case .update(let table, let set, let on): output = .update(table: table, eventType: .current, set: set, on: on)
            case .updateOrInsert(let table, let set, let on): output = .updateOrInsert(table: table, eventType: .current, set: set, on: on)
            case .find: fatalError("handled above")
            }
            let target: Identifier
            switch output {
            case .insert(let t, _, _, _), .delete(let t, _, _), .update(let t, _, _, _), .updateOrInsert(let t, _, _, _): target = t
            case .returnEvents: fatalError("not an on-demand write")
            }
            guard global.tables[target.name] != nil else { throw Diagnostic("table '\(target.name)' is not defined", at: target.range) }
            // One event with no attributes runs the selector once: its values are the written row.
            let trigger = StreamSchema(name: "_onDemand", attributes: [])
            let query = Query(input: .single(SingleInputStream(stream: Identifier(trigger.name, range: origin), range: origin)),
                              selector: parsed.selector, output: output, range: origin)
            let resolver = OnDemandResolver(global: global, source: trigger)
            _ = try QueryPlanner(context: context, scheduler: scheduler).plan(query, resolver: resolver)
            context.storeFailures = []
            resolver.input?.publish(EventBatch(timestamps: [context.now], columns: []))
            // A stored table that refused the write was rolled back: the caller must know.
            if !context.storeFailures.isEmpty {
                let reason = context.storeFailures.map(\.description).joined(separator: "; ")
                context.storeFailures = []
                throw Diagnostic(reason, at: origin)
            }
            return OnDemandResult(attributes: [], rows: EventBatch(types: []))
        }
    }

    /// The rows of an aggregation that a constant `within … per …` names.
    private static func read(_ aggregation: IncrementalAggregation, within: Expression?, withinEnd: Expression?, per: Expression?,
                             context: ExecutionContext, at range: SourceRange) throws(Diagnostic) -> EventBatch {
        let compiler = ExpressionCompiler(scope: Scope(), context: context)
        let spec = try AggregationRange(within: within, withinEnd: withinEnd, per: per, aggregation: aggregation, compiler: compiler, at: range)
        guard let r = spec.resolve(EventBatch(timestamps: [context.now], columns: []), durations: aggregation.durations)[0] else {
            throw Diagnostic("'within … per …' names no range of aggregation '\(aggregation.name)'", at: within?.range ?? range)
        }
        return aggregation.find(start: r.start, end: r.end, per: r.per)
    }
}
