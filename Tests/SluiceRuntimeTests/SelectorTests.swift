import Testing
@testable import SluiceRuntime

@Suite struct SelectorTests {
    let stream = "define stream S (symbol string, price double, volume long);\n"

    func e(_ ts: Int64, _ symbol: String, _ price: Double, _ volume: Int) -> String {
        event("S", ts, "\"\(symbol)\", \(price), \(volume)")
    }

    @Test func aggregatesOverSlidingWindowSubtractExpired() throws {
        let app = stream + """
        from S#window.length(2)
        select sum(volume) as s, avg(price) as a, min(price) as mn, max(price) as mx, count() as n,
               distinctCount(symbol) as d, stdDev(price) as sd, minForever(price) as mf, maxForever(price) as xf
        insert into Out;
        """
        let out = try run(app, [e(1, "A", 4, 1), e(2, "B", 2, 2), e(3, "A", 6, 4)])
        #expect(out == [
            "Out [1,4.0,4.0,4.0,1,1,0.0,4.0,4.0]",
            "Out [3,3.0,2.0,4.0,2,2,1.0,2.0,4.0]",
            "Out [6,4.0,2.0,6.0,2,2,2.0,2.0,6.0]",
        ])
    }

    @Test func emptyWindowAggregatesAreNullExceptCount() throws {
        let app = stream + "from S#window.time(1 sec) select sum(volume) as s, avg(price) as a, count() as n insert expired events into Out;"
        let out = try run(app, [e(1000, "A", 4, 1), tick(2000)])
        #expect(out == ["Out [null,null,0] expired"])
    }

    @Test func logicalAggregates() throws {
        let app = "define stream S (ok bool);\nfrom S#window.length(2) select and(ok) as all, or(ok) as any insert into Out;"
        let out = try run(app, [event("S", 1, "true"), event("S", 2, "false"), event("S", 3, "false")])
        #expect(out == ["Out [true,true]", "Out [false,true]", "Out [false,false]"])
    }

    @Test func groupByWithHavingOnAggregate() throws {
        let app = stream + "from S select symbol, sum(volume) as total group by symbol having total > 2 insert into Out;"
        let out = try run(app, [e(1, "A", 1, 1), e(2, "B", 1, 5), e(3, "A", 1, 2)])
        #expect(out == ["Out [\"B\",5]", "Out [\"A\",3]"])
    }

    @Test func groupByOverBatchEmitsLastPerGroupInFirstSeenOrder() throws {
        let app = stream + "from S#window.lengthBatch(4) select symbol, sum(volume) as total group by symbol insert into Out;"
        let out = try run(app, [e(1, "B", 1, 1), e(2, "A", 1, 2), e(3, "B", 1, 4), e(4, "C", 1, 8)])
        #expect(out == ["Out [\"B\",5]", "Out [\"A\",2]", "Out [\"C\",8]"])
    }

    @Test func orderByDescendingWithOffsetAndLimit() throws {
        let app = stream + "from S#window.lengthBatch(4) select symbol, price order by price desc limit 2 offset 1 insert into Out;"
        let out = try run(app, [e(1, "A", 1, 1), e(2, "B", 4, 1), e(3, "C", 3, 1), e(4, "D", 2, 1)])
        #expect(out == ["Out [\"C\",3.0]", "Out [\"D\",2.0]"])
    }

    @Test func insertExpiredEventsOnly() throws {
        let app = stream + "from S#window.length(1) select symbol insert expired events into Out;\nfrom Out select symbol insert into Again;"
        let out = try run(app, [e(1, "A", 1, 1), e(2, "B", 1, 1)])
        // Downstream, the expired events are ordinary arrivals.
        #expect(out == ["Out [\"A\"] expired", "Again [\"A\"]"])
    }

    @Test func aggregateWithoutGroupByEmitsLastOfChunk() throws {
        let app = stream + "from S#window.length(2) select sum(volume) as total insert all events into Out;"
        let out = try run(app, [e(1, "A", 1, 1), e(2, "B", 1, 2), e(3, "C", 1, 4)])
        // The third arrival's chunk is [A expired, C current]: only its last event is emitted.
        #expect(out == ["Out [1]", "Out [3]", "Out [6]"])
    }

    @Test func projectionMustMatchDefinedOutputStream() {
        let app = stream + "define stream Out (symbol string, total long);\nfrom S select symbol, price insert into Out;"
        #expect(deployError(app)?.hasPrefix("3:41: the query's output (symbol string, price double) does not match stream 'Out'") == true)
    }
}

@Suite struct RateLimitTests {
    let stream = "define stream S (ip string, n int);\n"

    func lines(_ count: Int) -> [String] {
        (1...count).map { event("S", Int64($0 * 100), "\"ip\($0 % 2)\", \($0)") }
    }

    @Test func allEveryNEvents() throws {
        let app = stream + "from S select n output all every 2 events insert into Out;"
        #expect(try run(app, lines(5)) == ["Out [1]", "Out [2]", "Out [3]", "Out [4]"])
    }

    @Test func firstEveryNEvents() throws {
        let app = stream + "from S select n output first every 2 events insert into Out;"
        #expect(try run(app, lines(5)) == ["Out [1]", "Out [3]", "Out [5]"])
    }

    @Test func lastEveryNEventsPerGroup() throws {
        let app = stream + "from S select ip, count() as c group by ip output last every 3 events insert into Out;"
        #expect(try run(app, lines(6)) == ["Out [\"ip1\",2]", "Out [\"ip0\",1]", "Out [\"ip0\",3]", "Out [\"ip1\",3]"])
    }

    @Test func lastEveryPeriodOnTheEngineClock() throws {
        let app = stream + "from S select n output last every 250 milliseconds insert into Out;"
        // The period starts with the first event (100): ticks at 350, 600.
        #expect(try run(app, lines(5) + [tick(1000)]) == ["Out [3]", "Out [5]"])
    }

    @Test func allEveryPeriod() throws {
        let app = stream + "from S select n output every 250 milliseconds insert into Out;"
        // The period starts with the first event (100): flushes at 350 (1..3) and 600 (4, 5).
        #expect(try run(app, lines(5) + [tick(1000)]) == ["Out [1]", "Out [2]", "Out [3]", "Out [4]", "Out [5]"])
    }

    @Test func firstEveryPeriodNeedsNoTimer() throws {
        let app = stream + "from S select n output first every 250 milliseconds insert into Out;"
        // 1 passes at 100; the next may pass at 350 or later: 4 (at 400).
        #expect(try run(app, lines(5)) == ["Out [1]", "Out [4]"])
    }

    @Test func snapshotOfAggregatePerGroup() throws {
        let app = stream + "from S#window.length(10) select ip, count() as c group by ip output snapshot every 250 milliseconds insert into Out;"
        #expect(try run(app, lines(3) + [tick(360)]) == ["Out [\"ip1\",2]", "Out [\"ip0\",1]"])
    }
}
