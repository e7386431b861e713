import SluiceCore
import SluiceQL

/// One element of a pattern or sequence as written, before its filters are compiled.
private enum WrittenElement {
    case single(StreamStateElement)
    case count(StreamStateElement, min: Int, max: Int)
    case logical(isAnd: Bool, WrittenSide, WrittenSide)
    case absent(StreamStateElement, waitFor: Int64)

    var takesSteps: Bool {
        if case .single = self { return false }
        return true
    }

    var hasAbsence: Bool {
        switch self {
        case .absent: return true
        case .logical(_, let a, let b):
            if case .absent = a { return true }
            if case .absent = b { return true }
            return false
        default: return false
        }
    }
}

private enum WrittenSide {
    case event(StreamStateElement)
    case absent(StreamStateElement, waitFor: Int64?)
}

extension QueryPlanner {
    /// A pattern (`->`) or sequence (`,`): `[every] <element> (-> | ,) … [within t]`, or `every (…)`
    /// around the whole chain. An element is `e1=S[…]`, a count `e1=S[…]<n:m>` (in a sequence
    /// `e1=S[…]*`, `+`, `?`), `A and B`, `A or B`, or an absence `not S[…] for t` (also as a side
    /// of `and` / `or`).
    func planPattern(_ query: Query, _ state: StateInputStream, resolver: StreamResolver) throws(Diagnostic) -> PlannedQuery {
        let isSequence = state.kind == .sequence
        let kind = isSequence ? "sequences" : "patterns"
        func unsupported(_ what: String, _ range: SourceRange) -> Diagnostic {
            Diagnostic("\(what) in \(kind) are not supported yet", at: range)
        }
        func element(_ e: StateElement) -> WrittenElement? {
            func side(_ e: StateElement) -> WrittenSide? {
                switch e {
                case .stream(let s): .event(s)
                case .absent(let s, let t): .absent(s, waitFor: t)
                default: nil
                }
            }
            switch e {
            case .stream(let s): return .single(s)
            case .count(let s, let min, let max): return .count(s, min: min ?? 0, max: max ?? Int.max)
            case .quantified(let s, let q):
                switch q {
                case .zeroOrMore: return .count(s, min: 0, max: Int.max)
                case .oneOrMore: return .count(s, min: 1, max: Int.max)
                case .zeroOrOne: return .count(s, min: 0, max: 1)
                }
            case .absent(let s, let t?): return .absent(s, waitFor: t)
            case .logical(let a, let op, let b):
                guard let l = side(a), let r = side(b) else { return nil }
                return .logical(isAnd: op == .and, l, r)
            default: return nil
            }
        }
        /// Elements after the first that repeat: `-> every e2=B` and `-> every not B for t` keep waiting after each match.
        var repeating = Set<Int>()
        var written: [WrittenElement] = []
        func chain(_ e: StateElement) throws(Diagnostic) {
            if case .next(let a, let b) = e {
                try chain(a)
                try chain(b)
            } else if let one = element(e) {
                written.append(one)
            } else if case .every(let inner) = e, !written.isEmpty, !isSequence, let one = element(inner) {
                switch one {
                case .single, .absent:
                    if case .count(let s, _, _) = written.last { throw unsupported("'every' right after a count", s.range) }
                    repeating.insert(written.count)
                    written.append(one)
                default:
                    throw unsupported("'every' on a count, 'and' or 'or' inside the chain", state.range)
                }
            } else {
                switch e {
                case .every: throw unsupported("'every' on part of the chain", state.range)
                case .within: throw unsupported("a 'within' on part of the input", state.range)
                default: throw unsupported("'and' and 'or' of anything but stream events and absences", state.range)
                }
            }
        }
        let restart: PatternProcessor.Restart
        switch state.root {
        case .every(let inner) where element(inner) != nil:
            restart = .eachFirst
            try chain(inner)
        case .next(.every(let inner), let rest) where element(inner) != nil:
            restart = .eachFirst
            try chain(inner)
            try chain(rest)
        case .every(let inner):
            try chain(inner)
            restart = .afterGroup(elements: written.count)
        case .next(.every(let group), let rest):
            // `every (e1=A -> e2=B) -> e3=C`: the group starts again once a partial has left it.
            try chain(group)
            restart = .afterGroup(elements: written.count)
            try chain(rest)
        default:
            restart = .once
            try chain(state.root)
        }
        for (j, e) in written.enumerated() {
            if isSequence, e.hasAbsence { throw unsupported("absent ('not') elements", state.range) }
            if j > 0, case .count(let s, _, _) = written[j - 1], e.takesSteps {
                throw unsupported("a counted element followed by a count, 'and', 'or' or 'not'", s.range)
            }
            if case .logical(_, .absent, .absent) = e { throw unsupported("'and' and 'or' of two absences", state.range) }
        }

        // Which collected events of each counted element the query names.
        var counted: [String: (head: Int, tail: Int)] = [:]
        for case .count(let s, _, _) in written { counted[Self.name(of: s)] = (0, 0) }
        let selection = Self.selectionExpressions(query)
        var filters: [Expression] = []
        for case .filter(let f) in state.streamElements.flatMap(\.stream.handlers) { filters.append(f) }
        for (e, inSelection) in selection.map({ ($0, true) }) + filters.map({ ($0, false) }) {
            for v in AttributeUsage.variables(in: e) {
                guard let q = v.qualifier?.name, var slots = counted[q] else { continue }
                if case .position(let i)? = v.index, i > Self.largestIndex { throw Self.indexTooLarge(q, v) }
                if case .last(let k)? = v.index, k > Self.largestIndex { throw Self.indexTooLarge(q, v) }
                switch v.index {
                case .position(let i)?: slots.head = max(slots.head, i + 1)
                case .last(let k)?: slots.tail = max(slots.tail, k + 1)
                case nil:
                    if inSelection {
                        throw Diagnostic("'\(q).\(v.attribute.name)' would be every event '\(q)' collected: select one, as in "
                                         + "'\(q)[0].\(v.attribute.name)' or '\(q)[last].\(v.attribute.name)'", at: v.attribute.range)
                    }
                    // A later filter's `e1.x` reads the latest event.
                    slots.tail = max(slots.tail, 1)
                }
                counted[q] = slots
            }
        }

        var planned = PlannedQuery()
        var parts: [SelectionInput.Part] = []
        var latestOfCounted: [(qualifier: String, attributes: [(String, AttributeType)], offset: Int)] = []
        var junctions: [String: StreamJunction] = [:]
        func width(_ parts: [SelectionInput.Part]) -> Int { parts.reduce(0) { $0 + $1.attributes.count } }
        func hidden(_ names: String...) -> SelectionInput.Part {
            .init(qualifiers: [], attributes: names.map { .init(name: $0, type: .long) }, hidden: true)
        }
        /// A stream event of the pattern, its filter compiled over the match so far (`own` adds a count's collected events).
        func leaf(_ element: StreamStateElement, own: [SelectionInput.Part] = [], named: Bool = true) throws(Diagnostic) -> (PatternLeaf, StreamSchema) {
            let input = element.stream
            if input.isFault { throw unsupported("fault streams", input.range) }
            let (junction, isWindow) = try resolver.inputJunction(input.stream, isInner: input.isInner)
            if isWindow { throw unsupported("named windows", input.stream.range) }
            let schema = junction.schema
            let name = Self.name(of: element)
            if named, parts.contains(where: { $0.qualifiers == [name] }) {
                throw Diagnostic("'\(name)' names two events of the \(isSequence ? "sequence" : "pattern"): give each its own reference, "
                                 + "as in 'e1=\(input.stream.name)'", at: element.eventReference?.range ?? input.stream.range)
            }
            var filter: Expression?
            for handler in input.handlers {
                switch handler {
                case .filter(let f):
                    if filter != nil { throw unsupported("two filters on one event", f.range) }
                    filter = f
                case .window(let call): throw unsupported("windows", call.range)
                case .function(let call): throw unsupported("stream functions", call.range)
                }
            }
            // The filter sees this event unqualified (or by its reference), and earlier ones by theirs.
            let visible = parts + own
            let before = width(visible)
            var scope = Scope()
            scope.add(qualifiers: [name, input.stream.name], attributes: schema.pairs, offset: before, side: parts.count + 1)
            scope.add(visible, from: 0, qualifiedOnly: true)
            for l in latestOfCounted { scope.add(qualifiers: [l.qualifier], attributes: l.attributes, offset: l.offset, qualifiedOnly: true) }
            var compiled: CompiledExpression?
            var readsEarlier = false
            if let filter {
                compiled = try makeCompiler(scope, resolver).compileCondition(filter, what: "a pattern filter")
                readsEarlier = AttributeUsage.testsPresence(filter)
                    || AttributeUsage.variables(in: filter).contains { (scope.lookup($0)?.index ?? before) < before }
                if !readsEarlier {
                    // Evaluated over the arriving chunk alone: its columns start at 0.
                    var alone = Scope()
                    alone.add(qualifiers: [name, input.stream.name], attributes: schema.pairs, offset: 0)
                    compiled = try makeCompiler(alone, resolver).compileCondition(filter, what: "a pattern filter")
                }
            }
            junctions[schema.name] = junction
            return (PatternLeaf(stream: schema.name, types: schema.attributes.map(\.type), filter: compiled, readsEarlier: readsEarlier), schema)
        }

        var elements: [PatternElement] = []
        for (j, e) in written.enumerated() {
            let side = j + 1
            switch e {
            case .single(let s):
                let (l, schema) = try leaf(s)
                parts.append(.init(qualifiers: [Self.name(of: s)], attributes: schema.attributes, side: side,
                                   presence: [(Self.name(of: s), .always)]))
                elements.append(.single(l))
            case .count(let s, let min, let max):
                let name = Self.name(of: s)
                let slots = counted[name] ?? (0, 0)
                let schema = try resolver.inputJunction(s.stream.stream, isInner: s.stream.isInner).0.schema
                let own = (0..<slots.head).map { SelectionInput.Part(qualifiers: [name], attributes: schema.attributes, side: side, eventIndex: .position($0)) }
                    + (0..<slots.tail).map { SelectionInput.Part(qualifiers: [name], attributes: schema.attributes, side: side, eventIndex: .last(minus: $0)) }
                let (l, _) = try leaf(s, own: own)
                if slots.tail > 0 {
                    latestOfCounted.append((name, schema.pairs, width(parts) + slots.head * schema.attributes.count))
                }
                var count = hidden("#count")
                count.presence = [(name, .counted)]
                parts += own + [count]
                elements.append(.count(l, min: min, max: max, head: slots.head, tail: slots.tail))
            case .logical(let isAnd, let a, let b):
                // Each side's filter sees the elements before, not its sibling.
                var sides: [PatternSide] = []
                var added: [SelectionInput.Part] = []
                var bookkeeping = hidden("#state", "#deadline")
                for (s, written) in [a, b].enumerated() {
                    switch written {
                    case .event(let e):
                        let (l, schema) = try leaf(e)
                        added.append(.init(qualifiers: [Self.name(of: e)], attributes: schema.attributes, side: side))
                        bookkeeping.presence.append((Self.name(of: e), .flagged(s == 0 ? PatternElement.leftTaken : PatternElement.rightTaken)))
                        sides.append(.event(l))
                    case .absent(let e, let t):
                        sides.append(.absent(try leaf(e, named: false).0, waitFor: t))
                    }
                }
                if added.count == 2, added[0].qualifiers == added[1].qualifiers {
                    throw Diagnostic("'\(added[0].qualifiers[0])' names two events of the \(isSequence ? "sequence" : "pattern"): give each its own reference",
                                     at: state.range)
                }
                parts += added + [bookkeeping]
                elements.append(.logical(isAnd: isAnd, sides[0], sides[1]))
            case .absent(let s, let t):
                let (l, _) = try leaf(s, named: false)
                parts.append(hidden("#deadline"))
                elements.append(.absent(l, waitFor: t))
            }
        }
        let processor = PatternProcessor(elements: elements, repeating: repeating, isSequence: isSequence, restart: restart, within: state.within,
                                         context: context, scheduler: scheduler)
        planned.stateful.append(processor)
        planned.patterns.append(processor)
        let source = SelectionInput(parts: parts, windows: [], hasWindow: false, chunkShape: .whole, accumulatingWindow: nil)
        try planSelection(query, source: source, tail: processor, planned: &planned, resolver: resolver)
        processor.chunkPerArrival = !planned.outputIgnoresChunking || context.eachEventIsAChunk
        for (name, junction) in junctions.sorted(by: { $0.key < $1.key }) {
            planned.subscriptions.append((junction, junction.subscribe { [unowned processor] batch in processor.arrive(batch, stream: name) }))
        }
        return planned
    }

    /// Each index a query names is a column set every partial carries.
    private static let largestIndex = 1_000

    private static func indexTooLarge(_ q: String, _ v: Variable) -> Diagnostic {
        Diagnostic("'\(q)' is indexed beyond \(largestIndex): a counted element keeps each event its query names", at: v.attribute.range)
    }

    private static func name(of element: StreamStateElement) -> String {
        element.eventReference?.name ?? element.stream.stream.name
    }

    /// The expressions of the selection: projection, grouping, `having` and ordering.
    private static func selectionExpressions(_ query: Query) -> [Expression] {
        (query.selector.projection ?? []).map(\.expression) + query.selector.groupBy + (query.selector.having.map { [$0] } ?? [])
            + query.selector.orderBy.map(\.expression)
    }
}

private extension StateInputStream {
    /// Every stream event the input names, in order.
    var streamElements: [StreamStateElement] {
        func collect(_ e: StateElement) -> [StreamStateElement] {
            switch e {
            case .stream(let s), .absent(let s, _), .count(let s, _, _), .quantified(let s, _): [s]
            case .every(let inner), .within(let inner, _): collect(inner)
            case .next(let a, let b), .logical(let a, _, let b): collect(a) + collect(b)
            }
        }
        return collect(root)
    }
}
