import Foundation
import GRDB
import NIOConcurrencyHelpers
import SluiceCore
import SluiceRuntime
import Testing
@testable import SluiceStores

/// A database that refuses writes: the store retries with backoff, then the engine surfaces the
/// failure as the input stream's `@OnError` says, rolls the table back to what the database
/// holds, and loses no event. Another process holding the SQLite file's write lock is the outage.
@Suite struct StoreDownTests {
    static func app(onError: String?) -> String {
        """
        @app:name('Orders')
        \(onError.map { "@OnError(action='\($0)')" } ?? "")
        define stream Order (id string, amount double);
        @store(type='rdbms', jdbc.url='jdbc:sqlite:orders.db')
        @PrimaryKey('id')
        define table Orders (id string, amount double);
        from Order insert into Orders;
        """ + (onError == "STREAM" ? "\nfrom !Order select id, _error insert into Failed;" : "")
    }

    /// Holds the file's write lock, as another writer would, until `release`.
    final class WriteLock: Sendable {
        let queue: DatabaseQueue
        init(path: String) throws {
            var configuration = Configuration()
            configuration.allowsUnsafeTransactions = true   // the lock outlives one access, by design
            queue = try DatabaseQueue(path: path, configuration: configuration)
            try queue.writeWithoutTransaction { db in try db.execute(sql: "BEGIN EXCLUSIVE") }
        }
        func release() { try? queue.writeWithoutTransaction { db in try db.execute(sql: "COMMIT") } }
    }

    @Test func aWriteThatKeepsFailingGoesToTheFaultStreamAndNothingIsLost() throws {
        let directory = temporaryDirectory()
        let waits = RecordedWaits()
        let stores = RDBMSStores(dataDirectory: directory, retry: waits.retry(attempts: 3))
        let runtime = try AppRuntime(source: Self.app(onError: "STREAM"), stores: stores.provider)
        let failed = try runtime.collect("Failed")
        let reported = NIOLockedValueBox<[StoreWriteFailure]>([])
        runtime.onStoreFailure { failure in reported.withLockedValue { $0.append(failure) } }
        try runtime.send("Order", at: 1, [.string("o1"), .double(5)])

        let lock = try WriteLock(path: directory + "/orders.db")
        try runtime.send("Order", at: 2, [.string("o2"), .double(7)])
        #expect(waits.recorded == [.milliseconds(100), .milliseconds(200)])
        let failure = try #require(reported.withLockedValue { $0 }.first)
        #expect(failure.table == "Orders" && failure.changes == 1 && !failure.willRetry)
        #expect(failure.reason.hasPrefix("writing 1 change(s) to table 'Orders' in \(directory)/orders.db failed after 3 attempts: "))
        #expect(failure.reason.contains("database is locked"))
        // The event is handed back on !Order; the table is what the file holds.
        #expect(failed.withLockedValue { $0 }.map { $0[0] } == [.string("o2")])
        #expect(failed.withLockedValue { $0 }.first?[1] == .string(failure.description))
        #expect(try runtime.rows("from Orders select id") == [[.string("o1")]])

        lock.release()
        try runtime.send("Order", at: 3, [.string("o3"), .double(9)])
        #expect(try AppRuntime(source: Self.app(onError: "STREAM"), stores: stores.provider).rows("from Orders select id, amount")
            == [[.string("o1"), .double(5)], [.string("o3"), .double(9)]])
    }

    @Test func withWaitThePendingWriteLandsWhenTheDatabaseComesBack() throws {
        let directory = temporaryDirectory()
        let lock = NIOLockedValueBox<WriteLock?>(nil)
        // Each apply tries twice; the lock goes away during the second apply's wait.
        let waits = RecordedWaits { count in if count == 2 { lock.withLockedValue { $0?.release() } } }
        let stores = RDBMSStores(dataDirectory: directory, retry: waits.retry(attempts: 2))
        let runtime = try AppRuntime(source: Self.app(onError: "WAIT"), stores: stores.provider)
        let reported = NIOLockedValueBox<[StoreWriteFailure]>([])
        runtime.onStoreFailure { failure in reported.withLockedValue { $0.append(failure) } }
        try runtime.send("Order", at: 1, [.string("o1"), .double(5)])
        lock.withLockedValue { $0 = try? WriteLock(path: directory + "/orders.db") }

        try runtime.send("Order", at: 2, [.string("o2"), .double(7)])
        #expect(waits.recorded == [.milliseconds(100), .milliseconds(100)])
        #expect(reported.withLockedValue { $0 }.map(\.willRetry) == [true])
        #expect(try runtime.rows("from Orders select id") == [[.string("o1")], [.string("o2")]])
        #expect(try AppRuntime(source: Self.app(onError: "WAIT"), stores: stores.provider).rows("from Orders select id")
            == [[.string("o1")], [.string("o2")]])
    }

    @Test func withLogTheFailureIsOnlyReported() throws {
        let directory = temporaryDirectory()
        let stores = RDBMSStores(dataDirectory: directory, retry: RecordedWaits().retry(attempts: 1))
        let runtime = try AppRuntime(source: Self.app(onError: "LOG"), stores: stores.provider)
        let reported = NIOLockedValueBox<[StoreWriteFailure]>([])
        runtime.onStoreFailure { failure in reported.withLockedValue { $0.append(failure) } }
        let lock = try WriteLock(path: directory + "/orders.db")
        defer { lock.release() }
        try runtime.send("Order", at: 1, [.string("o1"), .double(5)])
        #expect(reported.withLockedValue { $0 }.map(\.table) == ["Orders"])
        #expect(try runtime.rows("from Orders select id") == [])
    }

    /// Without `@OnError` the input waits for a database that may come back, as with WAIT;
    /// an on-demand write, which has no input to hold, throws.
    @Test func withoutOnErrorTheInputWaitsAndOnDemandWritesThrow() throws {
        let directory = temporaryDirectory()
        let lock = NIOLockedValueBox<WriteLock?>(nil)
        let waits = RecordedWaits { count in if count == 2 { lock.withLockedValue { $0?.release() } } }
        let stores = RDBMSStores(dataDirectory: directory, retry: waits.retry(attempts: 2))
        let runtime = try AppRuntime(source: Self.app(onError: nil), stores: stores.provider)
        try runtime.send("Order", at: 1, [.string("o1"), .double(5)])
        lock.withLockedValue { $0 = try? WriteLock(path: directory + "/orders.db") }
        try runtime.send("Order", at: 2, [.string("o2"), .double(7)])
        #expect(try runtime.rows("from Orders select id") == [[.string("o1")], [.string("o2")]])

        let held = try WriteLock(path: directory + "/orders.db")
        defer { held.release() }
        let written = #expect(throws: Diagnostic.self) { try runtime.query("select 'o9' as id, 1.0 as amount insert into Orders") }
        #expect(written?.description.hasPrefix("1:1: table 'Orders': writing 1 change(s) to table 'Orders'") == true)
        #expect(try runtime.rows("from Orders select id") == [[.string("o1")], [.string("o2")]])
    }
}
