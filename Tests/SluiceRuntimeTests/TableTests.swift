import SluiceCore
import Testing
@testable import SluiceRuntime

/// In-memory tables with Siddhi 5's semantics: insert (a taken primary key drops the new row),
/// delete, update and update or insert applied event by event, `in`, joins, and on-demand queries.
@Suite struct TableTests {
    static let app = """
    @app:name('Stocks')
    define stream Stock (symbol string, price double, volume long);
    define stream Sell (symbol string);
    define stream Check (symbol string);
    define stream Reprice (symbol string, price double);
    @PrimaryKey('symbol')
    define table StockTable (symbol string, price double, volume long);
    from Stock insert into StockTable;
    from Sell delete StockTable on StockTable.symbol == symbol;
    from Reprice update StockTable set StockTable.price = price on StockTable.symbol == symbol;
    from Check[StockTable.symbol == symbol in StockTable] select symbol insert into Present;
    from Check join StockTable on Check.symbol == StockTable.symbol select Check.symbol as s, StockTable.price as p insert into Found;
    from Check left outer join StockTable on Check.symbol == StockTable.symbol select Check.symbol as s, StockTable.volume as v insert into Either;

    """

    func rows(_ runtime: AppRuntime, _ query: String) throws -> [[Value]] {
        let result = try runtime.query(query)
        return (0..<result.rows.count).map { result.rows.values(at: $0) }
    }

    @Test func insertDeleteInAndJoin() throws {
        let out = try run(Self.app, [
            event("Stock", 1, "\"A\", 10.0, 100"), event("Stock", 2, "\"B\", 20.0, 200"),
            event("Stock", 3, "\"A\", 11.0, 300"),   // key A is taken: dropped
            event("Check", 4, "\"A\""), event("Sell", 5, "\"A\""), event("Check", 6, "\"A\""), event("Check", 7, "\"B\""),
        ])
        #expect(out == [
            "Present [\"A\"]", "Found [\"A\",10.0]", "Either [\"A\",100]",
            "Either [\"A\",null]",
            "Present [\"B\"]", "Found [\"B\",20.0]", "Either [\"B\",200]",
        ])
    }

    @Test func updatesApplyEventByEvent() throws {
        let runtime = try AppRuntime(source: Self.app)
        let stock = try runtime.inputHandler(for: "Stock"), reprice = try runtime.inputHandler(for: "Reprice")
        try stock.send(timestamp: 1, values: [.string("A"), .double(10), .long(100)])
        try stock.send(timestamp: 2, values: [.string("B"), .double(20), .long(200)])
        var batch = EventBatch(types: [.string, .double])
        batch.append(timestamp: 3, values: [.string("A"), .double(12)])
        batch.append(timestamp: 3, values: [.string("A"), .double(13)])
        batch.append(timestamp: 3, values: [.string("C"), .double(99)])   // matches nothing
        try reprice.send(batch)
        #expect(try rows(runtime, "from StockTable select symbol, price, volume") == [
            [.string("A"), .double(13), .long(100)], [.string("B"), .double(20), .long(200)],
        ])
    }

    @Test func updateOrInsertInsertsWhatMatchesNothing() throws {
        let app = """
        define stream Quote (symbol string, price double);
        @PrimaryKey('symbol')
        define table Latest (symbol string, price double, quotes long);
        from Quote select symbol, price, 1L as quotes
        update or insert into Latest set Latest.price = price, Latest.quotes = Latest.quotes + quotes on Latest.symbol == symbol;
        """
        let runtime = try AppRuntime(source: app)
        let quote = try runtime.inputHandler(for: "Quote")
        var batch = EventBatch(types: [.string, .double])
        // The second A of the chunk finds the row the first one inserted.
        for (s, p) in [("A", 1.0), ("B", 2.0), ("A", 3.0)] { batch.append(timestamp: 1, values: [.string(s), .double(p)]) }
        try quote.send(batch)
        try quote.send(timestamp: 2, values: [.string("B"), .double(4)])
        #expect(try rows(runtime, "from Latest select symbol, price, quotes") == [
            [.string("A"), .double(3), .long(2)], [.string("B"), .double(4), .long(2)],
        ])
    }

    @Test func updateWithoutSetAssignsTheOutputByName() throws {
        let app = """
        define stream Reprice (symbol string, price double);
        define table T (symbol string, price double, volume long);
        from Reprice update T on T.symbol == symbol;
        """
        let runtime = try AppRuntime(source: app)
        _ = try runtime.query("select 'A' as symbol, 1.0 as price, 5L as volume insert into T")
        _ = try runtime.query("select 'A' as symbol, 2.0 as price, 6L as volume insert into T")
        try runtime.inputHandler(for: "Reprice").send(timestamp: 1, values: [.string("A"), .double(9)])
        // Without a primary key both rows are A, and both are updated; volume is untouched.
        #expect(try rows(runtime, "from T select symbol, price, volume") == [
            [.string("A"), .double(9), .long(5)], [.string("A"), .double(9), .long(6)],
        ])
    }

    @Test func onDemandQueries() throws {
        let runtime = try AppRuntime(source: Self.app)
        for (s, p, v) in [("A", 10.0, 100), ("B", 20.0, 200), ("C", 30.0, 300)] {
            _ = try runtime.query("select '\(s)' as symbol, \(p) as price, \(v)L as volume insert into StockTable")
        }
        #expect(try rows(runtime, "from StockTable on price > 15.0 select symbol order by symbol desc") == [[.string("C")], [.string("B")]])
        #expect(try rows(runtime, "from StockTable as t on t.volume >= 200 select count() as n, sum(volume) as total")
            == [[.long(2), .long(500)]])
        let result = try runtime.query("from StockTable select symbol, eventTimestamp() as ts limit 1")
        #expect(result.attributes.map(\.name) == ["symbol", "ts"])
        #expect(result.rows.values(at: 0) == [.string("A"), .long(-1)])
        _ = try runtime.query("delete StockTable on StockTable.symbol == 'B'")
        _ = try runtime.query("select 35.0 as newPrice update StockTable set StockTable.price = newPrice on StockTable.symbol == 'C'")
        _ = try runtime.query("select 'D' as symbol, 1.0 as price, 1L as volume update or insert into StockTable "
                              + "set StockTable.price = price on StockTable.symbol == symbol")
        #expect(try rows(runtime, "from StockTable select symbol, price") == [
            [.string("A"), .double(10)], [.string("C"), .double(35)], [.string("D"), .double(1)],
        ])
        #expect(try rows(runtime, "from StockTable on symbol == 'Z' select symbol").isEmpty)
    }

    @Test func snapshotKeepsTheRows() throws {
        let runtime = try AppRuntime(source: Self.app)
        _ = try runtime.query("select 'A' as symbol, 1.0 as price, 2L as volume insert into StockTable")
        let state = runtime.snapshot()
        let restored = try AppRuntime(source: Self.app)
        try restored.restore(state)
        #expect(try rows(restored, "from StockTable select symbol, price, volume") == [[.string("A"), .double(1), .long(2)]])
        // The primary key came back too.
        _ = try restored.query("select 'A' as symbol, 5.0 as price, 6L as volume insert into StockTable")
        #expect(try rows(restored, "from StockTable select count() as n") == [[.long(1)]])
    }

    @Test func refusals() {
        let base = "define stream S (symbol string, price double);\ndefine table T (symbol string, price double);\n"
        #expect(deployError(base + "from S select symbol insert into T;")
            == "3:34: the query's output (symbol string) does not match table 'T' (symbol string, price double)")
        #expect(deployError(base + "from S delete T on symbol == symbol and price > 1.0 and T.nope == 1;")
            == "3:59: attribute 'nope' is not defined in 'T'")
        #expect(deployError(base + "from T select symbol insert into O;")
            == "3:6: table 'T' cannot be read as a stream: join it, test with 'in T', or query it on demand")
        #expect(deployError(base + "from S select symbol, price, 1 as x update T on T.symbol == symbol;")
            == "3:44: output attribute 'x int' is not an attribute of table 'T': add a 'set' clause")
        #expect(deployError("@PrimaryKey('nope')\ndefine table T (a int);")
            == "1:1: @PrimaryKey names 'nope', which table 'T' does not have")
        #expect(deployError("@store(type='rdbms')\ndefine table T (a int);")?.hasPrefix("1:1: @store tables need a database, which this embedding does not provide") == true)
        #expect(deployError(base + "from S join T#window.length(2) on S.symbol == T.symbol select price insert into O;")
            == "3:13: table 'T' takes no filter or window in a join")
    }
}

/// Which input attributes nothing in an app reads, so that a node may leave them undecoded.
@Suite struct UnreadAttributeTests {
    static let stream = "define stream S (a string, b long, c double, d bool, e string);\n"

    func unread(_ app: String) throws -> [Bool]? { try AppRuntime(source: Self.stream + app).unreadAttributes(of: "S") }

    @Test func queriesPartitionKeysAndConditionsRead() throws {
        #expect(try unread("from S[b > 1] select a insert into O;") == [false, false, true, true, true])
        #expect(try unread("from S#window.externalTimeBatch(b, 1 min) select count() as n insert into O;") == [true, false, true, true, true])
        #expect(try unread("partition with (e of S) begin from S select sum(c) as s insert into O; end;") == [true, true, false, true, false])
        #expect(try unread("partition with (b > 5 as 'hi' or b <= 5 as 'lo' of S) begin from S select a insert into O; end;")
            == [false, false, true, true, true])
    }

    @Test func whatCouldReadEverythingReadsEverything() throws {
        #expect(try unread("from S select * insert into O;") == nil)
        #expect(try unread("from S select a, b, c, d, e insert into O;") == nil)
        #expect(try unread("define stream T (a string);\nfrom S join T#window.length(1) on S.a == T.a select S.b as b insert into O;") == nil)
        #expect(try unread("from every e1=S -> e2=S select e1.a as a insert into O;") == nil)
        #expect(try AppRuntime(source: "@sink(type='log')\n" + Self.stream + "from S select a insert into O;").unreadAttributes(of: "S") == nil)
    }
}
