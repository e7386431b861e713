import SluiceCore
@testable import SluiceQL
import Testing

// Compact, range-free renderings of the tree, so tests can state shapes in one line.

func render(_ e: Expression) -> String {
    switch e.kind {
    case .constant(let c): return render(c)
    case .variable(let v): return render(v)
    case .negate(let x): return "(neg \(render(x)))"
    case .not(let x): return "(not \(render(x)))"
    case .arithmetic(let op, let a, let b): return "(\(op.rawValue) \(render(a)) \(render(b)))"
    case .comparison(let op, let a, let b): return "(\(op.rawValue) \(render(a)) \(render(b)))"
    case .and(let a, let b): return "(and \(render(a)) \(render(b)))"
    case .or(let a, let b): return "(or \(render(a)) \(render(b)))"
    case .isNull(let x): return "(isnull \(render(x)))"
    case .streamIsNull(let s, let index): return "(streamisnull \(s.name)\(render(index)))"
    case .inTable(let x, let table): return "(in \(render(x)) \(table.name))"
    case .function(let f): return render(f)
    }
}

func render(_ c: Constant) -> String {
    switch c {
    case .string(let s): "'\(s)'"
    case .int(let v): "\(v)"
    case .long(let v): "\(v)L"
    case .float(let v): "\(v)F"
    case .double(let v): "\(v)D"
    case .bool(let v): "\(v)"
    case .null: "null"
    case .time(let ms): "\(ms)ms"
    }
}

func render(_ index: EventIndex?) -> String {
    switch index {
    case nil: ""
    case .position(let p): "[\(p)]"
    case .last(let m): m == 0 ? "[last]" : "[last-\(m)]"
    }
}

func render(_ v: Variable) -> String {
    var s = ""
    if let q = v.qualifier {
        s = (v.isInnerQualifier ? "#" : "") + q.name + render(v.index) + "."
    }
    return s + v.attribute.name
}

func render(_ f: FunctionCall) -> String {
    "\(f.qualifiedName)(\(f.arguments.map(render).joined(separator: ", ")))"
}

func render(_ s: SingleInputStream) -> String {
    var out = (s.isInner ? "#" : "") + (s.isFault ? "!" : "") + s.stream.name
    for handler in s.handlers {
        switch handler {
        case .filter(let e): out += "[\(render(e))]"
        case .window(let f): out += "#window.\(render(f))"
        case .function(let f): out += "#\(render(f))"
        }
    }
    if let alias = s.alias { out += " as \(alias.name)" }
    return out
}

func render(_ s: StreamStateElement) -> String {
    (s.eventReference.map { "\($0.name)=" } ?? "") + render(s.stream)
}

func render(_ e: StateElement) -> String {
    switch e {
    case .stream(let s): return render(s)
    case .absent(let s, let ms): return "(not \(render(s))\(ms.map { " for \($0)" } ?? ""))"
    case .every(let x): return "(every \(render(x)))"
    case .next(let a, let b): return "(next \(render(a)) \(render(b)))"
    case .logical(let a, let op, let b): return "(\(op.rawValue) \(render(a)) \(render(b)))"
    case .count(let s, let min, let max): return "\(render(s))<\(min.map(String.init) ?? ""):\(max.map(String.init) ?? "")>"
    case .quantified(let s, let q):
        let mark = switch q {
        case .zeroOrMore: "*"
        case .oneOrMore: "+"
        case .zeroOrOne: "?"
        }
        return render(s) + mark
    case .within(let x, let ms): return "(within \(render(x)) \(ms))"
    }
}

// MARK: Parsing helpers

func expr(_ source: String, sourceLocation: Testing.SourceLocation = #_sourceLocation) -> String {
    do {
        return render(try SiddhiParser.parseExpression(source))
    } catch {
        Issue.record("\(source): \(error)", sourceLocation: sourceLocation)
        return "<error>"
    }
}

/// The only query of `source`.
func query(_ source: String, sourceLocation: Testing.SourceLocation = #_sourceLocation) throws -> Query {
    let app = try SiddhiParser.parse(source)
    guard app.executionElements.count == 1, case .query(let q) = app.executionElements[0] else {
        Issue.record("expected exactly one query", sourceLocation: sourceLocation)
        throw Diagnostic("no query", at: .unknown)
    }
    return q
}

/// The only definition of `source`.
func definition(_ source: String, sourceLocation: Testing.SourceLocation = #_sourceLocation) throws -> Definition {
    let app = try SiddhiParser.parse(source)
    guard app.definitions.count == 1 else {
        Issue.record("expected exactly one definition", sourceLocation: sourceLocation)
        throw Diagnostic("no definition", at: .unknown)
    }
    return app.definitions[0]
}

/// The error that parsing `source` throws, or nil.
func parseError(_ source: String) -> Diagnostic? {
    do {
        _ = try SiddhiParser.parse(source)
        return nil
    } catch {
        return error
    }
}

func expressionError(_ source: String) -> Diagnostic? {
    do {
        _ = try SiddhiParser.parseExpression(source)
        return nil
    } catch {
        return error
    }
}

/// Checks that `source` fails at `line:column` with a message containing `message`.
func expectError(_ source: String, at line: Int, _ column: Int, _ message: String,
                 sourceLocation: Testing.SourceLocation = #_sourceLocation) {
    guard let d = parseError(source) else {
        Issue.record("expected an error for: \(source)", sourceLocation: sourceLocation)
        return
    }
    #expect(d.range.start.line == line, "line of \(d)", sourceLocation: sourceLocation)
    #expect(d.range.start.column == column, "column of \(d)", sourceLocation: sourceLocation)
    #expect(d.message.contains(message), "message of \(d)", sourceLocation: sourceLocation)
}

/// The state input of the only query in `source`.
func stateInput(_ source: String, sourceLocation: Testing.SourceLocation = #_sourceLocation) throws -> StateInputStream {
    let q = try query(source, sourceLocation: sourceLocation)
    guard case .state(let s) = q.input else {
        Issue.record("expected a pattern or sequence input", sourceLocation: sourceLocation)
        throw Diagnostic("not a state input", at: .unknown)
    }
    return s
}

/// The text a range covers.
func text(_ source: String, _ range: SourceRange) -> String {
    let bytes = Array(source.utf8)
    return String(decoding: bytes[range.start.offset..<range.end.offset], as: UTF8.self)
}
