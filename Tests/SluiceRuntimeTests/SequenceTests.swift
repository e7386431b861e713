import Testing
@testable import SluiceRuntime

/// Sequences (`,`) with Siddhi 5's semantics: the next event of any of the query's streams must
/// advance a partial or it is dropped; the next element is tried before a `*`, `+` or `?` that
/// could also take the event; at most one partial enters an element per event; without `every`
/// there is one start, which the first event uses or loses. Expected rows are those of
/// siddhi-core's SequenceTestCase.
@Suite struct SequenceTests {
    typealias C = PatternCases
    static let pair = "e1=Stream1[price > 20], e2=Stream2[price > e1.price] select e1.symbol as a, e2.symbol as b insert into O;"

    @Test func aNewFirstEventReplacesTheWaitingOne() throws {
        let input = [C.s1(0, "WSO2", 55.6), C.s1(1, "GOOG", 57.6), C.s2(2, "IBM", 65.7)]
        #expect(try run(C.streams + "from every " + Self.pair, input) == ["O [\"GOOG\",\"IBM\"]"])
        #expect(try run(C.streams + "from " + Self.pair, input) == [])
    }

    @Test func withoutEveryOneMatchAtMost() throws {
        let input = [C.s1(0, "WSO2", 55.6), C.s2(1, "IBM", 55.7), C.s1(2, "ORACLE", 55.6), C.s2(3, "GOOGLE", 55.7)]
        #expect(try run(C.streams + "from " + Self.pair, input) == ["O [\"WSO2\",\"IBM\"]"])
    }

    @Test func everyStartsAgainAfterEachEvent() throws {
        let input = [C.s1(0, "WSO2", 55.6), C.s2(1, "IBM", 55.7), C.s1(2, "ORACLE", 55.6), C.s1(3, "MICROSOFT", 55.8),
                     C.s2(4, "GOOGLE", 55.9)]
        #expect(try run(C.streams + "from every " + Self.pair, input) == ["O [\"WSO2\",\"IBM\"]", "O [\"MICROSOFT\",\"GOOGLE\"]"])
    }

    @Test func zeroOrMoreAtTheEndMatchesAtOnce() throws {
        let app = C.streams + """
            from every e1=Stream1[price > 20], e2=Stream2[price > e1.price]*
            select e1.symbol as a, e2[0].symbol as b, e2[1].symbol as c insert into O;
            """
        #expect(try run(app, [C.s1(0, "WSO2", 55.6), C.s1(1, "IBM", 55.7)]) == ["O [\"WSO2\",null,null]", "O [\"IBM\",null,null]"])
    }

    static let counted = [C.s1(0, "WSO2", 59.6), C.s2(1, "WSO2", 55.6), C.s2(2, "IBM", 55.7), C.s1(3, "WSO2", 57.6)]

    @Test func zeroOrMoreFirst() throws {
        let app = C.streams + """
            from every e1=Stream2[price > 20]*, e2=Stream1[price > e1[0].price]
            select e1[0].price as a, e1[1].price as b, e2.price as c insert into O;
            """
        #expect(try run(app, Self.counted) == ["O [55.6,55.7,57.6]"])
    }

    @Test func zeroOrOneCannotTakeASecondEvent() throws {
        let app = C.streams + """
            from every e1=Stream2[price > 20]?, e2=Stream1[price > e1[0].price]
            select e1[0].price as a, e2.price as c insert into O;
            """
        #expect(try run(app, Self.counted) == ["O [55.7,57.6]"])
    }

    @Test func oneOrMore() throws {
        let app = C.streams + """
            from every e1=Stream2[price > 20]+, e2=Stream1[price > e1[0].price]
            select e1[0].price as a, e1[1].price as b, e2.price as c insert into O;
            """
        #expect(try run(app, [C.s1(0, "WSO2", 59.6), C.s2(1, "WSO2", 55.6), C.s1(2, "WSO2", 57.6)]) == ["O [55.6,null,57.6]"])
    }

    @Test func theNextElementWinsOverZeroOrMore() throws {
        let app = C.streams + """
            from every e1=Stream1[price >= 50 and volume > 100], e2=Stream2[price <= 40]*, e3=Stream2[volume <= 70]
            select e3.symbol as a, e2[0].symbol as b, e3.volume as c insert into O;
            """
        let input = [C.s1(0, "IBM", 75.6, 105), C.s2(1, "GOOG", 21, 81), C.s2(2, "WSO2", 176.6, 65),
                     C.s1(3, "BIRT", 21, 81), C.s1(4, "AMBA", 126.6, 165), C.s2(5, "DDD", 23, 181), C.s2(6, "BIRT", 21, 86),
                     C.s2(7, "BIRT", 21, 82), C.s2(8, "WSO2", 176.6, 60), C.s1(9, "AMBA", 126.6, 165), C.s2(10, "DOX", 16.2, 25)]
        #expect(try run(app, input) == ["O [\"WSO2\",\"GOOG\",65]", "O [\"WSO2\",\"DDD\",60]", "O [\"DOX\",null,25]"])
    }

    @Test func twoStreams() throws {
        let app = "define stream StockStream (symbol string, price double, volume int);\n"
            + "define stream TwitterStream (symbol string, tweets int);\n" + """
            from every e1=StockStream[price >= 50 and volume > 100], e2=TwitterStream[tweets > 10]
            select e1.price as price, e1.symbol as symbol, e2.tweets as tweets insert into O;
            """
        func stock(_ ts: Int64, _ s: String, _ p: Double, _ v: Int) -> String { event("StockStream", ts, "\"\(s)\", \(p), \(v)") }
        func tweet(_ ts: Int64, _ s: String, _ n: Int) -> String { event("TwitterStream", ts, "\"\(s)\", \(n)") }
        let input = [stock(0, "IBM", 75.6, 105), stock(1, "GOOG", 51, 101), stock(2, "IBM", 76.6, 111), tweet(3, "IBM", 20),
                     stock(4, "WSO2", 45.6, 100), tweet(5, "GOOG", 20)]
        #expect(try run(app, input) == ["O [76.6,\"IBM\",20]"])
    }

    /// Peaks: a rise, then the first fall. A rise that starts inside a running one is not reported
    /// (one partial per element per event).
    @Test func peaks() throws {
        let app = C.streams + """
            from every e1=Stream1, e2=Stream1[ifThenElse(e2[last].price is null, e1.price <= price, e2[last].price <= price)]+,
                 e3=Stream1[e2[last].price > price]
            select e1.price as initial, e2[last].price as peak, e3.price as after insert into O;
            """
        let prices = [29.6, 25.0, 15.6, 25.5, 57.6, 58.6, 47.6, 27.6, 49.6, 45.6, 37.7, 33.7, 27.7, 49.7, 45.7]
        #expect(try run(app, C.prices(prices)) == ["O [15.6,58.6,47.6]", "O [27.6,49.6,45.6]", "O [27.7,49.7,45.7]"])
        #expect(try expectRestoreAnywhereMatches("@app:name('Peaks')\n" + app, C.prices(prices)).count == 3)
    }

    @Test func onePartialPerElementPerEvent() throws {
        let app = C.streams + """
            from every e1=Stream1[price > 20],
                 e2=Stream1[((e2[last].price is null) and price >= e1.price) or ((not (e2[last].price is null)) and price >= e2[last].price)]+,
                 e3=Stream1[price < e2[last].price]
            select e1.price as a, e2[0].price as b, e2[1].price as c, e3.price as d insert into O;
            """
        #expect(try run(app, C.prices([29.6, 35.6, 57.6, 47.6])) == ["O [29.6,35.6,57.6,47.6]"])
        #expect(try run(app, C.prices([29.6, 25.0, 35.6, 25.5, 57.6, 58.6, 47.6, 27.6, 49.6, 45.6]))
            == ["O [25.0,35.6,null,25.5]", "O [25.5,57.6,58.6,47.6]", "O [27.6,49.6,null,45.6]"])
    }

    @Test func refusals() {
        #expect(deployError(C.streams + "from e1=Stream1, not Stream2 for 1 sec select e1.price as p insert into O;")
            == "4:6: absent ('not') elements in sequences are not supported yet")
        #expect(deployError(C.streams + "from e1=Stream1 -> e2=Stream2+ select e1.price as p insert into O;")?
            .hasPrefix("4:30: '+' is only allowed in a sequence") == true)
    }
}
