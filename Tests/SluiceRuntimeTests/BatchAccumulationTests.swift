import Testing
@testable import SluiceRuntime

/// A batch window whose selector needs only each group's aggregates and last row folds rows in as
/// they arrive. `having true` keeps a query on the buffered path without changing what it emits,
/// so each query runs both ways over the same input and must print the same lines.
@Suite struct BatchAccumulationTests {
    static let stream = "define stream S (symbol string, price double, volume long, ts long);\n"
    static let queries: [String] = [
        "from S#window.externalTimeBatch(ts, 2 sec) select symbol, ts, count() as n, avg(price) as a group by symbol {having} insert into O;",
        "from S#window.externalTimeBatch(ts, 1 sec, 0, 3 sec) select symbol, sum(volume) as s group by symbol {having} insert into O;",
        "from S#window.timeBatch(1 sec) select count() as n, avg(price) as a, symbol {having} insert into O;",
        "from S#window.timeBatch(700, 100) select symbol, min(price) as mn, max(price) as mx, stdDev(price) as sd group by symbol {having} insert into O;",
        "from S#window.lengthBatch(7) select symbol, distinctCount(symbol) as d, maxForever(volume) as mf, price * 2 as p group by symbol, volume > 25 {having} insert into O;",
        "from S#window.lengthBatch(5) select symbol, sum(volume) as s, and(price > 20.0) as allHigh, or(volume > 40) as anyBig group by symbol {having} order by s desc limit 2 insert into O;",
        "from S#window.lengthBatch(4) select sum(volume) as s, price {having} limit 1 insert into O;",
        "from S#window.lengthBatch(3) select symbol, count() as n group by symbol {having} output last every 2 events insert into O;",
        "from S#window.externalTimeBatch(ts, 2 sec) select symbol group by symbol {having} insert into O;",
        "from S#window.externalTimeBatch(ts, 2 sec) select symbol, max(price) as mx, min(volume) as mn, sum(ifThenElse(volume > 25, 1, 0)) as big, ifThenElse(price > 50.0, symbol, 'low') as label group by symbol {having} insert into O;",
        "from S#window.lengthBatch(6) select min(price) as mn, max(volume) as mx, maximum(price, 40.0) as capped, cast(volume, 'double') as v {having} insert into O;",
    ]

    @Test(arguments: queries.indices)
    func foldedRowsGiveTheBufferedOutput(query index: Int) throws {
        let query = Self.queries[index]
        let folded = Self.stream + query.replacingOccurrences(of: " {having}", with: "")
        let buffered = Self.stream + query.replacingOccurrences(of: "{having}", with: "having true")
        #expect(try AppRuntime(source: folded).accumulatingQueries == 1)
        #expect(try AppRuntime(source: buffered).accumulatingQueries == 0)
        for seed: UInt64 in [1, 7, 42] {
            let lines = determinismInput(count: 400, seed: seed)
            let expected = try run(buffered, lines)
            #expect(expected.count > 5)
            #expect(try run(folded, lines) == expected, "seed \(seed)")
        }
    }

    @Test func queriesThatNeedEveryRowStayBuffered() throws {
        for query in [
            "from S#window.lengthBatch(4) select symbol, count() as n group by symbol insert all events into O;",
            "from S#window.lengthBatch(4) select symbol, volume insert into O;",
            "from S#window.timeBatch(1 sec) select count() as n, currentTimeMillis() as now insert into O;",
            "from S#window.lengthBatch(4) select symbol, count() as n group by symbol having n > 1 insert into O;",
            "from S#window.length(4) select symbol, count() as n group by symbol insert into O;",
            "from S#window.lengthBatch(4) select count() as n output snapshot every 1 sec insert into O;",
        ] {
            #expect(try AppRuntime(source: Self.stream + query).accumulatingQueries == 0, "\(query)")
        }
    }
}
