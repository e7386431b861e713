import Foundation
import NIOConcurrencyHelpers
import SluiceCore
import SluiceRuntime
import Testing
@testable import SluiceStores

/// `@store` tables in a real PostgreSQL server (`make test` starts one on loopback). One test at a
/// time: one of them stops the server.
@Suite(.serialized, .enabled(if: TestPostgres.url != nil, TestPostgres.skipReason))
struct PostgresStoreTests {
    /// A table name of its own per test run, so that runs never see each other's rows.
    let table = "stocks_" + UUID().uuidString.prefix(8).lowercased()

    func app(_ table: String, onError: String? = nil) -> String {
        """
        @app:name('Stocks')
        \(onError.map { "@OnError(action='\($0)')" } ?? "")
        define stream Stock (symbol string, price double, volume long);
        define stream Sell (symbol string);
        define stream Quote (symbol string, price double, volume long);
        @store(type='rdbms', jdbc.url='\(TestPostgres.url ?? "")', table.name='\(table)', field.length='symbol:20')
        @PrimaryKey('symbol')
        @Index('price')
        define table StockTable (symbol string, price double, volume long);
        from Stock insert into StockTable;
        from Sell delete StockTable on StockTable.symbol == symbol;
        from Quote update or insert into StockTable set StockTable.price = price, StockTable.volume = StockTable.volume + volume
            on StockTable.symbol == symbol;
        """ + (onError == "STREAM" ? "\nfrom !Stock select symbol, _error insert into Failed;" : "")
    }

    @Test func queriesWriteThroughAndANewRuntimeLoadsTheRows() throws {
        let stores = RDBMSStores(dataDirectory: temporaryDirectory())
        let runtime = try AppRuntime(source: app(table), stores: stores.provider)
        var batch = EventBatch(types: [.string, .double, .long])
        for (s, p, v) in [("B", 20.0, 200 as Int64), ("A", 10, 100), ("C", 30, 300), ("A", 99, 999)] {
            batch.append(timestamp: 1, values: [.string(s), .double(p), .long(v)])
        }
        try runtime.inputHandler(for: "Stock").send(batch)   // one chunk, one transaction; the second A is dropped
        try runtime.send("Sell", at: 2, [.string("B")])
        try runtime.send("Quote", at: 3, [.string("C"), .double(31), .long(5)])
        try runtime.send("Quote", at: 4, [.string("D"), .double(40), .long(1)])
        let expected: [[Value]] = [
            [.string("A"), .double(10), .long(100)], [.string("C"), .double(31), .long(305)], [.string("D"), .double(40), .long(1)],
        ]
        #expect(try runtime.rows("from StockTable select symbol, price, volume") == expected)
        // A restarted node reads the rows back (in primary-key order).
        let restarted = try AppRuntime(source: app(table), stores: stores.provider)
        #expect(try restarted.rows("from StockTable select symbol, price, volume") == expected)
        #expect(try restarted.rows("from StockTable on price > 20.0 select symbol") == [[.string("C")], [.string("D")]])
        try restarted.send("Stock", at: 5, [.string("A"), .double(1), .long(1)])   // still taken
        _ = try restarted.query("delete StockTable on StockTable.symbol == 'C'")
        #expect(try AppRuntime(source: app(table), stores: stores.provider).rows("from StockTable select symbol")
            == [[.string("A")], [.string("D")]])
    }

    @Test func everyTypeAndNullRoundTrips() throws {
        let source = """
        define stream S (s string, i int, l long, f float, d double, b bool);
        define stream Drop (i int);
        @store(type='rdbms', jdbc.url='\(TestPostgres.url ?? "")', table.name='\(table)')
        define table T (s string, i int, l long, f float, d double, b bool);
        from S insert into T;
        from Drop delete T on T.i == i;
        """
        let stores = RDBMSStores(dataDirectory: temporaryDirectory())
        let runtime = try AppRuntime(source: source, stores: stores.provider)
        let rows: [[Value]] = [
            [.string("x"), .int(1), .long(2), .float(1.5), .double(2.25), .bool(true)],
            [.null, .null, .null, .null, .null, .null],
            [.string("y'\""), .int(-7), .long(9_000_000_000), .float(0.1), .double(1e-300), .bool(false)],
            [.string("x"), .int(1), .long(2), .float(1.5), .double(2.25), .bool(true)],
        ]
        for (t, row) in rows.enumerated() { try runtime.send("S", at: Int64(t + 1), row) }
        try runtime.send("Drop", at: 10, [.int(1)])
        let loaded = try AppRuntime(source: source, stores: stores.provider).rows("from T select s, i, l, f, d, b")
        // Without a primary key PostgreSQL gives no order: compare as sets.
        #expect(Set(loaded) == Set([rows[1], rows[2]]) && loaded.count == 2)
        _ = try runtime.query("delete T on T.s is null")
        #expect(try AppRuntime(source: source, stores: stores.provider).rows("from T select s") == [[.string("y'\"")]])
    }

    @Test(.enabled(if: TestPostgres.control != nil, "SLUICE_TEST_POSTGRES_CTL is unset: nothing can stop the server"))
    func aStoppedServerIsRetriedSurfacedAndCaughtUpWith() throws {
        let stores = RDBMSStores(dataDirectory: temporaryDirectory(), retry: RecordedWaits().retry(attempts: 3))
        let runtime = try AppRuntime(source: app(table, onError: "STREAM"), stores: stores.provider)
        let failed = try runtime.collect("Failed")
        try runtime.send("Stock", at: 1, [.string("A"), .double(10), .long(100)])

        TestPostgres.server("pause")
        defer { TestPostgres.server("resume") }
        try runtime.send("Stock", at: 2, [.string("B"), .double(20), .long(200)])
        let fault = try #require(failed.withLockedValue { $0 }.first)
        #expect(fault[0] == .string("B"))
        #expect(fault[1].description.hasPrefix("table 'StockTable': writing 1 change(s) to table '\(table)' at 127.0.0.1:"))
        #expect(fault[1].description.contains("/sluice_test failed after 3 attempts: "))
        #expect(try runtime.rows("from StockTable select symbol") == [[.string("A")]])
        TestPostgres.server("resume")

        // WAIT: the engine holds the event until the server is back, then it lands.
        let waiting = RecordedWaits { count in if count == 2 { TestPostgres.server("resume") } }
        let waitStores = RDBMSStores(dataDirectory: temporaryDirectory(), retry: waiting.retry(attempts: 2))
        let reported = NIOLockedValueBox<[StoreWriteFailure]>([])
        let patient = try AppRuntime(source: app(table, onError: "WAIT"), stores: waitStores.provider)
        patient.onStoreFailure { failure in reported.withLockedValue { $0.append(failure) } }
        TestPostgres.server("pause")
        try patient.send("Stock", at: 3, [.string("C"), .double(30), .long(300)])
        #expect(waiting.recorded.count == 2)
        #expect(reported.withLockedValue { $0 }.map(\.willRetry) == [true])
        #expect(try AppRuntime(source: app(table), stores: stores.provider).rows("from StockTable select symbol")
            == [[.string("A")], [.string("C")]])
    }

    @Test func aServerThatIsNotThereFailsTheDeployAfterItsRetries() throws {
        let waits = RecordedWaits()
        let stores = RDBMSStores(dataDirectory: temporaryDirectory(), retry: waits.retry(attempts: 2))
        let error = deployError("""
            @store(type='rdbms', jdbc.url='jdbc:postgresql://127.0.0.1:1/none', username='u')
            define table T (a int);
            """, stores: stores)
        #expect(error?.hasPrefix("1:1: cannot load table 'T' from its store: loading table 'T' at 127.0.0.1:1/none failed after 2 attempts") == true)
        #expect(waits.recorded == [.milliseconds(100)])
    }
}
