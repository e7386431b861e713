import Foundation
import SluiceCore
import Testing
@testable import SluiceRuntime

/// Siddhi 5's incremental aggregations (`define aggregation … aggregate [by ts] every …`), read
/// with `within … per …` on demand and from joins. Times are UTC; 1496289950000 is
/// 2017-06-01 04:05:50.
@Suite struct IncrementalAggregationTests {
    static let t0: Int64 = 1_496_289_950_000
    static let minute0 = t0 - 50_000
    static let hour0 = t0 - 350_000

    static let trades = """
    define stream Trade (symbol string, price double, volume long, ts long);

    """
    static let app = trades + """
    define aggregation TradeAgg from Trade
    select symbol, sum(volume) as total, avg(price) as avgPrice, min(price) as minPrice, max(price) as maxPrice, count() as n
    group by symbol
    aggregate by ts every sec ... hour;
    """

    /// Rows of an on-demand query, one line each.
    func rows(_ runtime: AppRuntime, _ query: String) throws -> [String] {
        let result = try runtime.query(query)
        return (0..<result.rows.count).map { result.rows.values(at: $0).map(\.description).joined(separator: ", ") }
    }

    func send(_ runtime: AppRuntime, _ stream: String, _ arrival: Int64, _ values: [Value]) throws {
        try runtime.inputHandler(for: stream).send(timestamp: arrival, values: values)
    }

    func trade(_ runtime: AppRuntime, _ symbol: String, _ price: Double, _ volume: Int64, at ts: Int64, arrival: Int64 = 1) throws {
        try send(runtime, "Trade", arrival, [.string(symbol), .double(price), .long(volume), .long(ts)])
    }

    func tradedApp(_ source: String = app) throws -> AppRuntime {
        let runtime = try AppRuntime(source: source)
        try trade(runtime, "IBM", 100, 10, at: Self.t0)
        try trade(runtime, "IBM", 200, 20, at: Self.t0 + 500)
        try trade(runtime, "WSO2", 50, 5, at: Self.t0 + 1_000)
        try trade(runtime, "IBM", 300, 30, at: Self.t0 + 11_000)     // 04:06:01
        try trade(runtime, "WSO2", 70, 7, at: Self.t0 + 70_000)      // 04:07:00
        return runtime
    }

    @Test func perSecondMinuteAndHourRollUp() throws {
        let runtime = try tradedApp()
        let all = "within \(Self.hour0)L, \(Self.hour0 + 3_600_000)L"
        #expect(try rows(runtime, "from TradeAgg \(all) per 'seconds' select *") == [
            "\(Self.t0), IBM, 30, 150.0, 100.0, 200.0, 2",
            "\(Self.t0 + 1_000), WSO2, 5, 50.0, 50.0, 50.0, 1",
            "\(Self.t0 + 11_000), IBM, 30, 300.0, 300.0, 300.0, 1",
            "\(Self.t0 + 70_000), WSO2, 7, 70.0, 70.0, 70.0, 1",
        ])
        #expect(try rows(runtime, "from TradeAgg \(all) per 'minutes' select *") == [
            "\(Self.minute0), IBM, 30, 150.0, 100.0, 200.0, 2",
            "\(Self.minute0), WSO2, 5, 50.0, 50.0, 50.0, 1",
            "\(Self.minute0 + 60_000), IBM, 30, 300.0, 300.0, 300.0, 1",
            "\(Self.minute0 + 120_000), WSO2, 7, 70.0, 70.0, 70.0, 1",
        ])
        // avg rolls up as sum and count: (100 + 200 + 300) / 3, not the average of averages.
        #expect(try rows(runtime, "from TradeAgg \(all) per 'hours' select *") == [
            "\(Self.hour0), IBM, 60, 200.0, 100.0, 300.0, 3",
            "\(Self.hour0), WSO2, 12, 60.0, 50.0, 70.0, 2",
        ])
        let result = try runtime.query("from TradeAgg \(all) per 'hours'")
        #expect(result.attributes.map(\.name) == ["AGG_TIMESTAMP", "symbol", "total", "avgPrice", "minPrice", "maxPrice", "n"])
        #expect(result.attributes.map(\.type) == [.long, .string, .long, .double, .double, .double, .long])
    }

    /// `within` as a wildcard pattern, as strings with and without a zone, and as longs; the end is excluded.
    @Test func withinPatternsAndRanges() throws {
        let runtime = try tradedApp()
        #expect(try rows(runtime, "from TradeAgg within '2017-06-01 04:06:**' per 'seconds' select symbol, total") == ["IBM, 30"])
        #expect(try rows(runtime, "from TradeAgg within '2017-06-** **:**:**' per 'hours' select symbol, n") == ["IBM, 3", "WSO2, 2"])
        #expect(try rows(runtime, "from TradeAgg within '2017-05-** **:**:**' per 'hours' select symbol, n") == [])
        #expect(try rows(runtime, "from TradeAgg within '2017-**-** **:**:**' per 'minutes' select AGG_TIMESTAMP, n").count == 4)
        #expect(try rows(runtime, "from TradeAgg within '2017-06-01 04:05:51', '2017-06-01 04:07:00' per 'seconds' select symbol, total")
                == ["WSO2, 5", "IBM, 30"])
        // 09:35:51 at +05:30 is 04:05:51 UTC.
        #expect(try rows(runtime, "from TradeAgg within '2017-06-01 09:35:51 +05:30', '2017-06-01 09:37:01 +05:30' per 'seconds' select total")
                == ["5", "30", "7"])
        #expect(try rows(runtime, "from TradeAgg within \(Self.t0)L, \(Self.t0 + 1_000)L per 'seconds' select symbol, n") == ["IBM, 2"])
        // A day in another zone: 2017-06-01 at +05:30 ends at 18:30 UTC, and holds everything.
        #expect(try rows(runtime, "from TradeAgg within '2017-06-01 **:**:** +05:30' per 'minutes' select n") == ["2", "1", "1", "1"])
    }

    /// The query's own selection runs over the aggregation's rows: on, group by, having, order by, limit.
    @Test func onDemandSelectionOverTheRows() throws {
        let runtime = try tradedApp()
        let range = "within '2017-06-01 **:**:**' per 'minutes'"
        #expect(try rows(runtime, "from TradeAgg on symbol == 'IBM' \(range) select AGG_TIMESTAMP, total") == [
            "\(Self.minute0), 30", "\(Self.minute0 + 60_000), 30",
        ])
        #expect(try rows(runtime, "from TradeAgg \(range) select symbol, sum(total) as volume group by symbol having volume > 20 "
                         + "order by volume desc") == ["IBM, 60"])
        #expect(try rows(runtime, "from TradeAgg \(range) select AGG_TIMESTAMP as t, n order by t desc limit 2") == [
            "\(Self.minute0 + 120_000), 1", "\(Self.minute0 + 60_000), 1",
        ])
    }

    @Test func everyDurationFromSecondsToYears() throws {
        let app = Self.trades + """
        @purge(enable='false')
        define aggregation A from Trade select sum(volume) as total, distinctCount(symbol) as symbols, price as lastPrice
        aggregate by ts every sec ... year;
        """
        let runtime = try AppRuntime(source: app)
        try trade(runtime, "IBM", 1, 1, at: Self.t0)                      // 2017-06-01 04:05:50
        try trade(runtime, "WSO2", 2, 2, at: Self.t0 + 86_400_000)        // 2017-06-02
        try trade(runtime, "IBM", 3, 4, at: 1_498_867_200_000)            // 2017-07-01 00:00:00
        try trade(runtime, "ORCL", 4, 8, at: 1_514_764_800_000)           // 2018-01-01 00:00:00
        let all = "within 0L, 2000000000000L"
        #expect(try rows(runtime, "from A \(all) per 'seconds' select total").count == 4)
        #expect(try rows(runtime, "from A \(all) per 'days' select *") == [
            "1496275200000, 1, 1, 1.0", "1496361600000, 2, 1, 2.0", "1498867200000, 4, 1, 3.0", "1514764800000, 8, 1, 4.0",
        ])
        #expect(try rows(runtime, "from A \(all) per 'months' select *") == [
            "1496275200000, 3, 2, 2.0", "1498867200000, 4, 1, 3.0", "1514764800000, 8, 1, 4.0",
        ])
        // 2017: IBM, WSO2, IBM; the last price is the newest event's, by event time.
        #expect(try rows(runtime, "from A \(all) per 'years' select *") == ["1483228800000, 7, 2, 3.0", "1514764800000, 8, 1, 4.0"])
        // `per` is case-insensitive, as Siddhi's.
        #expect(try rows(runtime, "from A \(all) per 'YEARS' select total") == ["7", "8"])
    }

    /// Without `aggregate by`, the event timestamp buckets; a list of durations keeps only those.
    @Test func eventTimeAndDurationLists() throws {
        let app = """
        define stream S (k string, v int);
        @purge(enable='false')
        define aggregation A from S[v > 0] select k, sum(v) as total, max(v) as top group by k aggregate every sec, hour;
        """
        let runtime = try AppRuntime(source: app)
        for (ts, k, v) in [(1_000, "a", 1), (1_500, "b", 2), (2_000, "a", 3), (2_100, "a", -9), (3_600_500, "a", 4)] as [(Int64, String, Int32)] {
            try send(runtime, "S", ts, [.string(k), .int(v)])
        }
        #expect(try rows(runtime, "from A within 0L, 10000000L per 'seconds' select *") == [
            "1000, a, 1, 1", "1000, b, 2, 2", "2000, a, 3, 3", "3600000, a, 4, 4",
        ])
        // int max stays int; sum of ints is a long.
        #expect(try runtime.query("from A within 0L, 1L per 'hours'").attributes.map(\.type) == [.long, .string, .long, .int])
        #expect(try rows(runtime, "from A within 0L, 10000000L per 'hours' select *") == ["0, a, 4, 3", "0, b, 2, 2", "3600000, a, 4, 4"])
    }

    /// Without `aggregate by` the engine clock is the aggregation's clock: a tick makes later
    /// events with older timestamps late.
    @Test func theEngineClockIsEventTime() throws {
        for ignoring in [false, true] {
            let runtime = try AppRuntime(source: """
            define stream S (v long);
            @IgnoreEventsOlderThanBuffer('\(ignoring)')
            define aggregation A from S select sum(v) as total aggregate every sec ... min;
            """)
            try send(runtime, "S", 1_000, [.long(1)])
            runtime.advanceTime(to: 5_000)
            try send(runtime, "S", 2_000, [.long(2)])      // older than the clock's bucket: late
            try send(runtime, "S", 5_500, [.long(4)])
            #expect(try rows(runtime, "from A within 0L, 100000L per 'seconds' select *")
                    == (ignoring ? ["1000, 1", "5000, 4"] : ["1000, 1", "2000, 2", "5000, 4"]))
            #expect(try rows(runtime, "from A within 0L, 100000L per 'minutes' select *") == [ignoring ? "0, 5" : "0, 7"])
        }
    }

    /// `aggregate by` a string time, UTC unless it names a zone.
    @Test func aggregateByStringTimestamps() throws {
        let app = """
        define stream S (v long, at string);
        define aggregation A from S select sum(v) as total aggregate by at every sec ... min;
        """
        let runtime = try AppRuntime(source: app)
        try send(runtime, "S", 1, [.long(1), .string("2017-06-01 04:05:50")])
        try send(runtime, "S", 2, [.long(2), .string("2017-06-01 09:35:59 +05:30")])   // 04:05:59 UTC
        try send(runtime, "S", 3, [.long(4), .string("not a time")])                   // no bucket: not counted
        try send(runtime, "S", 3, [.long(16), .string("0000-01-01 00:00:00")])          // before year 1: not counted
        try send(runtime, "S", 4, [.long(8), .string("2017-06-01 04:06:00")])
        #expect(try rows(runtime, "from A within '2017-06-01 04:**:**' per 'seconds' select *") == [
            "\(Self.t0), 1", "\(Self.t0 + 9_000), 2", "\(Self.t0 + 10_000), 8",
        ])
        #expect(try rows(runtime, "from A within '2017-06-01 04:**:**' per 'minutes' select *") == [
            "\(Self.minute0), 3", "\(Self.minute0 + 60_000), 8",
        ])
    }

    // MARK: Out-of-order events

    static let counted = trades + """
    @purge(enable='false')
    define aggregation A from Trade select symbol, count() as n, sum(volume) as total group by symbol aggregate by ts every sec ... hour;
    """

    /// siddhi#859: an event older than the buffer (here 0 seconds) landed in a bucket at time 0.
    /// It belongs to its own bucket at every duration, even one already rolled up.
    @Test func eventsOlderThanTheBufferKeepTheirOwnBuckets() throws {
        let runtime = try AppRuntime(source: Self.counted)
        try trade(runtime, "IBM", 1, 1, at: Self.t0)             // 04:05:50
        try trade(runtime, "IBM", 1, 2, at: Self.t0 + 80_000)    // 04:07:10: seconds and the 04:05 minute roll up
        try trade(runtime, "IBM", 1, 4, at: Self.t0 + 5_000)     // 04:05:55, late
        try trade(runtime, "IBM", 1, 8, at: Self.t0 - 1_000)     // 04:05:49, late
        let range = "within '2017-06-01 **:**:**'"
        #expect(try rows(runtime, "from A \(range) per 'seconds' select AGG_TIMESTAMP, n, total") == [
            "\(Self.t0 - 1_000), 1, 8", "\(Self.t0), 1, 1", "\(Self.t0 + 5_000), 1, 4", "\(Self.t0 + 80_000), 1, 2",
        ])
        #expect(try rows(runtime, "from A \(range) per 'minutes' select AGG_TIMESTAMP, n, total") == [
            "\(Self.minute0), 3, 13", "\(Self.minute0 + 120_000), 1, 2",
        ])
        #expect(try rows(runtime, "from A \(range) per 'hours' select AGG_TIMESTAMP, n, total") == ["\(Self.hour0), 4, 15"])
        #expect(try rows(runtime, "from A within 0L, 1000000L per 'seconds' select n") == [])
        // Times no calendar bucket holds are not counted, and break nothing.
        try trade(runtime, "IBM", 1, 1, at: .min)
        try trade(runtime, "IBM", 1, 1, at: .max)
        #expect(try rows(runtime, "from A \(range) per 'hours' select n") == ["4"])
    }

    /// Within the buffer, late events join their own bucket; older ones are dropped when
    /// `@IgnoreEventsOlderThanBuffer('true')` says so, event by event, as the buffer stood.
    @Test func bufferAndIgnoringOlderEvents() throws {
        let app = Self.trades + """
        @BufferSize('2') @IgnoreEventsOlderThanBuffer('true')
        define aggregation A from Trade select count() as n, sum(volume) as total aggregate by ts every sec ... min;
        """
        let runtime = try AppRuntime(source: app)
        try trade(runtime, "IBM", 1, 1, at: Self.t0)              // 50
        try trade(runtime, "IBM", 1, 2, at: Self.t0 + 3_000)      // 53: open 51, 52, 53
        try trade(runtime, "IBM", 1, 4, at: Self.t0 + 2_000)      // 52: in the buffer
        try trade(runtime, "IBM", 1, 8, at: Self.t0 + 1_000)      // 51: in the buffer
        try trade(runtime, "IBM", 1, 16, at: Self.t0)             // 50: older than the buffer, dropped
        // One chunk: 49 arrives after 55 moved the buffer to 53…55, so it is dropped; 54 is kept.
        var batch = EventBatch(types: [.string, .double, .long, .long])
        for (volume, ts) in [(32, Self.t0 + 5_000), (64, Self.t0 - 1_000), (128, Self.t0 + 4_000)] as [(Int64, Int64)] {
            batch.append(timestamp: 1, values: [.string("IBM"), .double(1), .long(volume), .long(ts)])
        }
        try runtime.send(batch, to: "Trade")
        #expect(try rows(runtime, "from A within '2017-06-01 04:05:**' per 'seconds' select AGG_TIMESTAMP, total") == [
            "\(Self.t0), 1", "\(Self.t0 + 1_000), 8", "\(Self.t0 + 2_000), 4", "\(Self.t0 + 3_000), 2",
            "\(Self.t0 + 4_000), 128", "\(Self.t0 + 5_000), 32",
        ])
        #expect(try rows(runtime, "from A within '2017-06-01 04:05:**' per 'minutes' select n, total") == ["6, 175"])
    }

    /// siddhi#1680: at a minute's edge, events showed in the seconds' rows, the minutes' rows, or
    /// both. Whenever it is read, every duration counts every event exactly once.
    @Test func everyDurationCountsEachEventOnceAtBucketEdges() throws {
        let runtime = try AppRuntime(source: Self.counted)
        let times: [Int64] = [58_000, 59_000, 59_999, 60_000, 61_000, 119_999, 120_000, 3_599_999, 3_600_000, 59_500]
        for (i, offset) in times.enumerated() {
            try trade(runtime, "IBM", 1, 1, at: Self.hour0 + offset)
            for per in ["seconds", "minutes", "hours"] {
                let counts = try rows(runtime, "from A within 0L, 2000000000000L per '\(per)' select n")
                #expect(counts.compactMap { Int($0) }.reduce(0, +) == i + 1, "after \(i + 1) events, per \(per)")
            }
        }
        #expect(try rows(runtime, "from A within 0L, 2000000000000L per 'minutes' select AGG_TIMESTAMP, n") == [
            "\(Self.hour0), 4", "\(Self.hour0 + 60_000), 3", "\(Self.hour0 + 120_000), 1", "\(Self.hour0 + 3_540_000), 1",
            "\(Self.hour0 + 3_600_000), 1",
        ])
        #expect(try rows(runtime, "from A within 0L, 2000000000000L per 'hours' select AGG_TIMESTAMP, n") == [
            "\(Self.hour0), 9", "\(Self.hour0 + 3_600_000), 1",
        ])
    }

    /// `@purge` drops buckets older than their retention, on the events' clock, once they have
    /// rolled up: coarser durations still count every event.
    @Test func purgeKeepsCoarserDurationsWhole() throws {
        let app = Self.trades + """
        @purge(enable='true', interval='1 min', @retentionPeriod(sec='120 sec', min='120 min'))
        define aggregation A from Trade select count() as n aggregate by ts every sec ... hour;
        """
        let runtime = try AppRuntime(source: app)
        for offset in [0, 1_000, 61_000, 200_000, 400_000] as [Int64] { try trade(runtime, "IBM", 1, 1, at: Self.t0 + offset) }
        let all = "within 0L, 2000000000000L"
        // Purges ran at 04:06:51 (nothing old enough), 04:09:10 and 04:12:30.
        #expect(try rows(runtime, "from A \(all) per 'seconds' select *") == ["\(Self.t0 + 400_000), 1"])
        #expect(try rows(runtime, "from A \(all) per 'minutes' select *") == [
            "\(Self.minute0), 2", "\(Self.minute0 + 60_000), 1", "\(Self.minute0 + 240_000), 1", "\(Self.minute0 + 420_000), 1",
        ])
        #expect(try rows(runtime, "from A \(all) per 'hours' select *") == ["\(Self.hour0), 5"])
        // Siddhi's defaults apply without @purge: seconds live 120 sec, checked every 15 min.
        let byDefault = try AppRuntime(source: Self.app)
        for offset in [0, 1_000_000] as [Int64] { try trade(byDefault, "IBM", 1, 1, at: Self.t0 + offset) }
        #expect(try rows(byDefault, "from TradeAgg \(all) per 'seconds' select AGG_TIMESTAMP") == ["\(Self.t0 + 1_000_000)"])
        #expect(try rows(byDefault, "from TradeAgg \(all) per 'hours' select n") == ["2"])
    }

    // MARK: Joins

    /// A stream joins the aggregation; `per` (and `within`) may read the arriving event.
    @Test func joinFromAStream() throws {
        let app = Self.app + """

        define stream Ask (symbol string, unit string);
        from Ask as q join TradeAgg as a on a.symbol == q.symbol within '2017-06-01 **:**:**' per q.unit
        select q.unit as unit, a.AGG_TIMESTAMP as t, a.total as total, a.avgPrice as avgPrice insert into Answer;
        from Ask as q left outer join TradeAgg as a on a.symbol == q.symbol within \(Self.t0)L, \(Self.t0 + 1_000)L per 'seconds'
        select q.symbol as symbol, a.n as n insert into Either;
        """
        let trades = [
            event("Trade", 1, "\"IBM\", 100.0, 10, \(Self.t0)"), event("Trade", 2, "\"IBM\", 200.0, 20, \(Self.t0 + 500)"),
            event("Trade", 3, "\"WSO2\", 50.0, 5, \(Self.t0 + 1_000)"), event("Trade", 4, "\"IBM\", 300.0, 30, \(Self.t0 + 11_000)"),
        ]
        let out = try run(app, trades + [
            event("Ask", 5, "\"IBM\", \"minutes\""), event("Ask", 6, "\"IBM\", \"hours\""),
            event("Ask", 7, "\"WSO2\", \"weeks\""),     // no such duration: matches nothing
            event("Ask", 8, "\"WSO2\", \"seconds\""),
        ])
        #expect(out == [
            "Answer [\"minutes\",\(Self.minute0),30,150.0]", "Answer [\"minutes\",\(Self.minute0 + 60_000),30,300.0]",
            "Either [\"IBM\",2]",
            "Answer [\"hours\",\(Self.hour0),60,200.0]", "Either [\"IBM\",2]",
            "Either [\"WSO2\",null]",
            "Answer [\"seconds\",\(Self.t0 + 1_000),5,50.0]", "Either [\"WSO2\",null]",
        ])
    }

    /// One chunk whose events name different ranges reads the aggregation once per run of equal
    /// ranges, and keeps the events' order.
    @Test func aChunkOfAsksWithDifferentRanges() throws {
        let runtime = try tradedApp(Self.app + """

        define stream Ask (symbol string, unit string);
        from Ask as q join TradeAgg as a on a.symbol == q.symbol within '2017-06-01 **:**:**' per q.unit
        select q.unit as unit, a.AGG_TIMESTAMP as t, a.n as n insert into Answer;
        """)
        var out: [String] = []
        try runtime.addCallback(stream: "Answer") { batch in
            for i in 0..<batch.count { out.append(batch.values(at: i).map(\.description).joined(separator: ", ")) }
        }
        var asks = EventBatch(types: [.string, .string])
        for (symbol, unit) in [("WSO2", "hours"), ("WSO2", "minutes"), ("WSO2", "minutes"), ("IBM", "hours"), ("WSO2", "days")] {
            asks.append(timestamp: 10, values: [.string(symbol), .string(unit)])
        }
        try runtime.send(asks, to: "Ask")
        #expect(out == [
            "hours, \(Self.hour0), 2",
            "minutes, \(Self.minute0), 1", "minutes, \(Self.minute0 + 120_000), 1",
            "minutes, \(Self.minute0), 1", "minutes, \(Self.minute0 + 120_000), 1",
            "hours, \(Self.hour0), 3",
        ])
    }

    /// The aggregation may stand on the left; the stream's window emits first and its expired
    /// events join too; a `within` range may come from the event.
    @Test func aggregationOnTheLeftAndAWindowedStream() throws {
        let app = Self.app + """

        define stream Ask (symbol string, since long);
        from TradeAgg as a join Ask#window.length(1) as q on a.symbol == q.symbol within q.since, q.since + 60000L per 'seconds'
        select q.since as since, a.AGG_TIMESTAMP as t, a.n as n insert all events into Answer;
        """
        let out = try run(app, [
            event("Trade", 1, "\"IBM\", 100.0, 10, \(Self.t0)"), event("Trade", 2, "\"IBM\", 200.0, 20, \(Self.t0 + 500)"),
            event("Trade", 3, "\"IBM\", 300.0, 30, \(Self.t0 + 11_000)"),
            event("Ask", 4, "\"IBM\", \(Self.t0 + 1_000)"),
            event("Ask", 5, "\"IBM\", \(Self.t0)"),           // expires the first ask, which joins again
        ])
        #expect(out == [
            "Answer [\(Self.t0 + 1_000),\(Self.t0 + 11_000),1]",
            "Answer [\(Self.t0 + 1_000),\(Self.t0 + 11_000),1] expired",
            "Answer [\(Self.t0),\(Self.t0),2]", "Answer [\(Self.t0),\(Self.t0 + 11_000),1]",
        ])
    }

    /// Queries inside a partition join the app's aggregation, which sees every event.
    @Test func joinInsideAPartition() throws {
        let app = Self.app + """

        define stream Ask (symbol string);
        partition with (symbol of Ask)
        begin
            from Ask join TradeAgg as a on a.symbol == Ask.symbol within 0L, 2000000000000L per 'hours'
            select Ask.symbol as symbol, a.AGG_TIMESTAMP as t, a.n as n insert into Answer;
        end;
        """
        let out = try run(app, [
            event("Trade", 1, "\"IBM\", 100.0, 10, \(Self.t0)"), event("Ask", 2, "\"IBM\""),
            event("Trade", 3, "\"IBM\", 100.0, 10, \(Self.t0 + 7_200_000)"), event("Ask", 4, "\"IBM\""), event("Ask", 5, "\"ORCL\""),
        ])
        #expect(out == [
            "Answer [\"IBM\",\(Self.hour0),1]", "Answer [\"IBM\",\(Self.hour0),1]", "Answer [\"IBM\",\(Self.hour0 + 7_200_000),1]",
        ])
    }

    /// The aggregation's buckets and buffer survive a snapshot taken anywhere.
    @Test func restoreAnywhereMatches() throws {
        let app = Self.app.replacingOccurrences(of: "define aggregation", with: "@BufferSize('1')\ndefine aggregation") + """

        define stream Ask (symbol string);
        from Ask join TradeAgg as a on a.symbol == Ask.symbol within 0L, 2000000000000L per 'minutes'
        select a.AGG_TIMESTAMP as t, a.symbol as symbol, a.total as total, a.maxPrice as top, a.n as n insert into Answer;
        """
        var lines: [String] = []
        for (i, offset) in [0, 700, 1_500, 900, 61_000, 2_000, 125_000, 60_500, 3_700_000, 10].enumerated() {
            lines.append(event("Trade", Int64(i), "\"\(i % 3 == 0 ? "IBM" : "WSO2")\", \(Double(i) * 10), \(i + 1), \(Self.t0 + Int64(offset))"))
            lines.append(event("Ask", Int64(i), "\"\(i % 2 == 0 ? "IBM" : "WSO2")\""))
        }
        let out = try expectRestoreAnywhereMatches(app, lines)
        #expect(out.count == 16)
    }

    // MARK: Diagnostics

    @Test func diagnostics() throws {
        let stream = "define stream S (k string, v double, ts long);\n"
        #expect(deployError(stream + "@store(type='rdbms')\ndefine aggregation A from S select sum(v) as s aggregate every sec ... min;")
                == "2:1: @store aggregations need a database, which this embedding does not provide: 'A' would be kept in memory only "
                    + "(run it on a node, or pass a store provider)")
        #expect(deployError(stream + "define aggregation A from S select stdDev(v) as s aggregate every sec ... min;")
                == "2:36: 'stdDev' cannot be aggregated incrementally: use sum, count, avg, min, max or distinctCount")
        #expect(deployError(stream + "define aggregation A from S select sum(v) + 1 as s aggregate every sec ... min;")
                == "2:36: aggregate function 'sum' is not allowed in an expression around an aggregate: select the aggregate alone and compute on it when you query")
        #expect(deployError(stream + "define aggregation A from S select sum(v) as s aggregate by k every sec ... min;") == nil)
        #expect(deployError(stream + "define aggregation A from S select sum(v) as s aggregate by v every sec ... min;")
                == "2:61: 'aggregate by' needs a long of milliseconds or a string 'yyyy-MM-dd HH:mm:ss', found double")
        #expect(deployError(stream + "define aggregation A from S select sum(v) as s aggregate every sec, week;")?
                    .hasSuffix("incremental aggregations do not aggregate by weeks (Siddhi neither): use days or months") == true)
        #expect(deployError(stream + "define aggregation A from S select sum(v) as AGG_TIMESTAMP aggregate every sec;")
                == "2:46: 'AGG_TIMESTAMP' is the bucket start every aggregation adds")
        #expect(deployError(stream + "define aggregation A from S#window.length(2) select sum(v) as s aggregate every sec;")
                == "2:36: an aggregation takes no window: its durations are its windows")
        #expect(deployError(stream + "define aggregation A from Nope select sum(v) as s aggregate every sec;")
                == "2:27: stream 'Nope' is not defined")
        #expect(deployError(stream + "define aggregation A from S select sum(v) as s aggregate every sec;\nfrom A select s insert into O;")
                == "3:6: aggregation 'A' cannot be read as a stream: join it 'within … per …', or query it on demand")
        #expect(deployError(stream + "@purge(enable='true', @retentionPeriod(sec='1 min'))\ndefine aggregation A from S select sum(v) as s aggregate every sec ... min;")
                == "2:40: @retentionPeriod: seconds must be kept at least 2 minutes, as in Siddhi")
        #expect(deployError(stream + "@purge(enable='true', @retentionPeriod(days='all'))\ndefine aggregation A from S select sum(v) as s aggregate every sec ... min;")
                == "2:40: @retentionPeriod: aggregation 'A' does not keep days")
        let joined = stream + "define stream Q (k string);\ndefine aggregation A from S select k, sum(v) as s group by k aggregate every sec ... min;\n"
        #expect(deployError(joined + "from Q join A on A.k == Q.k within '2017-**-** **:**:**' per 'hours' select s insert into O;")
                == "4:62: aggregation 'A' does not keep hours: per one of seconds, minutes")
        #expect(deployError(joined + "from Q join A on A.k == Q.k select s insert into O;")?
                    .hasSuffix("a query of aggregation 'A' needs 'within … per …', as in within \"2017-06-** **:**:**\" per \"days\"") == true)
        #expect(deployError(joined + "from Q join A on A.k == Q.k within '2017-13-** **:**:**' per 'minutes' select s insert into O;")
                == "4:36: 'within' pattern \"2017-13-** **:**:**\" is not 'yyyy-MM-dd HH:mm:ss' with trailing fields as wildcards (**)")
        #expect(deployError(joined + "from Q#window.length(1) join S#window.length(1) on S.k == Q.k within 0L, 1L per 'minutes' select v insert into O;")?
                    .hasSuffix("'within … per …' belongs to a join with an aggregation, and neither side is one") == true)

        #expect(deployError(joined + "define table T (k string);\nfrom T join A on A.k == T.k within 0L, 1L per 'minutes' select s insert into O;")
                == "5:6: both sides of the join are a table and an aggregation: one must be a stream or a window")
        #expect(deployError(stream + "define window W (k string) length(2);\ndefine aggregation A from W select count() as n aggregate every sec;")
                == "3:27: an aggregation reads a stream, and 'W' is not one")
        #expect(deployError(joined + "from Q join A unidirectional on A.k == Q.k within 0L, 1L per 'minutes' select s insert into O;")
                == "4:13: aggregation 'A' cannot be 'unidirectional': a join with an aggregation is triggered by its stream side only")
        #expect(deployError(stream + "@BufferSize('-1')\ndefine aggregation A from S select sum(v) as s aggregate every sec;")
                == "2:1: @BufferSize needs a number of buckets from 0 to 1000000, as in @BufferSize('3')")
        #expect(deployError(stream + "@IgnoreEventsOlderThanBuffer('yes')\ndefine aggregation A from S select sum(v) as s aggregate every sec;")
                == "2:1: @IgnoreEventsOlderThanBuffer takes 'true' or 'false'")
        let runtime = try AppRuntime(source: joined)
        func queryError(_ q: String) -> String? {
            do { _ = try runtime.query(q); return nil } catch { return error.description }
        }
        #expect(queryError("from A within '2017-06-** **:**:**' per 'days' select *") == "1:41: aggregation 'A' does not keep days: per one of seconds, minutes")
        #expect(queryError("from A within '2017-06-** **:**:**' per 'fortnights' select *")
                == "1:41: 'per' takes seconds, minutes, hours, days, months or years, found \"fortnights\"")
        #expect(queryError("from A within '2017-06-01 25:00:00', 5L per 'minutes' select *")
                == "1:15: 'within' time \"2017-06-01 25:00:00\" is not 'yyyy-MM-dd HH:mm:ss[ ±HH:mm]' or a long of milliseconds")
        #expect(queryError("from A within 5L per 'minutes' select *")
                == "1:15: a single 'within' is a pattern such as \"2017-06-** **:**:**\"; give a range as 'within start, end'")
        #expect(queryError("from A within '2017-06-01 00:00:00', '2017-06-01 00:00:00' per 'minutes' select *")
                == "1:15: 'within' starts at 1496275200000 and ends at 1496275200000: the start must come before the end, which is excluded")
        #expect(queryError("from A select *")?.hasSuffix("needs 'within … per …', as in within \"2017-06-** **:**:**\" per \"days\"") == true)
    }
}

/// Bucket boundaries in UTC, and Siddhi's time strings and `within` patterns.
@Suite struct AggregationTimeTests {
    @Test func bucketStartsFollowTheUTCCalendar() {
        let leapDay: Int64 = 1_456_747_199_000   // 2016-02-29 11:59:59
        #expect(AggregationDuration.seconds.bucketStart(leapDay + 999) == leapDay)
        #expect(AggregationDuration.days.bucketStart(leapDay) == 1_456_704_000_000)
        #expect(AggregationDuration.months.bucketStart(leapDay) == 1_454_284_800_000)     // 2016-02-01
        #expect(AggregationDuration.years.bucketStart(leapDay) == 1_451_606_400_000)      // 2016-01-01
        // Before the epoch, buckets still start at or before the time.
        #expect(AggregationDuration.seconds.bucketStart(-1) == -1_000)
        #expect(AggregationDuration.months.bucketStart(-1) == -2_678_400_000)             // 1969-12-01
        // Stepping by months crosses years both ways.
        #expect(AggregationDuration.months.step(1_454_284_800_000, by: 11) == 1_483_228_800_000)   // 2017-01-01
        #expect(AggregationDuration.months.step(1_454_284_800_000, by: -2) == 1_448_928_000_000)   // 2015-12-01
        #expect(AggregationDuration.years.step(1_451_606_400_000, by: -1) == 1_420_070_400_000)    // 2015-01-01
    }

    @Test func timeStringsAndPatterns() {
        #expect(AggregationTimeText.parse("2017-06-01 04:05:50") == 1_496_289_950_000)
        #expect(AggregationTimeText.parse("2017-06-01 09:35:50 +05:30") == 1_496_289_950_000)
        #expect(AggregationTimeText.parse("2017-06-01 00:05:50 -0400") == 1_496_289_950_000)
        #expect(AggregationTimeText.parse("2017-06-01 04:05:50 Z") == 1_496_289_950_000)
        #expect(AggregationTimeText.parse("2017-02-29 00:00:00") == nil)
        #expect(AggregationTimeText.parse("2017-06-01") == nil)
        #expect(AggregationTimeText.parse("2017-06-01 04:**:**") == nil)
        let june = AggregationTimeText.range(pattern: "2017-06-** **:**:**")
        #expect(june?.start == 1_496_275_200_000 && june?.end == 1_498_867_200_000)
        let leapFebruary = AggregationTimeText.range(pattern: "2016-02-** **:**:**")
        #expect(leapFebruary?.end == 1_456_790_400_000 && leapFebruary?.start == 1_454_284_800_000)
        let year = AggregationTimeText.range(pattern: "2017-**-** **:**:**")
        #expect(year?.start == 1_483_228_800_000 && year?.end == 1_514_764_800_000)
        let second = AggregationTimeText.range(pattern: "2017-06-01 04:05:50")
        #expect(second.map { $0.end - $0.start } == 1_000)
        let localHour = AggregationTimeText.range(pattern: "2017-06-01 09:**:** +05:30")
        #expect(localHour?.start == 1_496_289_600_000 - 1_800_000 && localHour.map { $0.end - $0.start } == 3_600_000)
        // Wildcards only trail.
        #expect(AggregationTimeText.range(pattern: "2017-06-01 **:15:**") == nil)
        #expect(AggregationTimeText.range(pattern: "****-06-** **:**:**") == nil)
    }
}

/// Random out-of-order input, in random chunks, against a brute-force bucketing of every event:
/// each duration must hold exactly what its buckets should, whenever it is read.
@Suite struct AggregationDifferentialTests {
    @Test(arguments: [0, 1, 3] as [Int64], [false, true])
    func matchesBruteForce(bufferSize: Int64, ignoringOlder: Bool) throws {
        let runtime = try AppRuntime(source: """
        define stream S (k string, v long, ts long);
        @purge(enable='false') @BufferSize('\(bufferSize)') @IgnoreEventsOlderThanBuffer('\(ignoringOlder)')
        define aggregation A from S select k, count() as n, sum(v) as total, min(v) as low, max(v) as high
        group by k aggregate by ts every sec ... day;
        """)
        var state: UInt64 = 0x9E37_79B9 &+ UInt64(bufferSize)
        func next(_ n: UInt64) -> Int64 {
            state = state &* 6_364_136_223_846_793_005 &+ 1_442_695_040_888_963_407
            return Int64((state >> 33) % n)
        }
        var sent: [(k: String, v: Int64, ts: Int64)] = []
        /// What counts: with `ignoringOlder`, not what is older than the buffer when it arrives.
        var counted: [(k: String, v: Int64, ts: Int64)] = []
        var newestSecond = Int64.min
        var clock: Int64 = 1_496_289_950_000
        let durations: [AggregationDuration] = [.seconds, .minutes, .hours, .days]
        while sent.count < 600 {
            var batch = EventBatch(types: [.string, .long, .long])
            for _ in 0...next(5) {
                clock += next(40_000)
                // One in four arrives late: up to ten minutes.
                let ts = next(4) == 0 ? clock - next(600_000) : clock
                let event = (k: ["a", "b", "c"][Int(next(3))], v: next(100) - 20, ts: ts)
                sent.append(event)
                let second = AggregationDuration.seconds.bucketStart(ts)
                if !(ignoringOlder && newestSecond != .min && second < newestSecond - bufferSize * 1_000) { counted.append(event) }
                newestSecond = max(newestSecond, second)
                batch.append(timestamp: 1, values: [.string(event.k), .long(event.v), .long(event.ts)])
            }
            try runtime.send(batch, to: "S")
            guard next(8) == 0 || sent.count >= 600 else { continue }
            for duration in durations {
                var expected: [String: (n: Int64, total: Int64, low: Int64, high: Int64)] = [:]
                for e in counted {
                    let key = "\(duration.bucketStart(e.ts)), \(e.k)"
                    let old = expected[key] ?? (0, 0, .max, .min)
                    expected[key] = (old.n + 1, old.total + e.v, min(old.low, e.v), max(old.high, e.v))
                }
                let result = try runtime.query("from A within 0L, 2000000000000L per '\(duration.name)' select *")
                var actual: [String: (n: Int64, total: Int64, low: Int64, high: Int64)] = [:]
                for i in 0..<result.rows.count {
                    let row = result.rows.values(at: i)
                    actual["\(row[0]), \(row[1])"] = (row[2].asInt64!, row[3].asInt64!, row[4].asInt64!, row[5].asInt64!)
                }
                #expect(actual.count == expected.count, "per \(duration.name) after \(sent.count) events")
                for (key, want) in expected {
                    let got = actual[key]
                    #expect(got?.n == want.n && got?.total == want.total && got?.low == want.low && got?.high == want.high,
                            "per \(duration.name), bucket \(key), after \(sent.count) events")
                }
            }
        }
    }
}
