import Foundation
import NIOConcurrencyHelpers
import SluiceCore
import SluiceRuntime
import Testing
@testable import SluiceStores

/// Stores that break one duration table's write on cue: it fails (given up on, to the fault
/// stream), or the process "crashes" there (that write and every later one never reach the database).
final class InterruptedStores: @unchecked Sendable {
    enum Mode { case fail, crash }
    private struct State {
        var armed: (table: String, mode: Mode)?
        var crashed = false
        var interrupted: [String] = []
    }
    private let state = NIOLockedValueBox(State())
    let base: RDBMSStores

    init(directory: String) { base = RDBMSStores(dataDirectory: directory) }

    /// The next write of `table` is interrupted as `mode` says.
    func arm(_ table: String, _ mode: Mode) { state.withLockedValue { $0.armed = (table, mode) } }
    var interrupted: [String] { state.withLockedValue { $0.interrupted } }

    var provider: TableStoreProvider {
        { request throws(Diagnostic) in
            Interrupted(inner: try self.base.provider(request), name: request.schema.name, owner: self)
        }
    }

    /// What the write of `table` does: go through (`nil`), or be interrupted.
    fileprivate func interruption(of table: String) -> Mode? {
        state.withLockedValue { s in
            if s.crashed { return .crash }
            guard let armed = s.armed, armed.table == table else { return nil }
            s.armed = nil
            s.interrupted.append(table)
            if armed.mode == .crash { s.crashed = true }
            return armed.mode
        }
    }

    private final class Interrupted: TableStore {
        let inner: any TableStore
        let name: String
        let owner: InterruptedStores
        init(inner: any TableStore, name: String, owner: InterruptedStores) {
            self.inner = inner
            self.name = name
            self.owner = owner
        }
        func loadRows() throws(TableStoreError) -> [[Value]] { try inner.loadRows() }
        func apply(_ changes: [TableChange]) throws(TableStoreError) {
            switch owner.interruption(of: name) {
            case nil: try inner.apply(changes)
            case .fail: throw TableStoreError("injected failure of \(name)", isTransient: false)
            case .crash: return   // the process is gone: nothing reaches the database any more
            }
        }
        func replaceAll(with rows: [[Value]]) throws(TableStoreError) {
            if owner.interruption(of: name) == nil { try inner.replaceAll(with: rows) }
        }
    }
}

@Suite struct AggregationAtomicityTests {
    static func app(_ file: String) -> String {
        """
        @app:name('Totals')
        @OnError(action='STREAM')
        define stream Ticks (v long, ts long);
        @store(type='rdbms', jdbc.url='jdbc:sqlite:\(file)')
        define aggregation Agg from Ticks
        select sum(v) as total, count() as n
        aggregate by ts every sec ... hour;
        from !Ticks select v, ts insert into Failed;
        """
    }

    /// (v, ts): second 0 rolls up into minute 0 at 1 s; at 60 s second 59 rolls into minute 0
    /// and minute 0 into hour 0 in the same chunk; then a new hour.
    static let events: [(Int64, Int64)] = [(1, 0), (2, 1_000), (4, 59_000), (8, 60_000), (16, 61_000), (32, 3_601_000)]

    static func send(_ runtime: AppRuntime, _ events: ArraySlice<(Int64, Int64)>) throws {
        for (v, ts) in events { try runtime.send("Ticks", at: ts, [.long(v), .long(ts)]) }
    }

    static func totals(_ runtime: AppRuntime) throws -> [String: [[Value]]] {
        var all: [String: [[Value]]] = [:]
        for duration in ["seconds", "minutes", "hours"] {
            all[duration] = try runtime.rows("from Agg within 0L, 7200000L per '\(duration)' select AGG_TIMESTAMP, total, n")
        }
        return all
    }

    /// Interrupts `table`'s write of the chunk of event `at`, after the coarser tables committed
    /// theirs; the event is sent again (as the fault stream, or an unacknowledged source, hands it
    /// back), and every duration counts each event exactly once, after a restart too.
    func check(_ table: String, _ mode: InterruptedStores.Mode, at index: Int) throws {
        let directory = temporaryDirectory()
        let stores = InterruptedStores(directory: directory)
        let uninterrupted = try AppRuntime(source: Self.app("other.db"), stores: stores.provider)
        try Self.send(uninterrupted, Self.events[...])
        let expected = try Self.totals(uninterrupted)
        #expect(expected["minutes"] == [[.long(0), .long(7), .long(3)], [.long(60_000), .long(24), .long(2)],
                                        [.long(3_600_000), .long(32), .long(1)]])

        // What the database kept, read before anything is sent again, is the events before the
        // interrupted one, each once: a half-done roll-up is redone at the load, not at the next event.
        let before = try AppRuntime(source: Self.app("before.db"), stores: stores.provider)
        try Self.send(before, Self.events.prefix(index))
        let expectedBefore = try Self.totals(before)

        var runtime: AppRuntime? = try AppRuntime(source: Self.app("t.db"), stores: stores.provider)
        let failed = try runtime!.collect("Failed")
        try Self.send(runtime!, Self.events.prefix(index))
        stores.arm("Agg_\(table)", mode)
        try Self.send(runtime!, Self.events[index...index])
        #expect(stores.interrupted == ["Agg_\(table)"])
        switch mode {
        case .fail:
            #expect(failed.withLockedValue { $0 } == [[.long(Self.events[index].0), .long(Self.events[index].1)]])
            // The aggregation went back to what the database holds, and goes on from it.
            #expect(try Self.totals(runtime!) == expectedBefore)
            try Self.send(runtime!, Self.events[index...])
            #expect(try Self.totals(runtime!) == expected)
        case .crash:
            runtime = nil
            runtime = try AppRuntime(source: Self.app("t.db"), stores: stores.base.provider)
            #expect(try Self.totals(runtime!) == expectedBefore)
            try Self.send(runtime!, Self.events[index...])
            #expect(try Self.totals(runtime!) == expected)
        }
        runtime = nil
        let restarted = try AppRuntime(source: Self.app("t.db"), stores: stores.base.provider)
        #expect(try Self.totals(restarted) == expected)
    }

    @Test func aFailedSecondsWriteAfterTheMinutesRollUpCommittedCountsEachEventOnce() throws {
        try check("SECONDS", .fail, at: 1)
    }

    @Test func aCrashBeforeTheSecondsWriteCountsEachEventOnce() throws {
        try check("SECONDS", .crash, at: 1)
    }

    @Test func aFailedMinutesWriteAfterTheHoursRollUpCommittedIsRedoneFromTheSeconds() throws {
        try check("MINUTES", .fail, at: 3)
    }

    @Test func aCrashBeforeTheMinutesWriteIsRedoneFromTheSecondsAtTheRestart() throws {
        try check("MINUTES", .crash, at: 3)
    }

    @Test func aCrashBeforeTheSecondsWriteOfACascadeCountsEachEventOnce() throws {
        try check("SECONDS", .crash, at: 3)
    }

    @Test func aFailedHoursWriteLeavesNothingWritten() throws {
        try check("HOURS", .fail, at: 3)
    }

    /// The coarser tables hold the frontier of what they absorbed, beside the buckets.
    @Test func eachCoarserTableHoldsItsFrontierRow() throws {
        let directory = temporaryDirectory()
        let runtime = try AppRuntime(source: Self.app("t.db"), stores: RDBMSStores(dataDirectory: directory).provider)
        try Self.send(runtime, Self.events.prefix(4))
        let file = directory + "/t.db"
        #expect(try SQLiteStoreTests.fileRows(file, "SELECT AGG_TIMESTAMP FROM Agg_MINUTES WHERE AGG_GROUP = -1") == [["60000"]])
        #expect(try SQLiteStoreTests.fileRows(file, "SELECT AGG_TIMESTAMP FROM Agg_HOURS WHERE AGG_GROUP = -1") == [["60000"]])
        #expect(try SQLiteStoreTests.fileRows(file, "SELECT AGG_TIMESTAMP, AGG_SUM_v FROM Agg_HOURS WHERE AGG_GROUP = 0") == [["0", "7"]])
    }
}
