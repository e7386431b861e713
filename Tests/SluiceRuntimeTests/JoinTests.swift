import Testing
@testable import SluiceRuntime

/// Stream–stream joins with Siddhi 5's semantics: each side's window emits, the emitted events
/// are joined with what the other side's window holds, joined rows keep the arriving event's kind
/// and timestamp, outer sides pad with nulls, `unidirectional` limits which side triggers, and a
/// side without a window holds nothing.
@Suite struct JoinTests {
    static let streams = """
    define stream Temp (deviceID long, roomNo int, temp double);
    define stream Regulator (deviceID long, roomNo int, isOn bool);

    """

    /// Siddhi's query-guide example: a regulator that is off, in a room that became hot.
    @Test func theQueryGuideExample() throws {
        let app = Self.streams + """
        from Temp[temp > 30.0]#window.time(1 min) as T
          join Regulator[isOn == false]#window.length(1) as R
          on T.roomNo == R.roomNo
        select T.roomNo, R.deviceID, 'start' as action
        insert into RegulatorAction;
        """
        let out = try run(app, [
            event("Temp", 1_000, "1, 10, 35.0"),           // no regulator yet
            event("Regulator", 2_000, "100, 10, false"),   // finds the hot reading
            event("Regulator", 3_000, "101, 11, false"),   // replaces 100 (length 1); room 11 is not hot
            event("Temp", 4_000, "2, 11, 31.0"),           // finds 101
            event("Temp", 5_000, "3, 11, 25.0"),           // filtered out
            event("Regulator", 6_000, "102, 10, true"),    // filtered out
        ])
        #expect(out == ["RegulatorAction [10,100,\"start\"]", "RegulatorAction [11,101,\"start\"]"])
    }

    static let pairs = """
    define stream L (k string, a int);
    define stream R (k string, b int);

    """
    static let input = [
        event("L", 1, "\"x\", 1"), event("R", 2, "\"x\", 10"), event("R", 3, "\"y\", 20"),
        event("L", 4, "\"y\", 2"), event("L", 5, "\"z\", 3"), event("R", 6, "\"x\", 30"),
    ]

    func joined(_ type: String, _ select: String = "L.k as lk, a, R.k as rk, b", output: String = "insert into O") throws -> [String] {
        try run(Self.pairs + "from L#window.length(2) \(type) R#window.length(2) on L.k == R.k select \(select) \(output);", Self.input)
    }

    /// Matches in the other window's order, oldest first; each arrival's matches together.
    @Test func innerJoin() throws {
        // R(x,30) at 6 finds nothing: L(x,1) left L's window at 5.
        #expect(try joined("join") == ["O [\"x\",1,\"x\",10]", "O [\"y\",2,\"y\",20]"])
        // `inner join` is the same join.
        #expect(try joined("inner join") == joined("join"))
    }

    @Test func leftOuterJoinPadsTheLeftArrivalsThatMatchNothing() throws {
        #expect(try joined("left outer join") == [
            "O [\"x\",1,null,null]", "O [\"x\",1,\"x\",10]", "O [\"y\",2,\"y\",20]", "O [\"z\",3,null,null]",
        ])
    }

    @Test func rightOuterJoinPadsTheRightArrivalsThatMatchNothing() throws {
        // R(x,30) at 6: L's window holds (y,2), (z,3) by then, so it matches nothing.
        #expect(try joined("right outer join") == [
            "O [\"x\",1,\"x\",10]", "O [null,null,\"y\",20]", "O [\"y\",2,\"y\",20]", "O [null,null,\"x\",30]",
        ])
    }

    @Test func fullOuterJoinPadsBothSides() throws {
        #expect(try joined("full outer join") == [
            "O [\"x\",1,null,null]", "O [\"x\",1,\"x\",10]", "O [null,null,\"y\",20]", "O [\"y\",2,\"y\",20]",
            "O [\"z\",3,null,null]", "O [null,null,\"x\",30]",
        ])
    }

    /// Expired events join too, and keep their kind: L(x,1) leaves L's window at 5 and still
    /// finds R(x,10); R(x,10) leaves at 6 (R's window holds (y,20), (x,30) after it) and finds nothing.
    @Test func expiredEventsJoinAsExpired() throws {
        let out = try joined("join", output: "insert all events into O")
        #expect(out == ["O [\"x\",1,\"x\",10]", "O [\"y\",2,\"y\",20]", "O [\"x\",1,\"x\",10] expired"])
        #expect(try joined("join", output: "insert expired events into O") == ["O [\"x\",1,\"x\",10] expired"])
    }

    @Test func unidirectionalTriggersFromOneSideOnly() throws {
        let left = try run(Self.pairs + "from L#window.length(2) unidirectional join R#window.length(2) on L.k == R.k select a, b insert into O;",
                           Self.input)
        #expect(left == ["O [2,20]"])
        let right = try run(Self.pairs + "from L#window.length(2) join R#window.length(2) unidirectional on L.k == R.k select a, b insert into O;",
                            Self.input)
        #expect(right == ["O [1,10]"])
    }

    /// A side without a window holds nothing: only its own arrivals trigger, and each finds the
    /// other window's events. With an aggregate, the reset after each arrival starts it over.
    @Test func aSideWithoutAWindowIsNeverFound() throws {
        let out = try run(Self.pairs + "from L join R#window.length(5) on L.k == R.k select a, b insert into O;", Self.input)
        #expect(out == ["O [2,20]"])
        let counted = try run(Self.pairs + "from L join R#window.length(5) select a, count() as n insert into O;", Self.input)
        // Each arrival's rows are one chunk, and Siddhi 5.1 aggregates per chunk: one row per arrival.
        #expect(counted == ["O [2,2]", "O [3,2]"])
    }

    @Test func withoutOnEveryPairJoins() throws {
        let out = try run(Self.pairs + "from L#window.length(1) join R#window.length(1) select a, b insert into O;", Self.input)
        #expect(out == ["O [1,10]", "O [1,20]", "O [2,20]", "O [3,20]", "O [3,30]"])
    }

    /// A self-join: the left side runs first, so an event finds itself once, from the right side.
    @Test func selfJoinFindsTheEventItselfOnce() throws {
        let app = Self.pairs + "from L#window.length(2) as x join L#window.length(2) as y on x.k == y.k select x.a as xa, y.a as ya insert into O;"
        let out = try run(app, [event("L", 1, "\"x\", 1"), event("L", 2, "\"x\", 2")])
        #expect(out == ["O [1,1]", "O [2,1]", "O [1,2]", "O [2,2]"])
    }

    /// Aggregates over a join add current rows and subtract expired ones, per arrival.
    @Test func aggregatesOverAJoin() throws {
        let out = try joined("join", "L.k as k, count() as n, sum(b) as total", output: "group by L.k insert into O")
        // L(x,1) expiring at 5 takes its pair out of group x; nothing is output for that.
        #expect(out == ["O [\"x\",1,10]", "O [\"y\",1,20]"])
    }

    @Test func timeWindowsExpireOnTheClock() throws {
        let app = Self.pairs + "from L#window.time(10) join R#window.time(10) on L.k == R.k select a, b insert all events into O;"
        let out = try run(app, [event("L", 0, "\"x\", 1"), event("R", 5, "\"x\", 10"), tick(12), event("R", 13, "\"x\", 20"), tick(30)])
        // L(x,1) expires at 10 and finds R(x,10) still there; R(x,10) expires at 15 and L is empty.
        #expect(out == ["O [1,10]", "O [1,10] expired"])
    }

    /// A batch window is searched as the batch it emitted last; its new batch joins when it is
    /// emitted, after a reset.
    @Test func aBatchWindowIsSearchedAsItsLastBatch() throws {
        let input = [
            event("L", 1, "\"x\", 1"), event("R", 2, "\"x\", 10"), event("L", 3, "\"y\", 2"), event("R", 4, "\"x\", 20"),
            event("R", 5, "\"y\", 30"), event("L", 6, "\"x\", 3"), event("L", 7, "\"z\", 4"), event("R", 8, "\"x\", 40"),
        ]
        let out = try run(Self.pairs + "from L#window.lengthBatch(2) join R#window.length(5) on L.k == R.k select a, b insert into O;", input)
        #expect(out == ["O [1,10]", "O [1,20]", "O [2,30]", "O [3,10]", "O [3,20]", "O [3,40]"])
        // timeBatch: the last batch is searched until the next period ends, then it is gone.
        let timed = try run(Self.pairs + "from L#window.timeBatch(10) join R#window.length(5) on L.k == R.k select a, b insert into O;",
                            [event("L", 1, "\"x\", 1"), event("R", 2, "\"x\", 10"), tick(11), event("R", 12, "\"x\", 20"),
                             tick(21), event("R", 22, "\"x\", 30")])
        #expect(timed == ["O [1,10]", "O [1,20]"])
    }

    /// A named window: arrivals into it trigger against the other side, and the other side
    /// searches what it holds.
    @Test func aNamedWindowIsSearchedAsItHolds() throws {
        let app = """
        define stream S (k string, v int);
        define stream Q (k string);
        define window W (k string, v int) length(2);
        from S insert into W;
        from Q join W on Q.k == W.k select Q.k as k, W.v as v insert into O;
        from W join Q#window.length(1) on W.k == Q.k select W.k as k, W.v as v insert into P;
        """
        let out = try run(app, [event("S", 1, "\"x\", 1"), event("S", 2, "\"y\", 2"), event("Q", 3, "\"x\""),
                                event("S", 4, "\"x\", 3"), event("Q", 5, "\"x\""), event("Q", 6, "\"z\"")])
        // Q(x) at 3 finds W's (x,1) for both queries; S(x,3) finds Q(x) in Q's length(1) window (P);
        // Q(x) at 5 finds W's (x,3) only, (x,1) having left it; Q(z) finds nothing.
        #expect(out == ["O [\"x\",1]", "P [\"x\",1]", "P [\"x\",3]", "O [\"x\",3]", "P [\"x\",3]"])
    }

    @Test func refusals() {
        #expect(deployError(Self.pairs + "from L#window.length(2) join R#window.length(2) on k == k select a insert into O;")
            == "3:52: attribute 'k' is in both 'L' and 'R': qualify it, as in 'L.k'")
        #expect(deployError(Self.pairs + "from L#window.sort(2, a) join R#window.length(2) on L.k == R.k select a insert into O;")
            == "3:15: a join cannot search the 'sort' window yet; it can search batch, externalTime, externalTimeBatch, length, "
            + "lengthBatch, time, timeBatch, timeLength")
        #expect(deployError(Self.pairs + "from L#window.length(2) join L#window.length(2) on L.k == L.k select a insert into O;")
            == "3:30: both sides of the join are named 'L': give one an alias with 'as'")
        #expect(deployError(Self.pairs + "from L#window.length(2) as x join R#window.length(2) on L.k == R.k select a insert into O;")
            == "3:57: unknown stream or alias 'L'")
        #expect(deployError(Self.pairs + "from L#window.length(2) join R#window.length(2) on L.k == R.k select * insert into O;")
            == "3:63: 'select *' would output 'k' twice: name the attributes to select")
    }

    /// A runtime restored at any point of the input prints what the uninterrupted one does.
    @Test(arguments: [
        "from L#window.length(2) full outer join R#window.time(4) on L.k == R.k select L.k as lk, a, R.k as rk, b, count() as n insert all events into O;",
        "from L#window.timeBatch(3) left outer join R#window.lengthBatch(2) on L.k == R.k select a, b, sum(b) as s insert into O;",
    ])
    func snapshotRestoreKeepsBothWindows(query: String) throws {
        let app = "@app:name('J')\n" + Self.pairs + query
        let input = Self.input + [tick(9), event("L", 10, "\"x\", 4"), event("R", 11, "\"x\", 40"), tick(20)]
        #expect(try expectRestoreAnywhereMatches(app, input).count >= 3)
    }
}

/// The equality index only skips pairs that cannot match: over random input, a condition it
/// serves gives what the same condition written so that every pair is tested gives.
@Suite struct JoinIndexTests {
    static func input(seed: UInt64) -> [String] {
        var state = seed
        func next() -> UInt64 {
            state = state &* 6364136223846793005 &+ 1442695040888963407
            return state >> 33
        }
        var lines: [String] = []
        for i in 0..<300 {
            let stream = next() % 2 == 0 ? "L" : "R"
            let key = next() % 7 == 0 ? "null" : "\"k\(next() % 5)\""
            lines.append(event(stream, Int64(i), "\(key), \(next() % 10)"))
            if i % 37 == 0 { lines.append(tick(Int64(i))) }
        }
        return lines
    }

    @Test(arguments: ["join", "left outer join", "right outer join", "full outer join"])
    func indexedAndExhaustiveJoinsAgree(type: String) throws {
        let streams = "define stream L (k string, a int);\ndefine stream R (k string, b int);\n"
        func app(_ on: String) -> String {
            streams + "from L#window.length(6) \(type) R#window.time(20) on \(on) "
                + "select L.k as lk, a, R.k as rk, b, count() as n group by L.k insert all events into O;"
        }
        for seed in 1...5 as ClosedRange<UInt64> {
            let input = Self.input(seed: seed)
            let indexed = try run(app("L.k == R.k and a <= b"), input)
            let exhaustive = try run(app("(L.k == R.k) == true and a <= b"), input)
            #expect(indexed == exhaustive, "seed \(seed)")
            #expect(indexed.count > 20)
        }
    }
}
