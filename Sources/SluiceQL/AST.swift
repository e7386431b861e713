import SluiceCore

// The syntax tree of a SiddhiQL 5 app. Every node keeps the range of text it came from, so
// that later stages can point at the offending token.

public struct SiddhiApp: Sendable, Hashable {
    public var annotations: [Annotation]
    public var definitions: [Definition]
    public var executionElements: [ExecutionElement]

    public init(annotations: [Annotation] = [], definitions: [Definition] = [], executionElements: [ExecutionElement] = []) {
        self.annotations = annotations
        self.definitions = definitions
        self.executionElements = executionElements
    }

    /// `@app:name('…')`, if given.
    public var name: String? { annotations.first { $0.name.lowercased() == "app:name" }?.elements.first?.value }
}

/// `@name(key='value', 'value', @nested(...))`. App-level annotations are named `app:name`.
public struct Annotation: Sendable, Hashable {
    public var name: String
    public var elements: [AnnotationElement]
    public var annotations: [Annotation]
    public var range: SourceRange

    public init(name: String, elements: [AnnotationElement] = [], annotations: [Annotation] = [], range: SourceRange) {
        self.name = name
        self.elements = elements
        self.annotations = annotations
        self.range = range
    }

    /// The value of `key='…'` (keys compare case-insensitively), or of the sole unnamed element when `key` is nil.
    public func value(_ key: String?) -> String? {
        if let key {
            return elements.first { $0.key?.lowercased() == key.lowercased() }?.value
        }
        return elements.first { $0.key == nil }?.value
    }
}

public struct AnnotationElement: Sendable, Hashable {
    /// nil for a positional element such as `@info('x')`. Dotted keys stay whole: `publisher.url`.
    public var key: String?
    public var value: String
    public var range: SourceRange

    public init(key: String?, value: String, range: SourceRange) {
        self.key = key
        self.value = value
        self.range = range
    }
}

public struct AttributeDefinition: Sendable, Hashable {
    public var name: String
    public var type: AttributeType
    public var range: SourceRange

    public init(name: String, type: AttributeType, range: SourceRange) {
        self.name = name
        self.type = type
        self.range = range
    }
}

/// A name with where it was written.
public struct Identifier: Sendable, Hashable, CustomStringConvertible {
    public var name: String
    public var range: SourceRange

    public init(_ name: String, range: SourceRange) {
        self.name = name
        self.range = range
    }

    public var description: String { name }
}

// MARK: - Definitions

public enum Definition: Sendable, Hashable {
    case stream(StreamDefinition)
    case table(TableDefinition)
    case window(WindowDefinition)
    case trigger(TriggerDefinition)
    case aggregation(AggregationDefinition)
    case function(FunctionDefinition)
}

/// `define stream S (a int, …)`.
public struct StreamDefinition: Sendable, Hashable {
    public var annotations: [Annotation]
    public var name: Identifier
    public var attributes: [AttributeDefinition]
    public var range: SourceRange

    public init(annotations: [Annotation] = [], name: Identifier, attributes: [AttributeDefinition], range: SourceRange) {
        self.annotations = annotations
        self.name = name
        self.attributes = attributes
        self.range = range
    }
}

/// `define table T (…)`, with `@primaryKey`, `@index` and `@store` annotations.
public struct TableDefinition: Sendable, Hashable {
    public var annotations: [Annotation]
    public var name: Identifier
    public var attributes: [AttributeDefinition]
    public var range: SourceRange

    public init(annotations: [Annotation] = [], name: Identifier, attributes: [AttributeDefinition], range: SourceRange) {
        self.annotations = annotations
        self.name = name
        self.attributes = attributes
        self.range = range
    }
}

/// `define window W (…) length(5) output all events`.
public struct WindowDefinition: Sendable, Hashable {
    public var annotations: [Annotation]
    public var name: Identifier
    public var attributes: [AttributeDefinition]
    public var window: FunctionCall
    public var outputEventType: OutputEventType
    public var range: SourceRange

    public init(annotations: [Annotation] = [], name: Identifier, attributes: [AttributeDefinition], window: FunctionCall,
                outputEventType: OutputEventType = .all, range: SourceRange) {
        self.annotations = annotations
        self.name = name
        self.attributes = attributes
        self.window = window
        self.outputEventType = outputEventType
        self.range = range
    }
}

/// `define trigger T at every 5 sec | at 'start' | at '*/5 * * * * ?'`.
public struct TriggerDefinition: Sendable, Hashable {
    public enum Schedule: Sendable, Hashable {
        case every(milliseconds: Int64)
        case start
        case cron(String)
    }

    public var annotations: [Annotation]
    public var name: Identifier
    public var schedule: Schedule
    public var range: SourceRange

    public init(annotations: [Annotation] = [], name: Identifier, schedule: Schedule, range: SourceRange) {
        self.annotations = annotations
        self.name = name
        self.schedule = schedule
        self.range = range
    }
}

public enum TimeDuration: String, Sendable, Hashable, CaseIterable {
    case seconds, minutes, hours, days, weeks, months, years
}

/// `define aggregation A from S select … group by … aggregate [by ts] every sec … year`.
public struct AggregationDefinition: Sendable, Hashable {
    public enum Granularity: Sendable, Hashable {
        /// `every sec ... year`
        case range(TimeDuration, TimeDuration)
        /// `every sec, min, hour`
        case list([TimeDuration])
    }

    public var annotations: [Annotation]
    public var name: Identifier
    public var input: SingleInputStream
    public var selector: Selector
    public var aggregateBy: Expression?
    public var granularity: Granularity
    public var range: SourceRange

    public init(annotations: [Annotation] = [], name: Identifier, input: SingleInputStream, selector: Selector,
                aggregateBy: Expression?, granularity: Granularity, range: SourceRange) {
        self.annotations = annotations
        self.name = name
        self.input = input
        self.selector = selector
        self.aggregateBy = aggregateBy
        self.granularity = granularity
        self.range = range
    }
}

/// `define function f[javascript] return string { … }`. The body is kept verbatim.
public struct FunctionDefinition: Sendable, Hashable {
    public var name: Identifier
    public var language: String
    public var returnType: AttributeType
    public var body: String
    public var range: SourceRange

    public init(name: Identifier, language: String, returnType: AttributeType, body: String, range: SourceRange) {
        self.name = name
        self.language = language
        self.returnType = returnType
        self.body = body
        self.range = range
    }
}

// MARK: - Execution elements

public enum ExecutionElement: Sendable, Hashable {
    case query(Query)
    case partition(Partition)
}

public struct Query: Sendable, Hashable {
    public var annotations: [Annotation]
    public var input: InputStream
    public var selector: Selector
    public var outputRate: OutputRate?
    public var output: OutputAction
    public var range: SourceRange

    public init(annotations: [Annotation] = [], input: InputStream, selector: Selector, outputRate: OutputRate? = nil,
                output: OutputAction, range: SourceRange) {
        self.annotations = annotations
        self.input = input
        self.selector = selector
        self.outputRate = outputRate
        self.output = output
        self.range = range
    }

    /// `@info(name='…')`, if given.
    public var name: String? { annotations.first { $0.name.lowercased() == "info" }?.value("name") }
}

/// `partition with (key of S, …) begin … end`.
public struct Partition: Sendable, Hashable {
    public var annotations: [Annotation]
    public var keys: [PartitionKey]
    public var queries: [Query]
    public var range: SourceRange

    public init(annotations: [Annotation] = [], keys: [PartitionKey], queries: [Query], range: SourceRange) {
        self.annotations = annotations
        self.keys = keys
        self.queries = queries
        self.range = range
    }
}

public enum PartitionKey: Sendable, Hashable {
    /// `symbol of S`
    case value(expression: Expression, stream: Identifier)
    /// `price >= 100 as 'large' or price < 100 as 'small' of S`
    case range(ranges: [RangeCondition], stream: Identifier)

    public var stream: Identifier {
        switch self {
        case .value(_, let s), .range(_, let s): s
        }
    }
}

public struct RangeCondition: Sendable, Hashable {
    public var condition: Expression
    public var label: String
    public var range: SourceRange

    public init(condition: Expression, label: String, range: SourceRange) {
        self.condition = condition
        self.label = label
        self.range = range
    }
}

// MARK: - Inputs

public indirect enum InputStream: Sendable, Hashable {
    case single(SingleInputStream)
    case join(JoinInputStream)
    case state(StateInputStream)

    public var range: SourceRange {
        switch self {
        case .single(let s): s.range
        case .join(let j): j.range
        case .state(let s): s.range
        }
    }
}

/// `[#|!]S[as x][filter]#window.length(5)#fn(…)[filter]`.
public struct SingleInputStream: Sendable, Hashable {
    /// `#S`: an inner stream of a partition.
    public var isInner: Bool
    /// `!S`: the fault stream of S.
    public var isFault: Bool
    public var stream: Identifier
    public var alias: Identifier?
    public var handlers: [StreamHandler]
    public var range: SourceRange

    public init(isInner: Bool = false, isFault: Bool = false, stream: Identifier, alias: Identifier? = nil,
                handlers: [StreamHandler] = [], range: SourceRange) {
        self.isInner = isInner
        self.isFault = isFault
        self.stream = stream
        self.alias = alias
        self.handlers = handlers
        self.range = range
    }

    public var window: FunctionCall? {
        for case .window(let w) in handlers { return w }
        return nil
    }
}

public enum StreamHandler: Sendable, Hashable {
    /// `[condition]`
    case filter(Expression)
    /// `#window.ns:name(args)`
    case window(FunctionCall)
    /// `#ns:name(args)`, a stream function or stream processor
    case function(FunctionCall)
}

public enum JoinType: String, Sendable, Hashable {
    case inner, leftOuter, rightOuter, fullOuter
}

/// `A#window.x join B#window.y on cond [within t] [per expr]`; `unidirectional` marks the triggering side.
public struct JoinInputStream: Sendable, Hashable {
    public enum Trigger: Sendable, Hashable { case both, left, right }

    public var left: SingleInputStream
    public var type: JoinType
    public var right: SingleInputStream
    public var on: Expression?
    public var within: Expression?
    public var per: Expression?
    public var trigger: Trigger
    public var range: SourceRange
    /// The end of `within start, end` (aggregation joins); nil for a single `within` value.
    public var withinEnd: Expression?

    public init(left: SingleInputStream, type: JoinType, right: SingleInputStream, on: Expression?, within: Expression? = nil,
                per: Expression? = nil, trigger: Trigger = .both, range: SourceRange, withinEnd: Expression? = nil) {
        self.left = left
        self.type = type
        self.right = right
        self.on = on
        self.within = within
        self.per = per
        self.trigger = trigger
        self.range = range
        self.withinEnd = withinEnd
    }
}

/// A pattern (`->`) or a sequence (`,`).
public struct StateInputStream: Sendable, Hashable {
    public enum Kind: Sendable, Hashable { case pattern, sequence }

    public var kind: Kind
    public var root: StateElement
    /// `within 10 min` at the end of the whole pattern, in milliseconds.
    public var within: Int64?
    public var range: SourceRange

    public init(kind: Kind, root: StateElement, within: Int64? = nil, range: SourceRange) {
        self.kind = kind
        self.root = root
        self.within = within
        self.range = range
    }
}

/// `e1=S[filter]` inside a pattern or sequence.
public struct StreamStateElement: Sendable, Hashable {
    public var eventReference: Identifier?
    public var stream: SingleInputStream
    public var range: SourceRange

    public init(eventReference: Identifier?, stream: SingleInputStream, range: SourceRange) {
        self.eventReference = eventReference
        self.stream = stream
        self.range = range
    }
}

public enum SequenceQuantifier: String, Sendable, Hashable {
    /// `*`
    case zeroOrMore
    /// `+`
    case oneOrMore
    /// `?`
    case zeroOrOne
}

public indirect enum StateElement: Sendable, Hashable {
    case stream(StreamStateElement)
    /// `not S[filter] for 5 sec` (the duration is optional when followed by `and`).
    case absent(StreamStateElement, forMilliseconds: Int64?)
    /// `every X`
    case every(StateElement)
    /// `X -> Y` in a pattern, `X, Y` in a sequence.
    case next(StateElement, StateElement)
    /// `X and Y`, `X or Y`
    case logical(StateElement, LogicalOperator, StateElement)
    /// `e1=S<2:5>`; nil bounds are open (`<2:>`, `<:5>`), `<3>` is min = max = 3.
    case count(StreamStateElement, min: Int?, max: Int?)
    /// `e1=S*`, `e1=S+`, `e1=S?` in a sequence.
    case quantified(StreamStateElement, SequenceQuantifier)
    /// `(X) within 5 sec`: a parenthesised group with its own time bound.
    case within(StateElement, milliseconds: Int64)
}

public enum LogicalOperator: String, Sendable, Hashable { case and, or }

// MARK: - Selection

public struct Selector: Sendable, Hashable {
    /// nil for `select *` or a missing `select`.
    public var projection: [OutputAttribute]?
    public var distinct: Bool
    public var groupBy: [Expression]
    public var having: Expression?
    public var orderBy: [OrderByItem]
    public var limit: Expression?
    public var offset: Expression?
    public var range: SourceRange

    public init(projection: [OutputAttribute]? = nil, distinct: Bool = false, groupBy: [Expression] = [], having: Expression? = nil,
                orderBy: [OrderByItem] = [], limit: Expression? = nil, offset: Expression? = nil, range: SourceRange) {
        self.projection = projection
        self.distinct = distinct
        self.groupBy = groupBy
        self.having = having
        self.orderBy = orderBy
        self.limit = limit
        self.offset = offset
        self.range = range
    }
}

public struct OutputAttribute: Sendable, Hashable {
    public var expression: Expression
    /// `as name`; without one, a plain attribute keeps its own name.
    public var alias: Identifier?
    public var range: SourceRange

    public init(expression: Expression, alias: Identifier?, range: SourceRange) {
        self.expression = expression
        self.alias = alias
        self.range = range
    }
}

public struct OrderByItem: Sendable, Hashable {
    public var expression: Expression
    public var ascending: Bool

    public init(expression: Expression, ascending: Bool) {
        self.expression = expression
        self.ascending = ascending
    }
}

// MARK: - Output

public enum OutputEventType: String, Sendable, Hashable {
    case current, expired, all
}

public enum OutputRate: Sendable, Hashable {
    public enum Kind: String, Sendable, Hashable { case all, first, last }

    /// `output [all|first|last] every N events`
    case events(Kind, count: Int, range: SourceRange)
    /// `output [all|first|last] every 5 sec`
    case time(Kind, milliseconds: Int64, range: SourceRange)
    /// `output snapshot every 5 sec`
    case snapshot(milliseconds: Int64, range: SourceRange)
}

public struct SetAssignment: Sendable, Hashable {
    public var target: Expression
    public var value: Expression

    public init(target: Expression, value: Expression) {
        self.target = target
        self.value = value
    }
}

public enum OutputAction: Sendable, Hashable {
    /// `insert [current|expired|all events] into [#]S`
    case insert(into: Identifier, isInner: Bool, isFault: Bool, eventType: OutputEventType)
    /// `delete T [for … events] on cond`
    case delete(table: Identifier, eventType: OutputEventType, on: Expression)
    /// `update T [for … events] set T.a = x, … on cond`
    case update(table: Identifier, eventType: OutputEventType, set: [SetAssignment], on: Expression)
    /// `update or insert into T [for … events] set … on cond`
    case updateOrInsert(table: Identifier, eventType: OutputEventType, set: [SetAssignment], on: Expression)
    /// `return [events]`, used inside partitions and by on-demand queries.
    case returnEvents(eventType: OutputEventType)
}

/// A query run once against a table, window or aggregation (`from T on cond select …`).
public struct OnDemandQuery: Sendable, Hashable {
    public enum Action: Sendable, Hashable {
        /// `from T [on cond] [within … per …] select …`
        case find(source: Identifier, on: Expression?, within: Expression?, per: Expression?)
        /// `select … insert into T`
        case insert(into: Identifier)
        case delete(table: Identifier, on: Expression)
        case update(table: Identifier, set: [SetAssignment], on: Expression)
        case updateOrInsert(table: Identifier, set: [SetAssignment], on: Expression)
    }

    public var action: Action
    public var selector: Selector
    public var range: SourceRange
    /// `from T as t …`: the alias of a `find` source.
    public var sourceAlias: Identifier?
    /// The end of `within start, end` in a `find`; nil for a single `within` value.
    public var withinEnd: Expression?

    public init(action: Action, selector: Selector, range: SourceRange, sourceAlias: Identifier? = nil, withinEnd: Expression? = nil) {
        self.action = action
        self.selector = selector
        self.range = range
        self.sourceAlias = sourceAlias
        self.withinEnd = withinEnd
    }
}

// MARK: - Expressions

public struct Expression: Sendable, Hashable {
    public var kind: Kind
    public var range: SourceRange

    public init(_ kind: Kind, range: SourceRange) {
        self.kind = kind
        self.range = range
    }

    public indirect enum Kind: Sendable, Hashable {
        case constant(Constant)
        case variable(Variable)
        case negate(Expression)
        case not(Expression)
        case arithmetic(ArithmeticOperator, Expression, Expression)
        case comparison(ComparisonOperator, Expression, Expression)
        case and(Expression, Expression)
        case or(Expression, Expression)
        /// `x is null`
        case isNull(Expression)
        /// `e1 is null` or `S is null` for a stream or event reference in a pattern or join.
        case streamIsNull(Identifier, index: EventIndex?)
        /// `x in T`
        case inTable(Expression, table: Identifier)
        /// `[ns:]name(args)`; `count()` has no arguments, `count(*)` is written as no arguments too.
        case function(FunctionCall)
    }
}

public enum Constant: Sendable, Hashable {
    case string(String)
    case int(Int32)
    case long(Int64)
    case float(Float)
    case double(Double)
    case bool(Bool)
    case null
    /// `5 sec`, `1 min 30 sec`: a long number of milliseconds.
    case time(milliseconds: Int64)
}

/// `e1[last].price`, `S.price`, `#Inner.price`, or just `price`.
public struct Variable: Sendable, Hashable {
    /// The stream, alias or event reference before the dot, if any.
    public var qualifier: Identifier?
    public var isInnerQualifier: Bool
    public var index: EventIndex?
    public var attribute: Identifier

    public init(qualifier: Identifier? = nil, isInnerQualifier: Bool = false, index: EventIndex? = nil, attribute: Identifier) {
        self.qualifier = qualifier
        self.isInnerQualifier = isInnerQualifier
        self.index = index
        self.attribute = attribute
    }
}

/// `e1[0]`, `e1[last]`, `e1[last-1]`.
public enum EventIndex: Sendable, Hashable {
    case position(Int)
    case last(minus: Int)
}

public enum ArithmeticOperator: String, Sendable, Hashable {
    case add = "+", subtract = "-", multiply = "*", divide = "/", modulo = "%"
}

public enum ComparisonOperator: String, Sendable, Hashable {
    case equal = "==", notEqual = "!=", less = "<", lessOrEqual = "<=", greater = ">", greaterOrEqual = ">="
}

/// `[namespace:]name(arguments)`; also used for windows and stream functions.
public struct FunctionCall: Sendable, Hashable {
    public var namespace: Identifier?
    public var name: Identifier
    public var arguments: [Expression]
    public var range: SourceRange

    public init(namespace: Identifier? = nil, name: Identifier, arguments: [Expression], range: SourceRange) {
        self.namespace = namespace
        self.name = name
        self.arguments = arguments
        self.range = range
    }

    /// `ns:name` or `name`.
    public var qualifiedName: String {
        if let namespace { return "\(namespace.name):\(name.name)" }
        return name.name
    }
}
