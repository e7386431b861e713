import SluiceQL

/// Which attributes of a stream the queries reading it can ever look at, found from the names
/// their expressions mention. It over-approximates: a name that could be the stream's attribute
/// counts as read, and anything it cannot see through (`select *`, other input kinds) reads all.
enum AttributeUsage {
    /// Per attribute of `attributes`, whether any of `queries` that read `stream` may read it;
    /// nil when they may read every attribute.
    static func read(of stream: String, attributes: [String], by queries: [Query]) -> [Bool]? {
        var names = Set<String>()
        for query in queries {
            switch query.input {
            case .single(let input):
                guard !input.isInner, !input.isFault, input.stream.name == stream else { continue }
                guard let projection = query.selector.projection else { return nil }
                for handler in input.handlers {
                    switch handler {
                    case .filter(let e): collect(e, into: &names)
                    case .window(let call), .function(let call): call.arguments.forEach { collect($0, into: &names) }
                    }
                }
                projection.forEach { collect($0.expression, into: &names) }
                query.selector.groupBy.forEach { collect($0, into: &names) }
                query.selector.having.map { collect($0, into: &names) }
                query.selector.orderBy.forEach { collect($0.expression, into: &names) }
            case .join, .state:
                return nil
            }
        }
        return attributes.map { names.contains($0) }
    }

    /// Every attribute name `expressions` mention (over-approximated as above).
    static func names(in expressions: [Expression]) -> Set<String> {
        var names = Set<String>()
        expressions.forEach { collect($0, into: &names) }
        return names
    }

    /// Every attribute reference in `e`, as written.
    static func variables(in e: Expression) -> [Variable] {
        var found: [Variable] = []
        visit(e) { found.append($0) }
        return found
    }

    private static func collect(_ e: Expression, into names: inout Set<String>) {
        visit(e) { names.insert($0.attribute.name) }
    }

    private static func visit(_ e: Expression, _ body: (Variable) -> Void) {
        switch e.kind {
        case .constant, .streamIsNull:
            break
        case .variable(let v):
            body(v)
        case .negate(let a), .not(let a), .isNull(let a), .inTable(let a, _):
            visit(a, body)
        case .arithmetic(_, let a, let b), .comparison(_, let a, let b), .and(let a, let b), .or(let a, let b):
            visit(a, body)
            visit(b, body)
        case .function(let call):
            call.arguments.forEach { visit($0, body) }
        }
    }
}
