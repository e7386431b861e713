import Foundation
import GRDB
import NIOConcurrencyHelpers
import SluiceCore
import SluiceRuntime
import Testing
@testable import SluiceStores

/// `@store` on `define aggregation`: each duration's buckets are rows of `<AGG>_<DURATION>`, and a
/// runtime deployed on the same database continues from them as if it had never stopped.
enum StoredAggregation {
    static let hour0: Int64 = 1_496_289_600_000   // 2017-06-01 04:00:00 UTC

    static func app(_ store: String, name: String = "TradeAgg", onError: String? = nil) -> String {
        """
        @app:name('Trades')
        \(onError.map { "@OnError(action='\($0)')" } ?? "")
        define stream Trade (symbol string, price double, volume long, ts long);
        \(store)
        @BufferSize('2')
        define aggregation \(name) from Trade
        select symbol, sum(price) as total, avg(price) as avgPrice, min(volume) as minVolume, max(price) as maxPrice,
            count() as n, distinctCount(volume) as volumes
        group by symbol
        aggregate by ts every sec ... hour;
        """ + (onError == "STREAM" ? "\nfrom !Trade select symbol, _error insert into Failed;" : "")
    }

    /// (symbol, price, volume, seconds after hour0), in arrival order. The first five go before
    /// the restart; after it come an event older than the buffer (0.5 s, with 61 s the newest), one
    /// inside it (60 s), a new hour (3601 s, which purges the seconds before 3481 s), then a late one.
    static let trades: [(String, Double, Int64, Double)] = [
        ("IBM", 10, 1, 0), ("WSO2", 20, 2, 1), ("IBM", 30, 1, 2), ("IBM", 5, 3, 1), ("WSO2", 40, 2, 61),
        ("IBM", 50, 4, 0.5), ("IBM", 60, 5, 60), ("WSO2", 70, 6, 3601), ("IBM", 80, 1, 62),
    ]
    static let beforeRestart = 5

    static func send(_ runtime: AppRuntime, _ trades: ArraySlice<(String, Double, Int64, Double)>) throws {
        for (symbol, price, volume, seconds) in trades {
            let ts = hour0 + Int64(seconds * 1000)
            try runtime.send("Trade", at: 1, [.string(symbol), .double(price), .long(volume), .long(ts)])
        }
    }

    static func results(_ runtime: AppRuntime, name: String = "TradeAgg", per duration: String) throws -> [[Value]] {
        try runtime.rows("from \(name) within \(hour0)L, \(hour0 + 7_200_000)L per '\(duration)' "
                         + "select AGG_TIMESTAMP, symbol, total, avgPrice, minVolume, maxPrice, n, volumes")
    }

    static func row(_ offset: Int64, _ symbol: String, _ total: Double, _ n: Int64, _ minVolume: Int64, _ maxPrice: Double,
                    _ volumes: Int64) -> [Value] {
        [.long(hour0 + offset), .string(symbol), .double(total), .double(total / Double(n)), .long(minVolume), .double(maxPrice),
         .long(n), .long(volumes)]
    }

    static let perSeconds = [row(62_000, "IBM", 80, 1, 1, 80, 1), row(3_601_000, "WSO2", 70, 1, 6, 70, 1)]
    static let perMinutes = [
        row(0, "IBM", 95, 4, 1, 50, 3), row(0, "WSO2", 20, 1, 2, 20, 1),
        row(60_000, "IBM", 140, 2, 1, 80, 2), row(60_000, "WSO2", 40, 1, 2, 40, 1),
        row(3_600_000, "WSO2", 70, 1, 6, 70, 1),
    ]
    static let perHours = [row(0, "IBM", 235, 6, 1, 80, 4), row(0, "WSO2", 60, 2, 2, 40, 1), row(3_600_000, "WSO2", 70, 1, 6, 70, 1)]

    /// Runs every trade, restarting after `beforeRestart` on the same stores, and checks the reads
    /// against the exact buckets and against a run that never stopped (`uninterrupted`).
    static func checkRestart(store: String, uninterruptedStore: String, name: String, stores: RDBMSStores) throws {
        let uninterrupted = try AppRuntime(source: app(uninterruptedStore, name: name), stores: stores.provider)
        try send(uninterrupted, trades[...])

        var runtime: AppRuntime? = try AppRuntime(source: app(store, name: name), stores: stores.provider)
        try send(runtime!, trades.prefix(beforeRestart))
        runtime = nil
        let restarted = try AppRuntime(source: app(store, name: name), stores: stores.provider)
        try send(restarted, trades.dropFirst(beforeRestart))

        for (duration, expected) in [("seconds", perSeconds), ("minutes", perMinutes), ("hours", perHours)] {
            #expect(try results(restarted, name: name, per: duration) == expected, "per \(duration)")
            #expect(try results(uninterrupted, name: name, per: duration) == expected, "per \(duration), uninterrupted")
        }
        // A third runtime reads it all back without a single new event.
        let reloaded = try AppRuntime(source: app(store, name: name), stores: stores.provider)
        #expect(try results(reloaded, name: name, per: "minutes") == perMinutes)
    }

    /// Sends a trade while `down` holds the database: it goes to the fault stream, the aggregation
    /// goes back to what the database holds, and once `up` it goes on from there, a restart too.
    static func checkOutage(store: String, name: String, stores: RDBMSStores, down: () throws -> Void,
                            up: () -> Void) throws -> StoreWriteFailure {
        let app = app(store, name: name, onError: "STREAM")
        let runtime = try AppRuntime(source: app, stores: stores.provider)
        let failed = try runtime.collect("Failed")
        let reported = NIOLockedValueBox<[StoreWriteFailure]>([])
        runtime.onStoreFailure { failure in reported.withLockedValue { $0.append(failure) } }
        try send(runtime, trades.prefix(1))

        try down()
        try send(runtime, trades[1..<2])
        let failure = try #require(reported.withLockedValue { $0 }.first)
        #expect(!failure.willRetry)
        #expect(failed.withLockedValue { $0 }.map { $0[0] } == [.string("WSO2")])
        up()

        // The WSO2 trade was handed back: the aggregation is what the database holds, and goes on from it.
        try send(runtime, trades[2..<3])
        let expected: [[Value]] = [row(0, "IBM", 40, 2, 1, 30, 1)]
        #expect(try results(runtime, name: name, per: "minutes") == expected)
        let restarted = try AppRuntime(source: app, stores: stores.provider)
        #expect(try results(restarted, name: name, per: "minutes") == expected)
        return failure
    }
}

@Suite struct AggregationStoreTests {
    @Test func aRestartOnTheSameFileContinuesAsIfUninterrupted() throws {
        let directory = temporaryDirectory()
        try StoredAggregation.checkRestart(store: "@store(type='rdbms', jdbc.url='jdbc:sqlite:trades.db')",
                                           uninterruptedStore: "@store(type='rdbms', jdbc.url='jdbc:sqlite:other.db')",
                                           name: "TradeAgg", stores: RDBMSStores(dataDirectory: directory))
        let file = directory + "/trades.db"
        #expect(try SQLiteStoreTests.fileRows(file, "SELECT name FROM sqlite_master WHERE type = 'table' ORDER BY name")
            == [["TradeAgg_HOURS"], ["TradeAgg_MINUTES"], ["TradeAgg_SECONDS"]])
        #expect(try SQLiteStoreTests.fileRows(file, "SELECT sql FROM sqlite_master WHERE name = 'TradeAgg_HOURS'") == [[
            "CREATE TABLE \"TradeAgg_HOURS\" (\"AGG_TIMESTAMP\" BIGINT, \"AGG_GROUP\" BIGINT, \"symbol\" TEXT, \"AGG_COUNT\" BIGINT, "
                + "\"AGG_EVENT_TIMESTAMP\" BIGINT, \"AGG_LAST_symbol\" TEXT, \"AGG_COUNT_price\" BIGINT, \"AGG_SUM_price\" DOUBLE, "
                + "\"AGG_COUNT_volume\" BIGINT, \"AGG_MIN_volume\" BIGINT, \"AGG_MAX_price\" DOUBLE, \"AGG_DISTINCT_volume\" TEXT, "
                + "PRIMARY KEY (\"AGG_TIMESTAMP\", \"AGG_GROUP\"))",
        ]])
        let hour0 = StoredAggregation.hour0
        // Hour 0 holds what rolled up from minutes, and the late events; hour 1 is still in seconds and
        // minutes. The frontier row: the hours have absorbed the minutes before 59:00 (3601 s less the buffer).
        #expect(try SQLiteStoreTests.fileRows(file, """
            SELECT AGG_TIMESTAMP, AGG_GROUP, symbol, AGG_COUNT, AGG_EVENT_TIMESTAMP, AGG_SUM_price, AGG_COUNT_price, AGG_MIN_volume, \
            AGG_MAX_price FROM TradeAgg_HOURS ORDER BY AGG_TIMESTAMP, AGG_GROUP
            """) == [
                ["\(hour0)", "0", "IBM", "6", "\(hour0 + 62_000)", "235.0", "6", "1", "80.0"],
                ["\(hour0)", "1", "WSO2", "2", "\(hour0 + 61_000)", "60.0", "2", "2", "40.0"],
                ["\(hour0 + 3_540_000)", "-1", "null", "0", "null", "null", "null", "null", "null"],
            ])
        // The seconds before 3481 s were purged (rolled up, older than 120 s); the clock row says
        // where the newest bucket is and when the next purge is due.
        #expect(try SQLiteStoreTests.fileRows(file, "SELECT AGG_TIMESTAMP, AGG_GROUP, AGG_COUNT, AGG_EVENT_TIMESTAMP FROM TradeAgg_SECONDS "
                                              + "ORDER BY AGG_TIMESTAMP, AGG_GROUP") == [
            ["\(hour0 + 62_000)", "0", "1", "\(hour0 + 62_000)"],
            ["\(hour0 + 3_601_000)", "-1", "0", "\(hour0 + 3_601_000 + 900_000)"],
            ["\(hour0 + 3_601_000)", "1", "1", "\(hour0 + 3_601_000)"],
        ])
    }

    @Test func aSnapshotRestoredRewritesTheTables() throws {
        let directory = temporaryDirectory()
        let stores = RDBMSStores(dataDirectory: directory)
        let app = StoredAggregation.app("@store(type='rdbms')")
        let runtime = try AppRuntime(source: app, stores: stores.provider)
        try StoredAggregation.send(runtime, StoredAggregation.trades.prefix(3))
        let state = runtime.snapshot()
        let expected = try StoredAggregation.results(runtime, per: "minutes")
        try StoredAggregation.send(runtime, StoredAggregation.trades.dropFirst(3))
        try runtime.restore(state)
        #expect(try StoredAggregation.results(runtime, per: "minutes") == expected)
        let restarted = try AppRuntime(source: app, stores: stores.provider)
        #expect(try StoredAggregation.results(restarted, per: "minutes") == expected)
        // And it goes on from there as a run that never saw the rest.
        try StoredAggregation.send(restarted, StoredAggregation.trades.dropFirst(3))
        #expect(try StoredAggregation.results(restarted, per: "minutes") == StoredAggregation.perMinutes)
    }

    @Test func aLockedFileGoesToTheFaultStreamAndTheBucketsFollowTheFile() throws {
        let directory = temporaryDirectory()
        let stores = RDBMSStores(dataDirectory: directory, retry: RecordedWaits().retry(attempts: 2))
        var lock: StoreDownTests.WriteLock?
        let failure = try StoredAggregation.checkOutage(
            store: "@store(type='rdbms', jdbc.url='jdbc:sqlite:trades.db')", name: "TradeAgg", stores: stores,
            down: { lock = try StoreDownTests.WriteLock(path: directory + "/trades.db") }, up: { lock?.release() })
        // Coarsest first: the minutes' frontier row moved with the trade's second.
        #expect(failure.table == "TradeAgg_MINUTES")
        #expect(failure.reason.contains("database is locked"))
    }

    @Test func withoutAProviderAStoredAggregationIsRefused() {
        let app = StoredAggregation.app("@store(type='rdbms')")
        do {
            _ = try AppRuntime(source: app)
            Issue.record("deployed without a store provider")
        } catch {
            #expect(error.description.hasSuffix("@store aggregations need a database, which this embedding does not provide: 'TradeAgg' "
                                                + "would be kept in memory only (run it on a node, or pass a store provider)"))
        }
    }
}

/// The same in PostgreSQL (`make test` starts a server; skipped without SLUICE_TEST_POSTGRES_URL).
@Suite(.serialized, .enabled(if: TestPostgres.url != nil, TestPostgres.skipReason))
struct PostgresAggregationStoreTests {
    /// An aggregation (and so tables) of its own per test run.
    let name = "TradeAgg_" + UUID().uuidString.prefix(8).lowercased()

    @Test func aRestartOnTheSameDatabaseContinuesAsIfUninterrupted() throws {
        let url = TestPostgres.url ?? ""
        try StoredAggregation.checkRestart(store: "@store(type='rdbms', jdbc.url='\(url)')",
                                           uninterruptedStore: "@store(type='rdbms', jdbc.url='jdbc:sqlite:other.db')",
                                           name: name, stores: RDBMSStores(dataDirectory: temporaryDirectory()))
        // The tables, as PostgreSQL spells the names, and the hour's buckets.
        let restarted = try AppRuntime(source: """
            @store(type='rdbms', jdbc.url='\(url)', table.name='\(name.lowercased())_hours')
            @PrimaryKey('AGG_TIMESTAMP', 'AGG_GROUP')
            define table Hours (AGG_TIMESTAMP long, AGG_GROUP long, symbol string, AGG_COUNT long);
            """, stores: RDBMSStores(dataDirectory: temporaryDirectory()).provider)
        // Then the frontier row: the hours have absorbed the minutes before 59:00.
        #expect(try restarted.rows("from Hours select AGG_TIMESTAMP, AGG_GROUP, symbol, AGG_COUNT") == [
            [.long(StoredAggregation.hour0), .long(0), .string("IBM"), .long(6)],
            [.long(StoredAggregation.hour0), .long(1), .string("WSO2"), .long(2)],
            [.long(StoredAggregation.hour0 + 3_540_000), .long(-1), .null, .long(0)],
        ])
    }

    @Test(.enabled(if: TestPostgres.control != nil, "SLUICE_TEST_POSTGRES_CTL is unset: nothing can stop the server"))
    func aStoppedServerGoesToTheFaultStreamAndTheBucketsFollowTheDatabase() throws {
        let stores = RDBMSStores(dataDirectory: temporaryDirectory(), retry: RecordedWaits().retry(attempts: 2))
        defer { TestPostgres.server("resume") }
        let failure = try StoredAggregation.checkOutage(store: "@store(type='rdbms', jdbc.url='\(TestPostgres.url ?? "")')", name: name,
                                                        stores: stores, down: { TestPostgres.server("pause") },
                                                        up: { TestPostgres.server("resume") })
        #expect(failure.table == "\(name)_MINUTES")
    }

    @Test func aServerThatIsNotThereFailsTheDeployAfterItsRetries() throws {
        let waits = RecordedWaits()
        let stores = RDBMSStores(dataDirectory: temporaryDirectory(), retry: waits.retry(attempts: 2))
        let error = deployError(StoredAggregation.app("@store(type='rdbms', jdbc.url='jdbc:postgresql://127.0.0.1:1/none', username='u')"),
                                stores: stores)
        #expect(error?.hasPrefix("4:1: cannot load aggregation 'TradeAgg' from its store: loading table 'TradeAgg_SECONDS' at "
                                 + "127.0.0.1:1/none failed after 2 attempts") == true)
    }
}
