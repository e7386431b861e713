import Testing
@testable import SluiceRuntime

@Suite struct PartitionTests {
    @Test func valuePartitionKeepsStatePerKey() throws {
        let app = """
        define stream S (symbol string, price double);
        partition with (symbol of S)
        begin
            from S#window.length(2) select symbol, sum(price) as total insert into Out;
        end;
        """
        let out = try run(app, [event("S", 1, "\"A\", 1.0"), event("S", 2, "\"B\", 10.0"), event("S", 3, "\"A\", 2.0"),
                                event("S", 4, "\"A\", 4.0"), event("S", 5, "\"B\", 20.0")])
        #expect(out == ["Out [\"A\",1.0]", "Out [\"B\",10.0]", "Out [\"A\",3.0]", "Out [\"A\",6.0]", "Out [\"B\",30.0]"])
    }

    @Test func innerStreamsStayInsideTheirPartition() throws {
        let app = """
        define stream S (symbol string, price double);
        partition with (symbol of S)
        begin
            from S select symbol, price * 2 as doubled insert into #Doubled;
            from #Doubled select symbol, count() as n, sum(doubled) as total insert into Out;
        end;
        """
        let out = try run(app, [event("S", 1, "\"A\", 1.0"), event("S", 2, "\"B\", 10.0"), event("S", 3, "\"A\", 2.0")])
        #expect(out == ["Out [\"A\",1,2.0]", "Out [\"B\",1,20.0]", "Out [\"A\",2,6.0]"])
    }

    @Test func rangePartitionSendsToEveryMatchingRange() throws {
        let app = """
        define stream S (symbol string, price double);
        partition with (price >= 100 as 'large' or price < 100 as 'medium' or price < 50 as 'small' of S)
        begin
            from S select symbol, count() as n insert into Out;
        end;
        """
        let out = try run(app, [event("S", 1, "\"A\", 20.0"), event("S", 2, "\"B\", 70.0"), event("S", 3, "\"C\", 200.0")])
        #expect(out == ["Out [\"A\",1]", "Out [\"A\",1]", "Out [\"B\",2]", "Out [\"C\",1]"])
    }

    @Test func nonPartitionedStreamReachesEveryInstance() throws {
        let app = """
        define stream S (symbol string, price double);
        define stream Reset (symbol string);
        partition with (symbol of S)
        begin
            from S select symbol, count() as n insert into Counts;
            from Reset select symbol insert into Seen;
        end;
        """
        let out = try run(app, [event("S", 1, "\"A\", 1.0"), event("S", 2, "\"B\", 1.0"), event("Reset", 3, "\"x\"")])
        #expect(out.filter { $0.hasPrefix("Seen") } == ["Seen [\"x\"]", "Seen [\"x\"]"])
    }

    @Test func purgeDropsIdleKeys() throws {
        let app = """
        define stream S (symbol string, price double);
        @purge(enable='true', interval='1 sec', idle.period='2 sec')
        partition with (symbol of S)
        begin
            from S select symbol, count() as n insert into Out;
        end;
        """
        let out = try run(app, [event("S", 0, "\"A\", 1.0"), event("S", 500, "\"B\", 1.0"), event("S", 2600, "\"B\", 1.0"),
                                tick(3100), event("S", 3200, "\"A\", 1.0"), event("S", 3300, "\"B\", 1.0")])
        // At 3000 A has been idle for 3 s and is purged; B was seen at 2600 and keeps its count.
        #expect(out == ["Out [\"A\",1]", "Out [\"B\",1]", "Out [\"B\",2]", "Out [\"A\",1]", "Out [\"B\",3]"])
    }
}
