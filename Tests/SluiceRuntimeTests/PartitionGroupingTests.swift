import SluiceCore
import SluiceQL
import Testing
@testable import SluiceRuntime

/// A partition whose queries emit the same events however a key's rows are chunked splits each
/// arriving batch once per key. Per key its output must equal Siddhi's event-at-a-time output;
/// other partitions keep Siddhi's runs of consecutive keys exactly.
@Suite struct PartitionGroupingTests {
    static let stream = "define stream S (symbol string, price double, volume long, ts long, venue string);\n"

    static func partitioned(_ queries: String) -> String {
        stream + "partition with (symbol of S)\nbegin\n" + queries + "\nend;\n"
    }

    /// Seeded rows with interleaved keys (a few null keys among them).
    static func rows(count: Int, seed: UInt64) -> [(ts: Int64, values: [Value])] {
        var state = seed
        func next() -> UInt64 {
            state = state &* 6364136223846793005 &+ 1442695040888963407
            return state >> 33
        }
        let symbols = ["IBM", "WSO2", "ORCL", "GOOG", "MSFT", "AAPL", "SAP"]
        var ts: Int64 = 1_000
        return (0..<count).map { _ in
            ts += Int64(next() % 300)
            let symbol: Value = next() % 41 == 0 ? .null : .string(symbols[Int(next() % UInt64(symbols.count))])
            return (ts, [symbol, .double(Double(next() % 10_000) / 100), .long(Int64(next() % 50)), .long(ts),
                         .string("venue\(next() % 3)")])
        }
    }

    /// Sends `rows` in batches of `batchSize` and returns every output row, printed, per stream.
    static func outputs(_ app: String, _ rows: [(ts: Int64, values: [Value])], batchSize: Int,
                        split: ([(ts: Int64, values: [Value])]) -> [[(ts: Int64, values: [Value])]] = { [$0] }) throws -> [String] {
        let runtime = try AppRuntime(source: app)
        var printed: [String] = []
        for name in ["Out", "Out2"] where runtime.streams.contains(where: { $0.name == name }) {
            try runtime.addCallback(stream: name) { batch in
                for r in 0..<batch.count {
                    printed.append("\(name) \(batch.kinds[r] == .expired ? "-" : "+") \(batch.values(at: r).map(\.description).joined(separator: ","))")
                }
            }
        }
        let types = runtime.streams.first { $0.name == "S" }!.types
        var start = 0
        while start < rows.count {
            let end = min(start + batchSize, rows.count)
            for part in split(Array(rows[start..<end])) {
                var batch = EventBatch(types: types, capacity: part.count)
                for row in part { batch.append(timestamp: row.ts, values: row.values) }
                try runtime.send(batch, to: "S")
            }
            start = end
        }
        return printed
    }

    /// Output lines grouped by stream and first attribute (the partition key): the order that
    /// grouping keeps.
    static func perKey(_ lines: [String]) -> [String: [String]] {
        Dictionary(grouping: lines) { line in
            let parts = line.split(separator: " ")
            return parts[0] + " " + parts[2].split(separator: ",")[0]
        }
    }

    static let groupable: [String] = [
        "from S#window.externalTimeBatch(ts, 2 sec) select symbol, count() as n, avg(price) as a, max(volume) as m insert into Out;",
        "from S#window.lengthBatch(3) select symbol, sum(volume) as s, price insert into Out;",
        "from S#window.lengthBatch(4) select symbol, venue, count() as n group by venue order by n desc limit 2 insert all events into Out;",
        "from S[price > 20.0] select symbol, price * 2 as p, eventTimestamp() as t insert into Out;",
        "from S#window.length(3) select symbol, volume insert all events into Out;",
        """
        from S[volume > 5] select symbol, price, ts insert into #Big;
        from #Big#window.externalTimeBatch(ts, 3 sec) select symbol, count() as n, sum(price) as total insert into Out;
        """,
        """
        from S select symbol, venue, ts insert into Out2;
        from S#window.externalTimeBatch(ts, 1 sec) select symbol, distinctCount(venue) as venues insert into Out;
        """,
    ]

    @Test(arguments: groupable.indices)
    func batchesSplitPerKeyGiveEachKeysEventAtATimeOutput(query index: Int) throws {
        let app = Self.partitioned(Self.groupable[index])
        #expect(try AppRuntime(source: app).partitions[0].splitsBatchesOncePerKey)
        for seed: UInt64 in [3, 11, 2026] {
            let rows = Self.rows(count: 600, seed: seed)
            let reference = try Self.outputs(app, rows, batchSize: 1)
            #expect(reference.count > 10)
            for size in [7, 64, 600] {
                let batched = try Self.outputs(app, rows, batchSize: size)
                let same = Self.perKey(batched) == Self.perKey(reference)
                #expect(same, "seed \(seed), batches of \(size)")
            }
        }
    }

    static let runsOnly: [String] = [
        "from S select symbol, sum(price) as total, count() as n insert into Out;",
        "from S#window.length(4) select symbol, avg(price) as a insert into Out;",
        "from S#window.lengthBatch(2) select symbol, count() as n output last every 3 events insert into Out;",
        "from S select symbol, volume order by volume limit 1 insert into Out;",
        """
        from S select symbol, price insert into #P;
        from #P select symbol, max(price) as m insert into Out;
        """,
    ]

    /// Siddhi sends each run of consecutive events with one key as a chunk of its own.
    static func runs(_ part: [(ts: Int64, values: [Value])]) -> [[(ts: Int64, values: [Value])]] {
        var out: [[(ts: Int64, values: [Value])]] = []
        for row in part {
            if let last = out.last?.last, last.values[0] == row.values[0] { out[out.count - 1].append(row) } else { out.append([row]) }
        }
        return out
    }

    @Test(arguments: runsOnly.indices)
    func partitionsWhoseOutputDependsOnChunksKeepSiddhisRuns(query index: Int) throws {
        let app = Self.partitioned(Self.runsOnly[index])
        #expect(try !AppRuntime(source: app).partitions[0].splitsBatchesOncePerKey)
        let rows = Self.rows(count: 400, seed: 5)
        let reference = try Self.outputs(app, rows, batchSize: 50, split: Self.runs)
        #expect(reference.count > 10)
        #expect(try Self.outputs(app, rows, batchSize: 50) == reference)
    }

    @Test func keysOfOneBatchComeOutInTheOrderTheyFirstAppear() throws {
        let app = Self.partitioned("from S#window.lengthBatch(1) select symbol, volume insert into Out;")
        let rows: [(ts: Int64, values: [Value])] = [("B", 1), ("A", 2), ("B", 3), ("A", 4), ("C", 5)].map {
            (1_000, [.string($0.0), .double(1), .long($0.1), .long(1_000), .string("v")])
        }
        #expect(try Self.outputs(app, rows, batchSize: 5) == ["Out + B,1", "Out + B,3", "Out + A,2", "Out + A,4", "Out + C,5"])
    }

    @Test func rangePartitionsSplitOncePerRange() throws {
        let app = Self.stream + """
        partition with (price >= 50.0 as 'high' or price < 50.0 as 'low' or volume > 40 as 'bulk' of S)
        begin
            from S#window.lengthBatch(5) select symbol, count() as n, sum(volume) as v insert into Out;
        end;
        """
        let rows = Self.rows(count: 300, seed: 9)
        let reference = try Self.outputs(app, rows, batchSize: 1)
        #expect(reference.count > 10)
        // Range instances have no key column in the output: compare the outputs as a whole, in order per range
        // being interleaved differently only across ranges.
        #expect(try Self.outputs(app, rows, batchSize: 37).sorted() == reference.sorted())
    }

    @Test func onlyTheAttributesThePartitionReadsAreCopied() throws {
        let attributes = ["symbol", "price", "volume", "ts", "venue"]
        func read(_ queries: String) throws -> [Bool]? {
            let app = try SiddhiParser.parse(Self.partitioned(queries))
            guard case .partition(let p)? = app.executionElements.first else { return nil }
            return AttributeUsage.read(of: "S", attributes: attributes, by: p.queries)
        }
        #expect(try read("from S#window.externalTimeBatch(ts, 1 sec) select symbol, avg(price) as a insert into Out;")
                == [true, true, false, true, false])
        #expect(try read("from S[volume > 3] select symbol insert into #I; from #I select symbol, count() as n insert into Out;")
                == [true, false, true, false, false])
        #expect(try read("from S select * insert into Out;") == nil)
    }
}
