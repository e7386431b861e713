import SluiceCore
import SluiceQL

/// Compiles a `define aggregation` into an `IncrementalAggregation`, checking what Siddhi checks:
/// the functions that can be aggregated incrementally, the durations, `aggregate by`, and the
/// annotations.
struct AggregationPlanner {
    let context: ExecutionContext

    /// The functions that merge across buckets.
    static let aggregatable: Set<AggregatorKind> = [.sum, .count, .avg, .min, .max, .distinctCount]

    func make(_ definition: AggregationDefinition, input: StreamSchema) throws(Diagnostic) -> IncrementalAggregation {
        let bufferSize = try Self.count(definition, "BufferSize") ?? 0
        let ignoresOlder = try Self.flag(definition, "IgnoreEventsOlderThanBuffer") ?? false
        let durations = try AggregationDuration.kept(definition.granularity, at: definition.range)
        let retention = try AggregationRetention.of(definition, durations: durations)

        let source = definition.input
        if source.isInner || source.isFault {
            throw Diagnostic("an aggregation reads a defined stream, not an inner or fault stream", at: source.stream.range)
        }
        let compiler = ExpressionCompiler(scope: Scope(stream: input.name, alias: source.alias?.name, attributes: input.pairs), context: context)
        var filter: CompiledExpression?
        for handler in source.handlers {
            switch handler {
            case .filter(let condition):
                let c = try compiler.compileCondition(condition, what: "a filter")
                filter = filter.map { Logic.and($0, c) } ?? c
            case .window(let call):
                throw Diagnostic("an aggregation takes no window: its durations are its windows", at: call.range)
            case .function(let call):
                throw Diagnostic("unknown stream function '\(call.qualifiedName)'", at: call.range)
            }
        }

        var eventTime = IncrementalAggregation.EventTime.timestamp
        if let by = definition.aggregateBy {
            let e = try compiler.compile(by)
            guard e.type == .long || e.type == .string else {
                throw Diagnostic("'aggregate by' needs a long of milliseconds or a string 'yyyy-MM-dd HH:mm:ss', found \(e.type)", at: by.range)
            }
            eventTime = .attribute(e)
        }

        guard let projection = definition.selector.projection else {
            throw Diagnostic("an aggregation must name what it selects: 'select *' has nothing to aggregate", at: definition.selector.range)
        }
        if let h = definition.selector.having { throw Diagnostic("an aggregation takes no 'having': filter when you query it", at: h.range) }
        if let item = definition.selector.orderBy.first {
            throw Diagnostic("an aggregation takes no 'order by': order when you query it", at: item.expression.range)
        }
        if let l = definition.selector.limit ?? definition.selector.offset {
            throw Diagnostic("an aggregation takes no 'limit' or 'offset': limit when you query it", at: l.range)
        }

        var layout = AggregationLayout()
        var arguments: [CompiledExpression] = []
        var argumentNames: [String] = []
        var attributes: [StreamSchema.Attribute] = [.init(name: IncrementalAggregation.timestampAttribute, type: .long)]
        func argument(_ e: CompiledExpression, _ source: Expression) -> Int {
            // One argument per attribute: `sum(x)` and `avg(x)` then share their bases (and stored columns).
            let name = Self.columnName(source)
            if let name, let i = argumentNames.firstIndex(of: name), arguments[i].type == e.type { return i }
            argumentNames.append(name ?? "arg\(arguments.count)")
            arguments.append(e)
            return arguments.count - 1
        }
        var plain = compiler
        plain.aggregateContext = "an expression around an aggregate: select the aggregate alone and compute on it when you query"
        var inner = compiler
        inner.aggregateContext = "an aggregate's argument"
        for item in projection {
            let name = try QueryPlanner.outputName(item)
            if attributes.contains(where: { $0.name == name }) {
                let why = name == IncrementalAggregation.timestampAttribute ? "'\(name)' is the bucket start every aggregation adds"
                    : "duplicate output attribute '\(name)'"
                throw Diagnostic(why, at: item.alias?.range ?? item.range)
            }
            let output: AggregationLayout.Output
            let type: AttributeType
            if case .function(let call) = item.expression.kind, let kind = AggregatorKind(name: call.name.name, namespace: call.namespace?.name) {
                guard Self.aggregatable.contains(kind) else {
                    throw Diagnostic("'\(kind.rawValue)' cannot be aggregated incrementally: use sum, count, avg, min, max or distinctCount",
                                     at: call.name.range)
                }
                if kind == .count {
                    guard call.arguments.count <= 1 else { throw Diagnostic("'count' takes at most one argument", at: call.range) }
                    if let a = call.arguments.first { _ = try inner.compile(a) }
                    (output, type) = (.count, .long)
                } else {
                    guard call.arguments.count == 1 else {
                        throw Diagnostic("'\(kind.rawValue)' takes one argument, found \(call.arguments.count)", at: call.range)
                    }
                    let arg = try inner.compile(call.arguments[0])
                    if kind != .distinctCount, !arg.type.isNumeric {
                        throw Diagnostic("'\(kind.rawValue)' needs a numeric argument, found \(arg.type)", at: call.arguments[0].range)
                    }
                    let a = argument(arg, call.arguments[0])
                    let present = layout.base(.present(argument: a))
                    switch kind {
                    case .sum where arg.type.isIntegral: (output, type) = (.sum(layout.base(.longSum(argument: a)), present: present, type: .long), .long)
                    case .sum: (output, type) = (.sum(layout.base(.doubleSum(argument: a)), present: present, type: .double), .double)
                    case .avg: (output, type) = (.avg(sum: layout.base(.doubleSum(argument: a)), present: present), .double)
                    case .min, .max:
                        let base: AggregationLayout.Base = arg.type.isIntegral
                            ? (kind == .min ? .longMin(argument: a) : .longMax(argument: a))
                            : (kind == .min ? .doubleMin(argument: a) : .doubleMax(argument: a))
                        (output, type) = (.extreme(layout.base(base), present: present, type: arg.type), arg.type)
                    default: (output, type) = (.distinctCount(layout.base(.distinct(argument: a))), .long)
                    }
                }
            } else {
                // Not aggregated: the value of the bucket's newest event, as Siddhi keeps it.
                let e = try plain.compile(item.expression)
                (output, type) = (.last(layout.base(.last(argument: argument(e, item.expression))), type: e.type), e.type == .object ? .string : e.type)
            }
            layout.outputs.append(output)
            attributes.append(.init(name: name, type: type))
        }
        var groupBy: [CompiledExpression] = []
        for g in definition.selector.groupBy { groupBy.append(try compiler.compile(g)) }
        let tables = AggregationTables(
            aggregation: definition.name.name,
            groupBy: groupBy.indices.map { i in (Self.columnName(definition.selector.groupBy[i]) ?? "AGG_GROUP_\(i)", groupBy[i].type) },
            layout: layout, arguments: zip(argumentNames, arguments).map { ($0, $1.type) })

        return IncrementalAggregation(name: definition.name.name, durations: durations,
                                      schema: StreamSchema(name: definition.name.name, attributes: attributes), layout: layout,
                                      filter: filter, eventTime: eventTime, groupBy: groupBy, arguments: arguments,
                                      bufferSize: bufferSize, ignoresOlderThanBuffer: ignoresOlder, retention: retention, tables: tables,
                                      context: context)
    }

    /// The column a stored aggregation names after `e`: an attribute's own name; nil for anything else.
    private static func columnName(_ e: Expression) -> String? {
        if case .variable(let v) = e.kind { return v.attribute.name }
        return nil
    }

    /// `@BufferSize('3')`.
    private static func count(_ d: AggregationDefinition, _ name: String) throws(Diagnostic) -> Int64? {
        guard let a = d.annotations.first(where: { $0.name.lowercased() == name.lowercased() }) else { return nil }
        // Bounded, so that stepping back over the buffer can never overflow a timestamp.
        guard let text = a.value(nil), let n = Int64(text.filter { $0 != " " }), (0...1_000_000).contains(n) else {
            throw Diagnostic("@\(a.name) needs a number of buckets from 0 to 1000000, as in @\(a.name)('3')", at: a.range)
        }
        return n
    }

    /// `@IgnoreEventsOlderThanBuffer('true')`.
    private static func flag(_ d: AggregationDefinition, _ name: String) throws(Diagnostic) -> Bool? {
        guard let a = d.annotations.first(where: { $0.name.lowercased() == name.lowercased() }) else { return nil }
        switch a.value(nil)?.lowercased() {
        case "true": return true
        case "false": return false
        default: throw Diagnostic("@\(a.name) takes 'true' or 'false'", at: a.range)
        }
    }
}
