import Testing
@testable import SluiceRuntime

@Suite struct WindowTests {
    let stream = "define stream S (symbol string, price double, volume int);\n"

    func e(_ ts: Int64, _ symbol: String, _ price: Double, _ volume: Int) -> String {
        event("S", ts, "\"\(symbol)\", \(price), \(volume)")
    }

    @Test func lengthSlidingWithAllEvents() throws {
        let app = stream + "from S#window.length(2) select symbol, volume insert all events into Out;"
        let out = try run(app, [e(1, "A", 1, 1), e(2, "B", 1, 2), e(3, "C", 1, 3)])
        #expect(out == ["Out [\"A\",1]", "Out [\"B\",2]", "Out [\"A\",1] expired", "Out [\"C\",3]"])
    }

    @Test func lengthBatchWithExpiredEvents() throws {
        let app = stream + "from S#window.lengthBatch(2) select symbol insert all events into Out;"
        let out = try run(app, [e(1, "A", 1, 1), e(2, "B", 1, 2), e(3, "C", 1, 3), e(4, "D", 1, 4), e(5, "E", 1, 5)])
        #expect(out == ["Out [\"A\"]", "Out [\"B\"]", "Out [\"A\"] expired", "Out [\"B\"] expired", "Out [\"C\"]", "Out [\"D\"]"])
    }

    @Test func lengthBatchSumEmitsOncePerBatch() throws {
        let app = stream + "from S#window.lengthBatch(3) select sum(volume) as total insert into Out;"
        let out = try run(app, (1...7).map { e(Int64($0), "A", 1, $0) })
        #expect(out == ["Out [6]", "Out [15]"])
    }

    @Test func timeWindowExpiresOnTimerAndArrival() throws {
        let app = stream + "from S#window.time(1 sec) select symbol, count() as n insert all events into Out;"
        let out = try run(app, [e(1000, "A", 1, 1), e(1500, "B", 1, 1), e(2000, "C", 1, 1), tick(2600)])
        // At 2000 A expires (1000 + 1000 <= 2000) before C; the timer at 2500 expires B.
        #expect(out == ["Out [\"A\",1]", "Out [\"B\",2]", "Out [\"A\",1] expired", "Out [\"C\",2]", "Out [\"B\",1] expired"])
    }

    @Test func timeBatchWithStartTime() throws {
        let app = stream + "from S#window.timeBatch(1 sec, 0) select symbol, sum(volume) as total insert into Out;"
        let out = try run(app, [e(1500, "A", 1, 1), e(1900, "B", 1, 2), e(2100, "C", 1, 4), tick(3000), tick(5000)])
        #expect(out == ["Out [\"B\",3]", "Out [\"C\",4]"])
    }

    @Test func timeLengthExpiresByBoth() throws {
        let app = stream + "from S#window.timeLength(1 sec, 2) select symbol insert expired events into Out;"
        let out = try run(app, [e(1000, "A", 1, 1), e(1100, "B", 1, 1), e(1200, "C", 1, 1), tick(2150)])
        #expect(out == ["Out [\"A\"] expired", "Out [\"B\"] expired"])
    }

    @Test func externalTimeBatchFlushesOnLaterEvent() throws {
        let app = "define stream S (ts long, v int);\nfrom S#window.externalTimeBatch(ts, 1 sec) select sum(v) as total, count() as n insert into Out;"
        let out = try run(app, [event("S", 1, "1000, 1"), event("S", 2, "1500, 2"), event("S", 3, "2000, 4"),
                                event("S", 4, "3500, 8"), event("S", 5, "3600, 16")])
        #expect(out == ["Out [3,2]", "Out [4,1]"])
    }

    @Test func sortWindowEmitsCurrentThenEvicted() throws {
        let app = stream + "from S#window.sort(2, price, 'asc') select symbol, price insert all events into Out;"
        let out = try run(app, [e(1, "A", 5, 1), e(2, "B", 3, 1), e(3, "C", 4, 1), e(4, "D", 9, 1)])
        #expect(out == ["Out [\"A\",5.0]", "Out [\"B\",3.0]", "Out [\"C\",4.0]", "Out [\"A\",5.0] expired",
                        "Out [\"D\",9.0]", "Out [\"D\",9.0] expired"])
    }

    @Test func delayWindowReleasesAsCurrent() throws {
        let app = stream + "from S#window.delay(1 sec) select symbol insert all events into Out;"
        let out = try run(app, [e(1000, "A", 1, 1), e(1500, "B", 1, 1), tick(2000), tick(2600)])
        #expect(out == ["Out [\"A\"]", "Out [\"B\"]"])
    }

    @Test func batchWindowTreatsEachChunkAsABatch() throws {
        let app = stream + "from S#window.batch() select symbol, count() as n insert into Out;"
        let out = try run(app, [e(1, "A", 1, 1), e(2, "B", 1, 1)])
        #expect(out == ["Out [\"A\",1]", "Out [\"B\",1]"])
    }

    @Test func sessionWindowExpiresAfterGap() throws {
        let app = stream + "from S#window.session(1 sec, symbol) select symbol, volume insert all events into Out;"
        let out = try run(app, [e(1000, "A", 1, 1), e(1500, "A", 1, 2), e(1600, "B", 1, 3), tick(2550), tick(2700)])
        #expect(out == ["Out [\"A\",1]", "Out [\"A\",2]", "Out [\"B\",3]", "Out [\"A\",1] expired", "Out [\"A\",2] expired",
                        "Out [\"B\",3] expired"])
    }

    @Test func frequentKeepsFrequentKeys() throws {
        let app = stream + "from S#window.frequent(1, symbol) select symbol, volume insert all events into Out;"
        let out = try run(app, [e(1, "A", 1, 1), e(2, "A", 1, 2), e(3, "B", 1, 3), e(4, "B", 1, 4), e(5, "B", 1, 5)])
        // A's count is 2; B decrements it to 1 and is dropped; the second B takes A's slot.
        #expect(out == ["Out [\"A\",1]", "Out [\"A\",2]", "Out [\"A\",2] expired", "Out [\"B\",4]", "Out [\"B\",5]"])
    }

    @Test func lossyFrequentEmitsFrequentKeys() throws {
        let app = stream + "from S#window.lossyFrequent(0.5, 0.1, symbol) select symbol, volume insert into Out;"
        let out = try run(app, [e(1, "A", 1, 1), e(2, "A", 1, 2), e(3, "B", 1, 3), e(4, "B", 1, 4), e(5, "C", 1, 5)])
        // The threshold is (0.5 - 0.1) × events seen: B's first arrival (1 < 1.2) and C's (1 < 2.0) fall short.
        #expect(out == ["Out [\"A\",1]", "Out [\"A\",2]", "Out [\"B\",4]"])
    }

    @Test func timeBatchExpiresThePreviousBatch() throws {
        let app = stream + "from S#window.timeBatch(1 sec) select symbol insert all events into Out;"
        let out = try run(app, [e(1000, "A", 1, 1), e(1200, "B", 1, 1), e(2100, "C", 1, 1), tick(3000), tick(4000)])
        #expect(out == ["Out [\"A\"]", "Out [\"B\"]", "Out [\"A\"] expired", "Out [\"B\"] expired", "Out [\"C\"]",
                        "Out [\"C\"] expired"])
    }

    @Test func namedWindowIsShared() throws {
        let app = """
        define stream S (symbol string, volume int);
        define window W (symbol string, volume int) length(2) output all events;
        from S insert into W;
        from W select symbol, sum(volume) as total insert all events into Out;
        """
        let out = try run(app, [event("S", 1, "\"A\", 1"), event("S", 2, "\"B\", 2"), event("S", 3, "\"C\", 4")])
        #expect(out == ["Out [\"A\",1]", "Out [\"B\",3]", "Out [\"C\",6]"])
    }
}
