import SluiceCore
import Testing
@testable import SluiceRuntime

/// String columns in dictionary form (as the decoder and the request generator produce them)
/// must give exactly the outputs of the same rows in flat form, through every operator that reads,
/// keeps, splits or re-emits strings, including values that are equal under different codes.
@Suite struct DictionaryFormTests {
    static let apps: [String] = [
        "from S[symbol == 'IBM' or venue != 'venue1'] select * insert into Out;",
        "from S select symbol, venue, count() as n, sum(volume) as v group by symbol, venue insert into Out;",
        "from S select symbol, count() as n group by symbol insert into Out;",
        "from S select venue, count() as n, sum(volume) as v group by venue insert into Out;",
        "from S#window.length(5) select symbol, venue, max(price) as p insert all events into Out;",
        "from S#window.lengthBatch(7) select symbol, venue, volume insert all events into Out;",
        "from S#window.externalTime(ts, 2 sec) select symbol, avg(price) as a group by symbol insert all events into Out;",
        "from S#window.sort(4, venue, 'asc', symbol, 'desc') select symbol, venue insert all events into Out;",
        "from S[volume > 10] select symbol, ifThenElse(volume > 30, venue, coalesce(symbol, 'none')) as tag insert into Out;",
        """
        partition with (symbol of S)
        begin
            from S#window.externalTimeBatch(ts, 2 sec) select symbol, venue, count() as n insert into Out;
        end;
        """,
        """
        partition with (venue of S)
        begin
            from S#window.externalTimeBatch(ts, 1 sec) select venue, count() as n, max(price) as p insert into Out;
        end;
        """,
        """
        partition with (venue of S)
        begin
            from S#window.length(3) select venue, symbol, sum(volume) as v insert all events into Out;
        end;
        """,
    ]

    static let stream = "define stream S (symbol string, price double, volume long, ts long, venue string);\n"

    /// Seeded rows; a few null symbols among them.
    static func rows(_ count: Int, seed: UInt64) -> [(ts: Int64, values: [Value])] {
        var rng = SplitMix64(seed: seed)
        let symbols = ["IBM", "WSO2", "ORCL", "", "a much longer symbol than fifteen bytes"]
        var ts: Int64 = 1_000
        return (0..<count).map { _ in
            ts += Int64(rng.below(400))
            let symbol: Value = rng.below(29) == 0 ? .null : .string(symbols[rng.below(symbols.count)])
            return (ts, [symbol, .double(Double(rng.below(10_000)) / 100), .long(Int64(rng.below(50))), .long(ts),
                         .string("venue\(rng.below(3))")])
        }
    }

    /// The batch with each string column in dictionary form; every value is in the dictionary
    /// twice, and rows pick either copy.
    static func coded(_ batch: EventBatch, seed: UInt64) -> EventBatch {
        var rng = SplitMix64(seed: seed)
        var out = batch
        for c in batch.columns.indices where batch.types[c] == .string {
            let lane = batch.columns[c].strings
            var distinct: [String] = []
            var index: [String: Int] = [:]
            for row in 0..<lane.count where index[lane[row]] == nil {
                index[lane[row]] = distinct.count
                distinct.append(lane[row])
            }
            let values = StringLane(distinct + distinct)
            let codes = (0..<lane.count).map { UInt32(index[lane[$0]]! + (rng.below(2) == 0 ? 0 : distinct.count)) }
            var column = Column(strings: StringLane(values: values, codes: codes))
            column.nulls = batch.columns[c].nulls
            out.columns[c] = column
        }
        return out
    }

    static func outputs(_ app: String, batches: [EventBatch]) throws -> [String] {
        let runtime = try AppRuntime(source: stream + app)
        var printed: [String] = []
        try runtime.addCallback(stream: "Out") { batch in
            for r in 0..<batch.count {
                printed.append("\(batch.kinds[r] == .expired ? "-" : "+") \(batch.values(at: r).map(\.description).joined(separator: ","))")
            }
        }
        for batch in batches { try runtime.send(batch, to: "S") }
        return printed
    }

    @Test(arguments: apps.indices)
    func dictionaryFormGivesTheFlatOutputs(app: Int) throws {
        for seed: UInt64 in [1, 2] {
            let rows = Self.rows(600, seed: seed)
            var flat: [EventBatch] = []
            for start in stride(from: 0, to: rows.count, by: 97) {
                var batch = EventBatch(types: [.string, .double, .long, .long, .string])
                for row in rows[start..<min(start + 97, rows.count)] { batch.append(timestamp: row.ts, values: row.values) }
                flat.append(batch)
            }
            let coded = flat.enumerated().map { Self.coded($0.element, seed: seed &+ UInt64($0.offset)) }
            #expect(coded.allSatisfy { $0.columns[0].strings.valueCodes != nil })
            let expected = try Self.outputs(Self.apps[app], batches: flat)
            #expect(!expected.isEmpty)
            #expect(try Self.outputs(Self.apps[app], batches: coded) == expected, "app \(app), seed \(seed)")
        }
    }
}
