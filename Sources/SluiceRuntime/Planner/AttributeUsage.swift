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

    /// Whether `e` tests a pattern event's presence (`e1 is null`).
    static func testsPresence(_ e: Expression) -> Bool {
        switch e.kind {
        case .streamIsNull: true
        case .constant, .variable: false
        case .negate(let a), .not(let a), .isNull(let a), .inTable(let a, _): testsPresence(a)
        case .arithmetic(_, let a, let b), .comparison(_, let a, let b), .and(let a, let b), .or(let a, let b):
            testsPresence(a) || testsPresence(b)
        case .function(let call): call.arguments.contains(where: testsPresence)
        }
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

extension AppRuntime {
    /// Per attribute of input stream `stream`, true when nothing in the app can read it: no query
    /// (including those inside partitions) names it, no partition key or range reads it, and the
    /// stream has no sink or fault stream that would carry it. nil when that cannot be ruled out
    /// for any attribute (`select *`, joins, patterns, an unknown stream). A node may then skip
    /// decoding those columns.
    public func unreadAttributes(of stream: String) -> [Bool]? {
        guard let schema = global.streams[stream]?.schema,
              let definition = app.definitions.lazy.compactMap({ d -> StreamDefinition? in
                  if case .stream(let s) = d, s.name.name == stream { return s }
                  return nil
              }).first else { return nil }
        if Self.hasFaultStream(definition) || definition.annotations.contains(where: { $0.name.lowercased() == "sink" }) { return nil }
        var queries: [Query] = []
        var keyNames = Set<String>()
        for element in app.executionElements {
            switch element {
            case .query(let q): queries.append(q)
            case .partition(let p):
                queries += p.queries
                for key in p.keys where key.stream.name == stream {
                    switch key {
                    case .value(let e, _): keyNames.formUnion(AttributeUsage.names(in: [e]))
                    case .range(let ranges, _): keyNames.formUnion(AttributeUsage.names(in: ranges.map(\.condition)))
                    }
                }
            }
        }
        let names = schema.attributes.map(\.name)
        guard let read = AttributeUsage.read(of: stream, attributes: names, by: queries) else { return nil }
        let unread = zip(read, names).map { !$0 && !keyNames.contains($1) }
        return unread.contains(true) ? unread : nil
    }
}
