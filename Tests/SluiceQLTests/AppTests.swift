import SluiceCore
@testable import SluiceQL
import Testing

@Suite struct AppTests {
    static let seed = """
    @Sink(type = 'http',
              @map(type='json'),
              @distribution(strategy='partitioned', partitionKey='userTenantDomain',
              @destination(publisher.url='http://Ip1:8009/Request'),
              @destination(publisher.url='http://Ip2:8009/Request')))
    define stream Request (meta_clientType string, applicationConsumerKey string, apiCreator string,,
         apiTier string, userTenantDomain string, requestTimestamp long, throttledOut bool, responseTime long);
    """

    @Test func seedReportsTheDoubleComma() {
        guard let d = parseError(Self.seed) else {
            Issue.record("the seed app must not parse")
            return
        }
        #expect(d.range.start.line == 6)
        #expect(d.range.start.column == 97)
        #expect(d.range.end.column == 98)
        #expect(d.message == "unexpected ',' — expected an attribute name")
        #expect(d.description == "6:97: unexpected ',' — expected an attribute name")
    }

    @Test func seedParsesWithoutTheTypo() throws {
        let fixed = Self.seed.replacing(",,", with: ",")
        guard case .stream(let s) = try definition(fixed) else {
            Issue.record("not a stream")
            return
        }
        #expect(s.name.name == "Request")
        #expect(s.attributes.count == 8)
        #expect(s.attributes.last?.name == "responseTime")
        #expect(s.attributes.map(\.type) == [.string, .string, .string, .string, .string, .long, .bool, .long])
        let sink = s.annotations[0]
        #expect(sink.name == "Sink")
        #expect(sink.value("type") == "http")
        #expect(sink.annotations.map(\.name) == ["map", "distribution"])
        let distribution = sink.annotations[1]
        #expect(distribution.value("partitionKey") == "userTenantDomain")
        #expect(distribution.annotations.map { $0.value("publisher.url") } == ["http://Ip1:8009/Request", "http://Ip2:8009/Request"])
        #expect(s.range.start == SourceLocation(line: 1, column: 1, offset: 0))
        #expect(s.range.end.line == 7)
    }

    @Test func briefExampleError() {
        expectError("define stream ApiStream (apiName string,, apiTier string);", at: 1, 41, "unexpected ',' — expected an attribute name")
    }

    @Test func errorsPointAtTheOffendingTokenNotTheStatement() {
        let source = """
        define stream S (a int);

        from S[a > 1]
        select a,
        insert into O;
        """
        expectError(source, at: 5, 1, "unexpected 'insert' — expected an expression")
        expectError("define stream S (a int);\nfrom S select a insert into O;\nfrom S select a insert into ;", at: 3, 29,
                    "expected a stream or table name after 'into'")
    }

    @Test func statementSeparators() throws {
        let app = try SiddhiParser.parse("define stream A (x int);;; from A insert into B;")
        #expect(app.definitions.count == 1)
        #expect(app.executionElements.count == 1)
        #expect(try SiddhiParser.parse("").definitions.isEmpty)
        #expect(try SiddhiParser.parse("  -- only a comment\n").executionElements.isEmpty)
    }

    static let full = """
    @app:name('Full')
    @app:description('Exercises every construct')

    -- Streams, tables and friends
    @source(type='http', receiver.url='http://0.0.0.0:8006/stocks', @map(type='json'))
    define stream StockStream (symbol string, price float, volume long, ts long);
    define stream TempStream (roomNo int, temp double);
    define stream RegulatorStream (roomNo int, isOn bool);
    @PrimaryKey('symbol') @Index('volume')
    define table StockTable (symbol string, price float, volume long);
    define window StockWindow (symbol string, price float) timeBatch(1 sec) output all events;
    define trigger FiveSec at every 5 sec;
    define function plus[javascript] return double { return data[0] + data[1]; };
    define aggregation StockAgg from StockStream select symbol, avg(price) as avgPrice group by symbol
        aggregate by ts every sec ... hour;

    /* Queries */
    @info(name = 'filter')
    from StockStream[price > 10.5F and not (symbol == 'X')]#window.lengthBatch(10)
    select symbol, sum(volume) as total, plus(price, 1.0) as p
    group by symbol having total > 100L order by total desc limit 10 offset 1
    output last every 2 sec
    insert all events into Filtered;

    from StockStream as s join StockTable as t on s.symbol == t.symbol
    select s.symbol, t.price insert into Joined;

    from every e1=TempStream -> e2=TempStream[e1.roomNo == roomNo and temp > e1.temp]<2:> -> not RegulatorStream[roomNo == e1.roomNo] for 1 min
        within 10 min
    select e1.roomNo, e2[0].temp as first, e2[last].temp as last
    insert into Rising;

    from every e1=StockStream, e2=StockStream[price > e1.price]+, e3=StockStream[price < e2[last].price]
    select e1.price as start, e2[last].price as peak, e3.price as end
    insert into Peaks;

    from StockStream update or insert into StockTable set StockTable.price = price on StockTable.symbol == symbol;
    from StockStream delete StockTable for expired events on StockTable.symbol == symbol;

    partition with (symbol of StockStream)
    begin
        from StockStream select symbol, count() as n insert into #Counts;
        from #Counts select * insert into CountOut;
    end;

    from FiveSec select triggered_time as t insert into Ticks
    """

    @Test func fullApp() throws {
        let app = try SiddhiParser.parse(Self.full)
        #expect(app.name == "Full")
        #expect(app.annotations.count == 2)
        #expect(app.definitions.map(\.kindName) == ["stream", "stream", "stream", "table", "window", "trigger", "function", "aggregation"])
        #expect(app.executionElements.count == 8)
        var walker = RangeWalker(source: Self.full)
        walker.walk(app)
        #expect(walker.problems.isEmpty, "\(walker.problems.prefix(5))")
        #expect(walker.count > 150)
    }
}

/// Visits every node and checks that its range is real and lies inside its parent's.
struct RangeWalker {
    let source: String
    var problems: [String] = []
    var count = 0

    mutating func check(_ range: SourceRange, _ what: String, in parent: SourceRange? = nil) {
        count += 1
        if range == .unknown || range.start.offset >= range.end.offset {
            problems.append("\(what): empty range at \(range.start)")
        }
        if let parent, range.start.offset < parent.start.offset || range.end.offset > parent.end.offset {
            problems.append("\(what): \(range.start)-\(range.end) outside \(parent.start)-\(parent.end)")
        }
        if range.end.offset > source.utf8.count {
            problems.append("\(what): past the end")
        }
    }

    mutating func walk(_ app: SiddhiApp) {
        app.annotations.forEach { walk($0, in: nil) }
        for definition in app.definitions {
            switch definition {
            case .stream(let d):
                check(d.range, "stream")
                d.annotations.forEach { walk($0, in: d.range) }
                check(d.name.range, "name", in: d.range)
                d.attributes.forEach { check($0.range, "attribute", in: d.range) }
            case .table(let d):
                check(d.range, "table")
                d.annotations.forEach { walk($0, in: d.range) }
                d.attributes.forEach { check($0.range, "attribute", in: d.range) }
            case .window(let d):
                check(d.range, "window")
                walk(d.window, in: d.range)
            case .trigger(let d):
                check(d.range, "trigger")
                check(d.name.range, "name", in: d.range)
            case .aggregation(let d):
                check(d.range, "aggregation")
                walk(d.input, in: d.range)
                walk(d.selector, in: d.range)
                if let by = d.aggregateBy { walk(by, in: d.range) }
            case .function(let d):
                check(d.range, "function")
                check(d.name.range, "name", in: d.range)
            }
        }
        for element in app.executionElements {
            switch element {
            case .query(let q): walk(q, in: nil)
            case .partition(let p):
                check(p.range, "partition")
                for key in p.keys {
                    check(key.stream.range, "partition stream", in: p.range)
                    switch key {
                    case .value(let e, _): walk(e, in: p.range)
                    case .range(let ranges, _):
                        for r in ranges {
                            check(r.range, "range condition", in: p.range)
                            walk(r.condition, in: r.range)
                        }
                    }
                }
                p.queries.forEach { walk($0, in: p.range) }
            }
        }
    }

    mutating func walk(_ a: Annotation, in parent: SourceRange?) {
        check(a.range, "annotation @\(a.name)", in: parent)
        a.elements.forEach { check($0.range, "annotation element", in: a.range) }
        a.annotations.forEach { walk($0, in: a.range) }
    }

    mutating func walk(_ q: Query, in parent: SourceRange?) {
        check(q.range, "query", in: parent)
        q.annotations.forEach { walk($0, in: q.range) }
        check(q.input.range, "input", in: q.range)
        switch q.input {
        case .single(let s): walk(s, in: q.range)
        case .join(let j):
            walk(j.left, in: j.range)
            walk(j.right, in: j.range)
            if let on = j.on { walk(on, in: j.range) }
        case .state(let s): walk(s.root, in: s.range)
        }
        if q.selector.isWritten { walk(q.selector, in: q.range) }
        switch q.outputRate {
        case .events(_, _, let r), .time(_, _, let r), .snapshot(_, let r): check(r, "output rate", in: q.range)
        case nil: break
        }
        switch q.output {
        case .insert(let t, _, _, _): check(t.range, "target", in: q.range)
        case .delete(let t, _, let on):
            check(t.range, "target", in: q.range)
            walk(on, in: q.range)
        case .update(let t, _, let set, let on), .updateOrInsert(let t, _, let set, let on):
            check(t.range, "target", in: q.range)
            for s in set {
                walk(s.target, in: q.range)
                walk(s.value, in: q.range)
            }
            walk(on, in: q.range)
        case .returnEvents: break
        }
    }

    mutating func walk(_ s: Selector, in parent: SourceRange) {
        check(s.range, "selector", in: parent)
        for attribute in s.projection ?? [] {
            check(attribute.range, "output attribute", in: s.range)
            walk(attribute.expression, in: attribute.range)
            if let alias = attribute.alias { check(alias.range, "alias", in: attribute.range) }
        }
        s.groupBy.forEach { walk($0, in: s.range) }
        if let h = s.having { walk(h, in: s.range) }
        s.orderBy.forEach { walk($0.expression, in: s.range) }
        if let l = s.limit { walk(l, in: s.range) }
        if let o = s.offset { walk(o, in: s.range) }
    }

    mutating func walk(_ s: SingleInputStream, in parent: SourceRange) {
        check(s.range, "single stream", in: parent)
        check(s.stream.range, "stream name", in: s.range)
        for handler in s.handlers {
            switch handler {
            case .filter(let e): walk(e, in: s.range)
            case .window(let f), .function(let f): walk(f, in: s.range)
            }
        }
    }

    mutating func walk(_ e: StateElement, in parent: SourceRange) {
        switch e {
        case .stream(let s), .absent(let s, _), .count(let s, _, _), .quantified(let s, _):
            check(s.range, "state stream", in: parent)
            walk(s.stream, in: s.range)
        case .every(let x), .within(let x, _): walk(x, in: parent)
        case .next(let a, let b), .logical(let a, _, let b):
            walk(a, in: parent)
            walk(b, in: parent)
        }
    }

    mutating func walk(_ f: FunctionCall, in parent: SourceRange) {
        check(f.range, "function \(f.qualifiedName)", in: parent)
        check(f.name.range, "function name", in: f.range)
        f.arguments.forEach { walk($0, in: f.range) }
    }

    mutating func walk(_ e: Expression, in parent: SourceRange) {
        check(e.range, "expression '\(text(source, e.range))'", in: parent)
        switch e.kind {
        case .constant: break
        case .variable(let v):
            check(v.attribute.range, "attribute", in: e.range)
            if let q = v.qualifier { check(q.range, "qualifier", in: e.range) }
        case .negate(let x), .not(let x), .isNull(let x): walk(x, in: e.range)
        case .arithmetic(_, let a, let b), .comparison(_, let a, let b), .and(let a, let b), .or(let a, let b):
            walk(a, in: e.range)
            walk(b, in: e.range)
        case .streamIsNull(let s, _): check(s.range, "stream", in: e.range)
        case .inTable(let x, let t):
            walk(x, in: e.range)
            check(t.range, "table", in: e.range)
        case .function(let f): walk(f, in: e.range)
        }
    }
}

@Suite struct ScaleTests {
    @Test func largeAppParsesQuickly() throws {
        var source = "define stream S (symbol string, price double, volume long);\n"
        for i in 0..<2000 {
            source += """
            @info(name='q\(i)')
            from S[price > \(i) and symbol == 'X\(i)']#window.time(\(i + 1) sec) as s
            select symbol, avg(price) as p, count() as n group by symbol having n > 2
            output last every 5 sec
            insert into Out\(i);

            """
        }
        let clock = ContinuousClock()
        var app = SiddhiApp()
        let elapsed = try clock.measure {
            app = try SiddhiParser.parse(source)
        }
        #expect(app.executionElements.count == 2000)
        #expect(elapsed < .seconds(10), "took \(elapsed)")
        print("parsed \(source.utf8.count) bytes in \(elapsed)")
    }

    @Test func deepNesting() throws {
        let depth = Parser.maxNesting - 1
        let source = String(repeating: "(", count: depth) + "1" + String(repeating: ")", count: depth)
        #expect(try SiddhiParser.parseExpression(source).kind == .constant(.int(1)))
        let long = (0..<2000).map { "a\($0)" }.joined(separator: " + ")
        #expect(try SiddhiParser.parseExpression(long).range.start.column == 1)
    }
}
