import Testing
@testable import SluiceRuntime

@Suite struct FilterAndExpressionTests {
    let stock = "define stream S (symbol string, price float, volume long, qty int);\n"

    @Test func filterWithMixedNumericTypes() throws {
        let app = stock + "from S[volume > 12L and price < 56] select symbol, price insert into Out;"
        let out = try run(app, [event("S", 1, "\"WSO2\", 55.6, 100, 1"), event("S", 2, "\"IBM\", 57.6, 100, 1"),
                                event("S", 3, "\"X\", 10.0, 5, 1")])
        #expect(out == ["Out [\"WSO2\",55.6]"])
    }

    @Test func arithmeticFollowsJavaPromotionAndNulls() throws {
        let app = stock + """
        from S select qty + qty as ii, qty + volume as il, qty * 1.5f as f, volume / 2.0 as d,
               qty / 0 as zero, volume % qty as rem, -qty as neg, qty / 2 as half
        insert into Out;
        """
        let out = try run(app, [event("S", 1, "\"A\", 1.0, -9, 2"), event("S", 2, "\"B\", 1.0, 7, -7")])
        #expect(out == [
            "Out [4,-7,3.0,-4.5,null,-1,-2,1]",
            "Out [-14,0,-10.5,3.5,null,0,7,-3]",
        ])
    }

    @Test func intOverflowWrapsLikeJava() throws {
        let app = "define stream S (a int, b long);\nfrom S select a + 1 as x, b * 2 as y insert into Out;"
        let out = try run(app, [event("S", 1, "2147483647, 9223372036854775807")])
        #expect(out == ["Out [-2147483648,-2]"])
    }

    @Test func nullsInConditionsAreFalse() throws {
        let app = stock + "from S[price > 10 or symbol is null] select symbol, price insert into Out;"
        let out = try run(app, [event("S", 1, "null, null, 1, 1"), event("S", 2, "\"A\", null, 1, 1"),
                                event("S", 3, "\"B\", 11.0, 1, 1")])
        #expect(out == ["Out [null,null]", "Out [\"B\",11.0]"])
    }

    @Test func notAndStringEquality() throws {
        let app = stock + "from S[not (symbol == 'IBM') and symbol != 'X'] select symbol insert into Out;"
        let out = try run(app, [event("S", 1, "\"IBM\", 1.0, 1, 1"), event("S", 2, "\"WSO2\", 1.0, 1, 1"),
                                event("S", 3, "\"X\", 1.0, 1, 1")])
        #expect(out == ["Out [\"WSO2\"]"])
    }

    @Test func coreFunctions() throws {
        let app = stock + """
        from S select coalesce(symbol, 'none') as c, default(price, 0.0f) as p, ifThenElse(volume > 10, 'big', 'small') as size,
               maximum(qty, 3, 1) as mx, minimum(price, 2.5f) as mn, convert(volume, 'string') as vs,
               cast(qty, 'long') as ql, convert('42', 'int') as parsed, instanceOfString(symbol) as isStr,
               instanceOfFloat(price) as isFloat, eventTimestamp() as ts, currentTimeMillis() as now
        insert into Out;
        """
        let out = try run(app, [event("S", 1000, "null, null, 20, 5"), event("S", 2000, "\"A\", 1.5, 2, 1")])
        #expect(out == [
            "Out [\"none\",0.0,\"big\",5,2.5,\"20\",5,42,false,false,1000,1000]",
            "Out [\"A\",1.5,\"small\",3,1.5,\"2\",1,42,true,true,2000,2000]",
        ])
    }

    @Test func uuidIsDeterministicPerApp() throws {
        let app = "@app:name('U')\ndefine stream S (a int);\nfrom S select UUID() as id insert into Out;"
        let first = try run(app, [event("S", 1, "1"), event("S", 2, "2")])
        let second = try run(app, [event("S", 1, "1"), event("S", 2, "2")])
        #expect(first == second)
        #expect(first[0] != first[1])
        #expect(first[0].count == "Out [\"\"]".count + 36)
    }

    @Test func literalSuffixes() throws {
        let app = "define stream S (a int);\nfrom S select 5L as l, 2.5F as f, 2.5 as d, 2.5D as d2, 7 as i, true as b, 'x' as s insert into Out;"
        #expect(try run(app, [event("S", 1, "1")]) == ["Out [5,2.5,2.5,2.5,7,true,\"x\"]"])
    }

    @Test func selectStarAndChainedQueries() throws {
        let app = stock + """
        from S[price > 1] select * insert into Mid;
        from Mid select symbol, price * 2 as doubled insert into Out;
        """
        let out = try run(app, [event("S", 1, "\"A\", 2.0, 1, 1"), event("S", 2, "\"B\", 0.5, 1, 1")])
        #expect(out == ["Mid [\"A\",2.0,1,1]", "Out [\"A\",4.0]"])
    }
}

@Suite struct IfThenElseTests {
    /// Lane by lane when both branches have the result's type; a null condition takes the else branch.
    @Test func eachLaneAndNulls() throws {
        let app = """
        define stream S (symbol string, price double, volume long, ok bool);
        from S select ifThenElse(ok, volume, 0L) as v, ifThenElse(price > 10.0, price, -1.0) as p,
               ifThenElse(ok, symbol, 'none') as s, ifThenElse(volume > 5, ok, false) as b,
               ifThenElse(ok, volume, 7) as widened, ifThenElse(ok, 1, 0) as flag, ifThenElse(price > 10.0, 2.5, 0.5) as half,
               ifThenElse(ok, false, true) as notOk
        insert into Out;
        """
        let out = try run(app, [event("S", 1, "\"A\", 20.0, 9, true"), event("S", 2, "\"B\", null, 3, false"),
                                event("S", 3, "null, 5.0, null, null"), event("S", 4, "\"D\", 11.0, 8, true")])
        #expect(out == [
            "Out [9,20.0,\"A\",true,9,1,2.5,false]",
            "Out [0,-1.0,\"none\",false,7,0,0.5,true]",
            "Out [0,-1.0,\"none\",false,7,0,0.5,true]",
            "Out [8,11.0,\"D\",true,8,1,2.5,false]",
        ])
        // One event per chunk, and many: the constant branches give the same lanes either way.
        let many = (0..<50).map { i in event("S", Int64(i), "\"X\", \(Double(i)), \(i), \(i % 3 == 0 ? "null" : i % 2 == 0 ? "true" : "false")") }
        let flags = try run(app, many).map { $0.dropFirst(5).dropLast().split(separator: ",")[5] }
        #expect(flags == (0..<50).map { i in i % 3 != 0 && i % 2 == 0 ? "1" : "0" })
    }
}
