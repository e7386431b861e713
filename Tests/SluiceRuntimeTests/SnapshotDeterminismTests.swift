import Foundation
import Testing
@testable import SluiceRuntime

/// Apps that exercise every stateful operator, plus the bundled examples.
let determinismApps: [(name: String, source: String)] = {
    let stream = "@app:name('Determinism')\ndefine stream S (symbol string, price double, volume long, ts long);\n"
    var apps: [(String, String)] = [
        ("sliding", stream + """
        from S#window.length(5) select symbol, sum(volume) as s, avg(price) as a, min(price) as mn, max(price) as mx,
            stdDev(price) as sd, distinctCount(symbol) as d group by symbol insert all events into O1;
        from S#window.time(2 sec) select symbol, count() as n, maxForever(price) as mf insert all events into O2;
        from S#window.timeLength(3 sec, 4) select symbol, volume insert all events into O3;
        from S#window.externalTime(ts, 1500) select count() as n, UUID() as id insert into O4;
        from S#window.sort(3, price, 'desc') select symbol, price insert all events into O5;
        """),
        ("batches", stream + """
        from S#window.lengthBatch(4) select symbol, sum(volume) as s group by symbol insert all events into O1;
        from S#window.timeBatch(1 sec) select count() as n, avg(price) as a insert into O2;
        from S#window.externalTimeBatch(ts, 2 sec) select symbol, count() as n group by symbol order by n desc limit 2 insert into O3;
        from S#window.batch() select count() as n insert into O4;
        from S#window.delay(700) select symbol insert into O5;
        from S#window.session(800, symbol) select symbol, volume insert all events into O6;
        from S#window.frequent(2, symbol) select symbol insert all events into O7;
        from S#window.lossyFrequent(0.3, 0.1, symbol) select symbol insert all events into O8;
        """),
        ("joins", stream + """
        from S#window.length(3) as a join S#window.time(2 sec) as b on a.symbol == b.symbol
        select a.symbol as symbol, a.price as p1, b.price as p2 insert all events into J1;
        from S#window.lengthBatch(4) as a left outer join S#window.externalTime(ts, 1500) as b on a.symbol == b.symbol and a.volume < b.volume
        select a.symbol as symbol, count() as n, sum(b.volume) as v group by a.symbol insert into J2;
        from S[volume > 25] as a full outer join S#window.timeBatch(1 sec) as b unidirectional on a.price > b.price
        select a.symbol as s1, b.symbol as s2 insert all events into J3;
        """),
        ("patterns", stream + """
        from every e1=S[price > 50.0] -> e2=S[symbol == e1.symbol and price < e1.price] within 2 sec
        select e1.symbol as symbol, e1.price as p1, e2.price as p2 insert into P1;
        from every (e1=S[volume > 40] -> e2=S[volume < 10]) select e1.volume as v1, e2.volume as v2, count() as n insert into P2;
        partition with (symbol of S)
        begin
            from every e1=S -> e2=S[volume > e1.volume] within 1 sec select e1.symbol as symbol, e2.volume as v insert into P3;
        end;
        """),
        ("counts-sequences-absences", stream + """
        from every e1=S[price > 50.0] -> e2=S[symbol == e1.symbol]<2:4> -> e3=S[volume > e2[last].volume]
        select e1.symbol as symbol, e2[0].price as p0, e2[last].price as pl, e3.volume as v insert into C1;
        from every e1=S, e2=S[price >= e1.price]+, e3=S[price < e2[last].price]
        select e1.price as low, e2[last].price as peak, e3.price as drop insert into C2;
        from every e1=S[volume > 45] -> not S[symbol == e1.symbol] for 500 milliseconds
        select e1.symbol as quiet insert into C3;
        from every (e1=S[price > 60.0] and e2=S[volume < 5]) -> e3=S[price < 20.0] or e4=S[volume > 48]
        select e1.price as a, e2.volume as b, e3 is null as noLow insert into C4;
        partition with (symbol of S)
        begin
            from every not S[price > 90.0] for 1 sec -> e1=S select e1.price as calm insert into C5;
        end;
        """),
        ("rates-and-partitions", stream + """
        from S select symbol, count() as n group by symbol output last every 3 events insert into O1;
        from S select symbol output first every 2 events insert into O2;
        from S select symbol, price output all every 1 sec insert into O3;
        from S#window.length(4) select symbol, count() as n group by symbol output snapshot every 1 sec insert into O4;
        define window W (symbol string, price double) time(1 sec) output all events;
        from S select symbol, price insert into W;
        from W select symbol, sum(price) as total insert all events into O5;
        @purge(enable='true', interval='2 sec', idle.period='3 sec')
        partition with (symbol of S)
        begin
            from S#window.length(2) select symbol, avg(price) as a insert into #Avg;
            from #Avg[a > 10.0] select symbol, count() as n insert into O6;
        end;
        partition with (price >= 50.0 as 'high' or price < 50.0 as 'low' of S)
        begin
            from S select symbol, sum(volume) as s insert into O7;
        end;
        """),
        ("aggregations", stream + """
        @BufferSize('2')
        define aggregation A from S select symbol, sum(volume) as total, avg(price) as ap, min(price) as mn, max(price) as mx,
            count() as n, distinctCount(volume) as dv, price as last group by symbol aggregate every sec ... min;
        define aggregation B from Late[volume > 10] select sum(price) as total aggregate by late every sec, hour;
        from S select volume, price, ts - volume * 100 as late insert into Late;
        from S as s join A as a on a.symbol == s.symbol within 0L, 100000000L per 'minutes'
        select s.symbol as symbol, a.AGG_TIMESTAMP as t, a.total as total, a.ap as ap, a.mn as mn, a.mx as mx, a.n as n, a.dv as dv,
            a.last as last insert into J1;
        from S[volume < 5] as s join B as b within 0L, 100000000L per 'seconds' select b.AGG_TIMESTAMP as t, b.total as total insert into J2;
        """),
    ]
    let examples = URL(fileURLWithPath: #filePath).deletingLastPathComponent().appendingPathComponent("../../examples")
    if let app = try? String(contentsOf: examples.appendingPathComponent("api-analytics/app.siddhi"), encoding: .utf8) {
        apps.append(("api-analytics", app))
    }
    return apps
}()

/// Deterministic pseudo-random input with ticks mixed in.
func determinismInput(count: Int, seed: UInt64) -> [String] {
    var state = seed
    func next() -> UInt64 {
        state = state &* 6364136223846793005 &+ 1442695040888963407
        return state >> 33
    }
    let symbols = ["IBM", "WSO2", "ORCL", "GOOG", "MSFT"]
    var lines: [String] = []
    var ts: Int64 = 1_000
    for i in 0..<count {
        ts += Int64(next() % 400)
        if i % 17 == 16 {
            lines.append(tick(ts))
            continue
        }
        let symbol = symbols[Int(next() % UInt64(symbols.count))]
        let price = Double(next() % 10_000) / 100
        lines.append(event("S", ts, "\"\(symbol)\", \(price), \(next() % 50), \(ts)"))
    }
    return lines
}

func apiInput(count: Int) -> [String] {
    let tenants = ["carbon.super", "foo.com", "bar.org"]
    return (0..<count).map { i in
        let ts = 1_700_000_000_000 + Int64(i) * 900
        return event("Request", ts, "\"web\", \"App\", \"Api\(i % 3)\", \"1.0\", \"\(tenants[i % 3])\", \(ts), \(i % 7 == 0), \((i * 7919) % 1000), \(ts)")
    }
}

@Suite struct SnapshotDeterminismTests {
    @Test(arguments: determinismApps.map(\.name))
    func restoredRunMatchesUninterruptedRun(app name: String) throws {
        let source = determinismApps.first { $0.name == name }!.source
        let lines = name == "api-analytics" ? apiInput(count: 300) : determinismInput(count: 300, seed: 42)
        var full: [String] = []
        let reference = try PlaybackRunner(source: source) { full.append($0) }
        for (i, line) in lines.enumerated() { try reference.feed(line: line, number: i + 1) }
        #expect(full.count > 50)
        if name == "counts-sequences-absences" {
            for stream in ["C1", "C2", "C3", "C4", "C5"] {
                #expect(full.contains { $0.contains("\"stream\":\"\(stream)\"") }, "\(stream) never matched")
            }
        }

        for cut in [1, 97, 151, 299] {
            var output: [String] = []
            let first = try PlaybackRunner(source: source) { output.append($0) }
            for (i, line) in lines[..<cut].enumerated() { try first.feed(line: line, number: i + 1) }
            let blob = first.runtime.snapshot()
            let second = try PlaybackRunner(source: source) { output.append($0) }
            try second.runtime.restore(blob)
            for (i, line) in lines[cut...].enumerated() { try second.feed(line: line, number: cut + i + 1) }
            let firstDifference = zip(output, full).enumerated().first { $0.element.0 != $0.element.1 }?.offset ?? min(output.count, full.count)
            #expect(output.count == full.count && firstDifference == full.count, Comment(rawValue:
                    "cut at \(cut): first difference at output line \(firstDifference): \(firstDifference < output.count ? output[firstDifference] : "<end>") vs \(firstDifference < full.count ? full[firstDifference] : "<end>")"))
            // The snapshot of a restored runtime is the snapshot it was restored from.
            let third = try PlaybackRunner(source: source) { _ in }
            try third.runtime.restore(blob)
            #expect(third.runtime.snapshot() == blob)
        }
    }

    @Test func snapshotOfAnotherAppIsRefused() throws {
        let a = try AppRuntime(source: "define stream S (a int);\nfrom S select a insert into Out;")
        let b = try AppRuntime(source: "define stream S (a int);\nfrom S#window.length(2) select a insert into Out;")
        #expect(throws: RuntimeError.self) { try b.restore(a.snapshot()) }
        #expect(throws: RuntimeError.self) { try b.restore([1, 2, 3]) }
    }
}
