import Foundation
import GRDB
import SluiceCore
import SluiceRuntime
import Testing
@testable import SluiceStores

/// `@store(type='rdbms')` tables in SQLite files: what queries change lands in the file, one
/// transaction per chunk, and a new runtime on the same file starts from it.
@Suite struct SQLiteStoreTests {
    static let app = """
    @app:name('Stocks')
    define stream Stock (symbol string, price double, volume long);
    define stream Sell (symbol string);
    define stream Reprice (symbol string, price double);
    define stream Quote (symbol string, price double, volume long);
    define stream Rekey (symbol string, to string);
    @store(type='rdbms', jdbc.url='jdbc:sqlite:stocks.db', table.name='stock_table', field.length='symbol:10')
    @PrimaryKey('symbol')
    @Index('volume')
    define table StockTable (symbol string, price double, volume long);
    from Stock insert into StockTable;
    from Sell delete StockTable on StockTable.symbol == symbol;
    from Reprice update StockTable set StockTable.price = price on StockTable.symbol == symbol;
    from Quote update or insert into StockTable set StockTable.price = price, StockTable.volume = StockTable.volume + volume
        on StockTable.symbol == symbol;
    from Rekey update StockTable set StockTable.symbol = to on StockTable.symbol == symbol;
    """

    /// The rows of `table` in the file, read with SQLite itself.
    static func fileRows(_ path: String, _ sql: String) throws -> [[String]] {
        let queue = try DatabaseQueue(path: path)
        return try queue.read { db in
            try Row.fetchAll(db, sql: sql).map { row in row.databaseValues.map { $0.isNull ? "null" : "\($0.storage.value ?? "")" } }
        }
    }

    @Test func queriesWriteThroughAndANewRuntimeLoadsTheRows() throws {
        let directory = temporaryDirectory()
        let stores = RDBMSStores(dataDirectory: directory)
        let runtime = try AppRuntime(source: Self.app, stores: stores.provider)
        try runtime.send("Stock", at: 1, [.string("A"), .double(10), .long(100)])
        try runtime.send("Stock", at: 2, [.string("B"), .double(20), .long(200)])
        try runtime.send("Stock", at: 3, [.string("C"), .double(30), .long(300)])
        try runtime.send("Stock", at: 4, [.string("A"), .double(99), .long(999)])   // key A is taken: dropped
        try runtime.send("Sell", at: 5, [.string("B")])
        try runtime.send("Reprice", at: 6, [.string("A"), .double(11)])
        try runtime.send("Quote", at: 7, [.string("C"), .double(31), .long(5)])
        try runtime.send("Quote", at: 8, [.string("D"), .double(40), .long(1)])
        let expected: [[Value]] = [
            [.string("A"), .double(11), .long(100)], [.string("C"), .double(31), .long(305)], [.string("D"), .double(40), .long(1)],
        ]
        #expect(try runtime.rows("from StockTable select symbol, price, volume") == expected)
        let file = directory + "/stocks.db"
        #expect(try Self.fileRows(file, "SELECT symbol, price, volume FROM stock_table ORDER BY rowid")
            == [["A", "11.0", "100"], ["C", "31.0", "305"], ["D", "40.0", "1"]])
        #expect(try Self.fileRows(file, "SELECT sql FROM sqlite_master WHERE name = 'stock_table'")
            == [["CREATE TABLE \"stock_table\" (\"symbol\" VARCHAR(10), \"price\" DOUBLE, \"volume\" BIGINT, PRIMARY KEY (\"symbol\"))"]])
        #expect(try Self.fileRows(file, "SELECT name FROM sqlite_master WHERE type = 'index' AND tbl_name = 'stock_table' AND sql IS NOT NULL")
            == [["stock_table_volume_index"]])

        let restarted = try AppRuntime(source: Self.app, stores: stores.provider)
        #expect(try restarted.rows("from StockTable select symbol, price, volume") == expected)
        #expect(try restarted.rows("from StockTable on volume > 50L select symbol") == [[.string("A")], [.string("C")]])
        // The loaded rows keep their keys: a taken key is still refused, a free one still lands.
        try restarted.send("Stock", at: 9, [.string("D"), .double(1), .long(1)])
        _ = try restarted.query("select 'E' as symbol, 50.0 as price, 5L as volume insert into StockTable")
        _ = try restarted.query("delete StockTable on StockTable.symbol == 'A'")
        #expect(try Self.fileRows(file, "SELECT symbol, price, volume FROM stock_table ORDER BY rowid")
            == [["C", "31.0", "305"], ["D", "40.0", "1"], ["E", "50.0", "5"]])
    }

    @Test func anUpdateOntoATakenKeyIsSkippedInTheFileToo() throws {
        let directory = temporaryDirectory()
        let runtime = try AppRuntime(source: Self.app, stores: RDBMSStores(dataDirectory: directory).provider)
        try runtime.send("Stock", at: 1, [.string("A"), .double(10), .long(100)])
        try runtime.send("Stock", at: 2, [.string("B"), .double(20), .long(200)])
        try runtime.send("Rekey", at: 3, [.string("A"), .string("B")])   // B is taken: skipped
        try runtime.send("Rekey", at: 4, [.string("A"), .string("Z")])
        #expect(try runtime.rows("from StockTable select symbol") == [[.string("Z")], [.string("B")]])
        #expect(try Self.fileRows(directory + "/stocks.db", "SELECT symbol, volume FROM stock_table ORDER BY rowid")
            == [["Z", "100"], ["B", "200"]])
    }

    static let typesApp = """
    @app:name('Types')
    define stream S (s string, i int, l long, f float, d double, b bool);
    define stream Drop (i int);
    @store(type='rdbms')
    define table T (s string, i int, l long, f float, d double, b bool);
    from S insert into T;
    from Drop delete T on T.i == i;
    """

    @Test func everyTypeAndNullRoundTripsThroughTheDefaultFile() throws {
        let directory = temporaryDirectory()
        let stores = RDBMSStores(dataDirectory: directory)
        let runtime = try AppRuntime(source: Self.typesApp, stores: stores.provider)
        let rows: [[Value]] = [
            [.string("x"), .int(1), .long(2), .float(1.5), .double(2.25), .bool(true)],
            [.null, .null, .null, .null, .null, .null],
            [.string("y"), .int(-7), .long(9_000_000_000), .float(0.1), .double(1e-300), .bool(false)],
            [.string("x"), .int(1), .long(2), .float(1.5), .double(2.25), .bool(true)],
            [.string(""), .int(Int32.max), .long(Int64.min), .float(-0.0), .double(.greatestFiniteMagnitude), .bool(true)],
        ]
        for (t, row) in rows.enumerated() { try runtime.send("S", at: Int64(t + 1), row) }
        try runtime.send("Drop", at: 10, [.int(1)])   // both equal rows go: the table has no key
        let kept = [rows[1], rows[2], rows[4]]
        #expect(try runtime.rows("from T select s, i, l, f, d, b") == kept)
        // Without jdbc.url the app's tables share one file in the data directory.
        #expect(FileManager.default.fileExists(atPath: directory + "/tables/Types.sqlite"))
        let restarted = try AppRuntime(source: Self.typesApp, stores: stores.provider)
        #expect(try restarted.rows("from T select s, i, l, f, d, b") == kept)
        // A row with nulls is found by its values (IS NULL) and deleted alone.
        _ = try restarted.query("delete T on T.s is null")
        #expect(try AppRuntime(source: Self.typesApp, stores: stores.provider).rows("from T select s") == [[.string("y")], [.string("")]])
    }

    @Test func aSnapshotRestoredRewritesTheFile() throws {
        let directory = temporaryDirectory()
        let stores = RDBMSStores(dataDirectory: directory)
        let runtime = try AppRuntime(source: Self.app, stores: stores.provider)
        try runtime.send("Stock", at: 1, [.string("A"), .double(10), .long(100)])
        let state = runtime.snapshot()
        try runtime.send("Stock", at: 2, [.string("B"), .double(20), .long(200)])
        try runtime.restore(state)
        #expect(try runtime.rows("from StockTable select symbol") == [[.string("A")]])
        #expect(try AppRuntime(source: Self.app, stores: stores.provider).rows("from StockTable select symbol") == [[.string("A")]])
    }
}
