import Testing
@testable import SluiceRuntime

/// Counting patterns `e1=S<n:m>` with Siddhi 5's semantics: from its minimum on, the partial is
/// also offered to the next element and keeps collecting until that element matches or it has
/// its maximum; a count that ends the pattern matches at its minimum; `e1[i]` and `e1[last-k]`
/// past what was collected are null. Expected rows are those of siddhi-core's CountPatternTestCase.
@Suite struct CountingPatternTests {
    typealias C = PatternCases
    static let twoToFive = C.streams + """
        from e1=Stream1[price > 20]<2:5> -> e2=Stream2[price > 20]
        select e1[0].price as p0, e1[1].price as p1, e1[2].price as p2, e1[3].price as p3, e2.price as q
        insert into O;
        """

    @Test func eventsAfterTheMinimumAreStillCollected() throws {
        let out = try run(Self.twoToFive, [C.s1(0, "WSO2", 25.6), C.s1(1, "GOOG", 47.6), C.s1(2, "GOOG", 13.7), C.s1(3, "GOOG", 47.8),
                                           C.s2(4, "IBM", 45.7), C.s2(5, "IBM", 55.7)])
        #expect(out == ["O [25.6,47.6,47.8,null,45.7]"])
    }

    @Test func collectionStopsOnceTheNextElementMatched() throws {
        let out = try run(Self.twoToFive, [C.s1(0, "WSO2", 25.6), C.s1(1, "GOOG", 47.6), C.s1(2, "GOOG", 13.7), C.s2(3, "IBM", 45.7),
                                           C.s1(4, "GOOG", 47.8), C.s2(5, "IBM", 55.7)])
        #expect(out == ["O [25.6,47.6,null,null,45.7]"])
    }

    @Test func theNextElementWaitsForTheMinimum() throws {
        #expect(try run(Self.twoToFive, [C.s1(0, "WSO2", 25.6), C.s2(1, "IBM", 45.7), C.s1(2, "GOOG", 47.8), C.s2(3, "IBM", 55.7)])
            == ["O [25.6,47.8,null,null,55.7]"])
        #expect(try run(Self.twoToFive, [C.s1(0, "WSO2", 25.6), C.s2(1, "IBM", 45.7)]) == [])
    }

    @Test func collectionStopsAtTheMaximum() throws {
        let input = [25.6, 47.6, 23.7, 24.7, 25.7, 27.6].enumerated().map { C.s1(Int64($0.offset), "S", $0.element) }
            + [C.s2(10, "IBM", 45.7), C.s1(11, "GOOG", 47.8), C.s2(12, "IBM", 55.7)]
        let app = C.streams + """
            from e1=Stream1[price > 20]<2:4> -> e2=Stream2[price > 20]
            select e1[0].price as p0, e1[1].price as p1, e1[2].price as p2, e1[3].price as p3, e2.price as q
            insert into O;
            """
        #expect(try run(app, input) == ["O [25.6,47.6,23.7,24.7,45.7]"])
    }

    @Test func aZeroMinimumIsOfferedAtOnce() throws {
        let app = C.streams + """
            from e1=Stream1[price > 20]<0:5> -> e2=Stream2[price > 20]
            select e1[0].price as p0, e1[1].price as p1, e2.price as q insert into O;
            """
        #expect(try run(app, [C.s2(0, "IBM", 45.7)]) == ["O [null,null,45.7]"])
        let reading = C.streams + """
            from e1=Stream1[price > 20]<0:5> -> e2=Stream2[price > e1[0].price]
            select e1[0].price as p0, e1[1].price as p1, e2.price as q insert into O;
            """
        #expect(try run(reading, [C.s1(0, "WSO2", 25.6), C.s1(1, "GOOG", 7.6), C.s2(2, "IBM", 45.7)]) == ["O [25.6,null,45.7]"])
    }

    /// One stream feeds the three elements: the next element is tried before the count.
    @Test func theNextElementWinsOverTheCount() throws {
        let app = "define stream E (symbol string, price double, volume int);\n" + """
            from e1=E[price >= 50 and volume > 100] -> e2=E[price <= 40]<:5> -> e3=E[volume <= 70]
            select e1.symbol as a, e2[last].symbol as b, e3.symbol as c insert into O;
            """
        func e(_ ts: Int64, _ s: String, _ p: Double, _ v: Int) -> String { event("E", ts, "\"\(s)\", \(p), \(v)") }
        #expect(try run(app, [e(0, "IBM", 75.6, 105), e(1, "GOOG", 21, 61), e(2, "WSO2", 21, 61)]) == ["O [\"IBM\",null,\"GOOG\"]"])
        #expect(try run(app, [e(0, "IBM", 75.6, 105), e(1, "GOOG", 21, 91), e(2, "FB", 21, 81), e(3, "WSO2", 21, 61)])
            == ["O [\"IBM\",\"FB\",\"WSO2\"]"])
    }

    @Test func aCountThatEndsThePatternMatchesAtItsMinimum() throws {
        let app = "define stream E (symbol string, volume int);\n" + """
            from every e1=E -> e2=E[e1.symbol == e2.symbol]<4:6>
            select e1.volume as v, e2[0].volume as v0, e2[1].volume as v1, e2[2].volume as v2, e2[3].volume as v3,
                   e2[4].volume as v4, e2[5].volume as v5
            insert into O;
            """
        let sequence: [(String, Int)] = [("IBM", 100), ("IBM", 200), ("IBM", 300), ("GOOG", 0), ("IBM", 400), ("IBM", 500), ("GOOG", 0),
                                         ("IBM", 600), ("IBM", 700), ("IBM", 800), ("GOOG", 0), ("IBM", 900)]
        let input = sequence.enumerated().map { event("E", Int64($0.offset), "\"\($0.element.0)\", \($0.element.1)") }
        #expect(try run(app, input) == [
            "O [100,200,300,400,500,null,null]", "O [200,300,400,500,600,null,null]", "O [300,400,500,600,700,null,null]",
            "O [400,500,600,700,800,null,null]", "O [500,600,700,800,900,null,null]",
        ])
    }

    /// `e1[last]`, `e1[last-1]` and a later filter's plain `e1.price` (the latest event).
    @Test func lastAndLatest() throws {
        let app = C.streams + """
            from e1=Stream1<2:> -> e2=Stream2[price > e1.price]
            select e1[last].price as last, e1[last-1].price as before, e1[last-5].price as far, e2.price as q insert into O;
            """
        let out = try run(app, [C.s1(0, "A", 10), C.s1(1, "B", 30), C.s1(2, "C", 20), C.s2(3, "X", 25), C.s2(4, "Y", 21)])
        // 25 > 20 (the latest): matches with three events collected.
        #expect(out == ["O [20.0,30.0,null,25.0]"])
    }

    @Test func refusals() {
        #expect(deployError(C.streams + "from e1=Stream1<2:> -> e2=Stream2 select e1.price as p insert into O;")
            == "4:45: 'e1.price' would be every event 'e1' collected: select one, as in 'e1[0].price' or 'e1[last].price'")
        #expect(deployError(C.streams + "from e1=Stream1<2:> -> e2=Stream2<1:2> select e1[0].price as p insert into O;")?
            .hasPrefix("4:6: a counted element followed by a count, 'and', 'or' or 'not' in patterns are not supported yet") == true)
    }

    @Test func indexesStaySmall() {
        #expect(deployError(C.streams + "from e1=Stream1<2:> -> e2=Stream2 select e1[1001].price as p insert into O;")
            == "4:51: 'e1' is indexed beyond 1000: a counted element keeps each event its query names")
    }

    @Test func restoreAnywhere() throws {
        let app = "@app:name('Count')\n" + Self.twoToFive
        let input = [C.s1(0, "WSO2", 25.6), C.s1(1, "GOOG", 47.6), C.s1(2, "GOOG", 13.7), C.s2(3, "IBM", 45.7), C.s1(4, "GOOG", 47.8),
                     C.s1(5, "GOOG", 48.8), C.s2(6, "IBM", 55.7)]
        #expect(try expectRestoreAnywhereMatches(app, input).count == 1)
    }
}
