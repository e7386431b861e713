import SluiceCore
import Testing
@testable import SluiceRuntime

/// Triggers run on the engine clock: they start at its first position and fire as events and
/// ticks move it, the same way in playback, live and on a replica.
@Suite struct TriggerTests {
    /// (timestamp, triggered_time) of everything published on `stream`.
    final class Recorder {
        var events: [(Int64, Int64)] = []
    }

    static func runtime(_ app: String, record stream: String = "T") throws -> (AppRuntime, Recorder) {
        let runtime = try AppRuntime(source: app)
        let recorder = Recorder()
        try runtime.addCallback(stream: stream) { batch in
            for r in 0..<batch.count { recorder.events.append((batch.timestamps[r], batch.columns[0].longs[r])) }
        }
        return (runtime, recorder)
    }

    @Test func periodicFiresOnePeriodAfterTheStartThenEveryPeriod() throws {
        let (runtime, out) = try Self.runtime("define trigger T at every 5 sec;")
        runtime.advanceTime(to: 1_000)
        #expect(out.events.isEmpty)
        runtime.advanceTime(to: 16_000)
        #expect(out.events.map(\.0) == [6_000, 11_000, 16_000])
        #expect(out.events.map(\.1) == [6_000, 11_000, 16_000])
    }

    @Test func startFiresOnceAtTheFirstEventBeforeIt() throws {
        let app = """
        define stream S (x int);
        define trigger T at 'start';
        from T select triggered_time as t insert into Out;
        from S select x insert into Out2;
        """
        let runtime = try AppRuntime(source: app)
        var order: [String] = []
        try runtime.addCallback(stream: "Out") { b in order.append("start \(b.columns[0].longs[0]) at \(b.timestamps[0])") }
        try runtime.addCallback(stream: "Out2") { b in order.append("x \(b.columns[0].longs[0])") }
        let s = try runtime.inputHandler(for: "S")
        try s.send(timestamp: 500, values: [.int(1)])
        try s.send(timestamp: 900, values: [.int(2)])
        runtime.advanceTime(to: 100_000)
        #expect(order == ["start 500 at 500", "x 1", "x 2"])
    }

    @Test func triggerEventsFeedQueries() throws {
        let app = """
        define trigger T at every 1 sec;
        from T[triggered_time % 2000 == 0] select triggered_time / 1000 as s insert into Out;
        """
        let (runtime, out) = try Self.runtime(app, record: "Out")
        runtime.advanceTime(to: 0)
        runtime.advanceTime(to: 6_500)
        #expect(out.events.map(\.1) == [2, 4, 6])
    }

    @Test func cronFiresAtMatchingSecondsAfterTheStart() throws {
        let (runtime, out) = try Self.runtime("define trigger T at '*/15 * * * * ?';")
        runtime.advanceTime(to: 1_000)
        runtime.advanceTime(to: 61_000)
        #expect(out.events.map(\.0) == [15_000, 30_000, 45_000, 60_000])
    }

    @Test func cronCalendarFields() throws {
        // 2026-11-26 09:50 UTC is a Thursday.
        let thursday: Int64 = 1_795_686_600_000
        #expect(Civil.days(year: 2026, month: 11, day: 26) == 20_783)
        #expect(Civil.date(ofDay: 20_783) == (2026, 11, 26, 5))
        #expect(try CronSchedule("0 0 12 ? * MON").next(after: thursday) == 1_796_040_000_000)
        #expect(try CronSchedule("0 0 0 1 * ?").next(after: thursday) == 1_796_083_200_000)
        #expect(try CronSchedule("0 0 0 1 JAN ? 2027").next(after: thursday) == 1_798_761_600_000)
        #expect(try CronSchedule("0 30 6 29 FEB ?").next(after: thursday) == 1_835_418_600_000)
        #expect(try CronSchedule("0 0 0 1 JAN ? 2025").next(after: thursday) == nil)
        // A list, a range with a step, and weekday names in a range.
        let cron = try CronSchedule("5,10 0-30/10 8 ? * MON-FRI")
        #expect(cron.seconds == [5, 10] && cron.minutes == [0, 10, 20, 30] && cron.daysOfWeek == [2, 3, 4, 5, 6])
        // Every day at 08:00:05 from a Thursday evening: the next is Friday morning.
        #expect(cron.next(after: thursday + 12 * 3_600_000) == Civil.days(year: 2026, month: 11, day: 27) * 86_400_000 + 8 * 3_600_000 + 5_000)
    }

    @Test func badCronExpressionsAreRefusedWithTheirPlace() {
        #expect(deployError("define trigger T at '* * *';")?.hasPrefix("1:1: trigger 'T': a cron expression has 6 or 7 fields") == true)
        #expect(deployError("define trigger T at '0 0 12 L * ?';")?.contains("L, W or #") == true)
        #expect(deployError("define trigger T at '0 0 12 * * MON';")?.contains("must be '?'") == true)
        #expect(deployError("define trigger T at '0 61 * * * ?';")?.contains("'61' is not a valid minutes") == true)
        #expect(deployError("define stream T (x int);\ndefine trigger T at 'start';") == "2:16: 'T' is already defined")
    }

    /// A runtime restored from a snapshot fires exactly what the uninterrupted one does.
    @Test func snapshotRestoreKeepsTheSchedule() throws {
        let app = "define trigger T at every 3 sec;\ndefine trigger C at '*/10 * * * * ?';\ndefine trigger S at 'start';"
        func fired(_ runtime: AppRuntime) throws -> () -> [String] {
            var seen: [String] = []
            for name in ["T", "C", "S"] {
                try runtime.addCallback(stream: name) { b in seen.append("\(name)@\(b.timestamps[0])") }
            }
            return { seen }
        }
        let whole = try AppRuntime(source: app)
        let wholeSeen = try fired(whole)
        for t: Int64 in [2_000, 7_000, 29_000, 45_000] { whole.advanceTime(to: t) }

        let first = try AppRuntime(source: app)
        let firstSeen = try fired(first)
        for t: Int64 in [2_000, 7_000] { first.advanceTime(to: t) }
        let second = try AppRuntime(source: app)
        let secondSeen = try fired(second)
        try second.restore(first.snapshot())
        for t: Int64 in [29_000, 45_000] { second.advanceTime(to: t) }
        #expect(firstSeen() + secondSeen() == wholeSeen())
        #expect(wholeSeen().first == "S@2000" && wholeSeen().contains("C@10000") && wholeSeen().contains("T@44000"))
    }
}
