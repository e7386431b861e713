import SluiceCore
import SluiceQL

/// Turns an expression tree into a column-at-a-time closure, checking names and types on the way.
struct ExpressionCompiler {
    var scope: Scope
    let context: ExecutionContext
    /// Compiles an aggregate call (`sum(x)`) where the selector allows one; nil elsewhere.
    var aggregateHandler: ((FunctionCall, ExpressionCompiler) throws(Diagnostic) -> CompiledExpression)?
    /// The tables `in` can test; nil where there are none.
    var tables: ((String) -> InMemoryTable?)?
    /// Where an aggregate is not allowed, say why.
    var aggregateContext = "a filter"

    init(scope: Scope, context: ExecutionContext) {
        self.scope = scope
        self.context = context
    }

    func compile(_ e: Expression) throws(Diagnostic) -> CompiledExpression {
        switch e.kind {
        case .constant(let c):
            return Self.compileConstant(c)
        case .variable(let v):
            if let sides = scope.ambiguity(v) {
                throw Diagnostic("attribute '\(v.attribute.name)' is in both '\(sides[0])' and '\(sides[1])': qualify it, as in "
                                 + "'\(sides[0]).\(v.attribute.name)'", at: v.attribute.range)
            }
            guard let entry = scope.lookup(v) else {
                if let q = v.qualifier, !scope.knowsQualifier(q.name) {
                    throw Diagnostic("unknown stream or alias '\(q.name)'", at: q.range)
                }
                throw Diagnostic("attribute '\(v.attribute.name)' is not defined\(v.qualifier.map { " in '\($0.name)'" } ?? "")",
                                 at: v.attribute.range)
            }
            return .attribute(entry.index, type: entry.type)
        case .negate(let inner):
            let x = try compile(inner)
            guard x.type.isNumeric else { throw Diagnostic("'-' cannot be applied to \(x.type)", at: e.range) }
            return Arithmetic.negate(x)
        case .not(let inner):
            let x = try compileCondition(inner, what: "'not'")
            return Logic.not(x)
        case .arithmetic(let op, let l, let r):
            let a = try compile(l)
            let b = try compile(r)
            guard let type = AttributeType.promote(a.type, b.type) else {
                throw Diagnostic("'\(op.rawValue)' cannot be applied to \(a.type) and \(b.type)", at: e.range)
            }
            return fold(Arithmetic.compile(op, a, b, type: type))
        case .comparison(let op, let l, let r):
            let a = try compile(l)
            let b = try compile(r)
            return fold(try Comparison.compile(op, a, b, range: e.range))
        case .and(let l, let r):
            return fold(Logic.and(try compileCondition(l, what: "'and'"), try compileCondition(r, what: "'and'")))
        case .or(let l, let r):
            return fold(Logic.or(try compileCondition(l, what: "'or'"), try compileCondition(r, what: "'or'")))
        case .isNull(let inner):
            // `e1 is null` parses as an attribute test when nothing marks e1 as an event.
            if case .variable(let v) = inner.kind, v.qualifier == nil, scope.lookup(v) == nil, let presence = scope.presence[v.attribute.name] {
                return Self.isAbsent(presence, v.index)
            }
            return Logic.isNull(try compile(inner))
        case .streamIsNull(let id, let index):
            guard let presence = scope.presence[id.name] else {
                throw Diagnostic("'\(id.name) is null' needs an event of a pattern or sequence, which this query does not have", at: id.range)
            }
            return Self.isAbsent(presence, index)
        case .inTable(let condition, let name):
            guard let table = tables?(name.name) else { throw Diagnostic("table '\(name.name)' is not defined", at: name.range) }
            return try TableMembership.compile(condition, table: table, scope: scope, context: context)
        case .function(let call):
            if AggregatorKind(name: call.name.name, namespace: call.namespace?.name) != nil {
                guard let aggregateHandler else {
                    throw Diagnostic("aggregate function '\(call.name.name)' is not allowed in \(aggregateContext)", at: call.name.range)
                }
                return try aggregateHandler(call, self)
            }
            return fold(try BuiltinFunctions.compile(call, compiler: self))
        }
    }

    func compileCondition(_ e: Expression, what: String) throws(Diagnostic) -> CompiledExpression {
        let x = try compile(e)
        guard x.type == .bool else { throw Diagnostic("\(what) needs a bool condition, found \(x.type)", at: e.range) }
        return x
    }

    static func compileConstant(_ c: Constant) -> CompiledExpression {
        switch c {
        case .string(let s): .constant(.string(s), type: .string)
        case .int(let i): .constant(.int(i), type: .int)
        case .long(let l): .constant(.long(l), type: .long)
        case .float(let f): .constant(.float(f), type: .float)
        case .double(let d): .constant(.double(d), type: .double)
        case .bool(let b): .constant(.bool(b), type: .bool)
        case .null: .constant(.null, type: .object)
        case .time(let ms): .constant(.long(ms), type: .long)
        }
    }

    /// Evaluates an expression of constants once, at deploy time.
    func fold(_ x: CompiledExpression) -> CompiledExpression {
        guard x.constant == nil, x.foldable else { return x }
        let input = EvaluationInput(batch: EventBatch(timestamps: [0], columns: []), now: 0, context: context)
        let value = x.evaluate(input).value(at: 0)
        return .constant(value, type: x.type)
    }
}

extension ExpressionCompiler {
    /// `e1 is null`, `e1[2] is null`, `e1[last-1] is null` for a pattern's event.
    static func isAbsent(_ presence: Scope.Presence, _ index: EventIndex?) -> CompiledExpression {
        switch presence {
        case .always:
            return .constant(.bool(false), type: .bool)
        case .counted(let column):
            // Event i (or last-k) is there when more than i (or k) were collected.
            let needed: Int64 = switch index {
            case .position(let i)?: Int64(i)
            case .last(let k)?: Int64(k)
            case nil: 0
            }
            return CompiledExpression(type: .bool) { input in Column(bools: input.batch.columns[column].longs.map { $0 <= needed }) }
        case .flagged(let column, let bit):
            return CompiledExpression(type: .bool) { input in Column(bools: input.batch.columns[column].longs.map { $0 & bit == 0 }) }
        }
    }
}
