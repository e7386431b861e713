import Testing
@testable import SluiceRuntime

/// `cron(...)` on the engine clock, with Siddhi's CronWindowProcessor semantics: each firing time
/// emits the previous batch as expired events then the new batch, no reset, and nothing when no
/// event arrived since the last batch.
@Suite struct CronWindowTests {
    static let stream = "define stream S (symbol string, price double);\n"
    static let input = [
        event("S", 1_000, "\"A\", 10.0"), event("S", 2_000, "\"B\", 20.0"), tick(5_000),
        event("S", 6_000, "\"C\", 5.0"), tick(10_000), tick(15_000),
        event("S", 16_000, "\"D\", 7.0"), tick(20_000),
    ]

    @Test func batchesWithTheirExpiredPredecessors() throws {
        let out = try run(Self.stream + "from S#window.cron('*/5 * * * * ?') select symbol, price insert all events into Out;", Self.input)
        #expect(out == [
            "Out [\"A\",10.0]", "Out [\"B\",20.0]",
            "Out [\"A\",10.0] expired", "Out [\"B\",20.0] expired", "Out [\"C\",5.0]",
            "Out [\"C\",5.0] expired", "Out [\"D\",7.0]",
        ])
    }

    /// Siddhi's documented example: the total grows within a batch and restarts with each one.
    @Test func aggregatesRestartWithEachBatch() throws {
        let out = try run(Self.stream + "from S#window.cron('*/5 * * * * ?') select symbol, sum(price) as total insert into Out;", Self.input)
        #expect(out == ["Out [\"B\",30.0]", "Out [\"C\",5.0]", "Out [\"D\",7.0]"])
    }

    @Test func eventsAtTheFiringTimeWaitForTheNextOne() throws {
        let input = [event("S", 1_000, "\"A\", 1.0"), event("S", 5_000, "\"B\", 2.0"), event("S", 5_000, "\"C\", 3.0"), tick(10_000)]
        let out = try run(Self.stream + "from S#window.cron('*/5 * * * * ?') select symbol insert into Out;", input)
        #expect(out == ["Out [\"A\"]", "Out [\"B\"]", "Out [\"C\"]"])
        let timed = try AppRuntime(source: Self.stream + "from S#window.cron('*/5 * * * * ?') select symbol, eventTimestamp() as t insert into Out;")
        var stamps: [Int64] = []
        try timed.addCallback(stream: "Out") { b in stamps.append(contentsOf: b.columns[1].longs) }
        let s = try timed.inputHandler(for: "S")
        try s.send(timestamp: 1_000, values: [.string("A"), .double(1)])
        try s.send(timestamp: 5_000, values: [.string("B"), .double(2)])
        timed.advanceTime(to: 10_000)
        #expect(stamps == [1_000, 5_000])
    }

    /// A runtime restored mid-way (events waiting, a previous batch held) prints what the
    /// uninterrupted one does.
    @Test func snapshotRestoreContinuesTheBatches() throws {
        let app = Self.stream + "from S#window.cron('*/5 * * * * ?') select symbol, sum(price) as total insert all events into Out;"
        let steps: [(AppRuntime) throws -> Void] = [
            { try $0.inputHandler(for: "S").send(timestamp: 1_000, values: [.string("A"), .double(10)]) },
            { try $0.inputHandler(for: "S").send(timestamp: 2_000, values: [.string("B"), .double(20)]) },
            { $0.advanceTime(to: 5_000) },
            { try $0.inputHandler(for: "S").send(timestamp: 6_000, values: [.string("C"), .double(5)]) },
            { $0.advanceTime(to: 15_000) },
            { try $0.inputHandler(for: "S").send(timestamp: 16_000, values: [.string("D"), .double(7)]) },
            { $0.advanceTime(to: 20_000) },
        ]
        func printing(_ runtime: AppRuntime, into lines: UnsafeMutablePointer<[String]>) throws {
            try runtime.addCallback(stream: "Out") { b in
                for r in 0..<b.count { lines.pointee.append("\(b.kinds[r]) \(b.values(at: r))") }
            }
        }
        var whole: [String] = [], split: [String] = []
        let one = try AppRuntime(source: app)
        try printing(one, into: &whole)
        for step in steps { try step(one) }
        for cut in 1..<steps.count {
            split = []
            let first = try AppRuntime(source: app), second = try AppRuntime(source: app)
            try printing(first, into: &split)
            try printing(second, into: &split)
            for step in steps[..<cut] { try step(first) }
            try second.restore(first.snapshot())
            for step in steps[cut...] { try step(second) }
            #expect(split == whole, "cut after step \(cut)")
        }
        #expect(whole == ["current [B, 30.0]", "current [C, 5.0]", "current [D, 7.0]"])
    }

    @Test func badExpressionsAreRefusedWithTheirPlace() {
        #expect(deployError(Self.stream + "from S#window.cron('0 0 12 * * MON') select symbol insert into Out;")?.hasPrefix("2:20: window 'cron': one of day-of-month") == true)
        #expect(deployError(Self.stream + "from S#window.cron(5) select symbol insert into Out;")?.contains("constant cron expression") == true)
    }
}
