import SluiceCore
import Testing
@testable import SluiceRuntime

/// Sending a columnar batch: as one Siddhi chunk, or with each event as its own chunk.
@Suite struct BatchSendTests {
    let app = """
    define stream S (tenant string, rt long);
    from S#window.time(1 min) select tenant, avg(rt) as a, count() as n group by tenant insert into Out;
    """

    func batch() -> EventBatch {
        var b = EventBatch(types: [.string, .long])
        for (i, (t, rt)) in [("a", 10), ("b", 20), ("a", 30), ("b", 40), ("a", 50)].enumerated() {
            b.append(timestamp: Int64(1000 + i), values: [.string(t), .long(Int64(rt))])
        }
        return b
    }

    func outputs(eachEventIsAChunk: Bool) throws -> [[Value]] {
        let runtime = try AppRuntime(source: app)
        var rows: [[Value]] = []
        try runtime.addCallback(stream: "Out") { b in for r in 0..<b.count { rows.append(b.values(at: r)) } }
        try runtime.send(batch(), to: "S", eachEventIsAChunk: eachEventIsAChunk)
        return rows
    }

    @Test func oneChunkEmitsLastPerGroup() throws {
        #expect(try outputs(eachEventIsAChunk: false) == [
            [.string("a"), .double(30), .long(3)],
            [.string("b"), .double(30), .long(2)],
        ])
    }

    @Test func eachEventAChunkEmitsOnePerEvent() throws {
        #expect(try outputs(eachEventIsAChunk: true) == [
            [.string("a"), .double(10), .long(1)],
            [.string("b"), .double(20), .long(1)],
            [.string("a"), .double(20), .long(2)],
            [.string("b"), .double(30), .long(2)],
            [.string("a"), .double(30), .long(3)],
        ])
    }

    @Test func batchOfWrongSchemaIsRefused() throws {
        let runtime = try AppRuntime(source: app)
        #expect(throws: RuntimeError.self) { try runtime.send(EventBatch(types: [.long]), to: "S") }
        #expect(throws: RuntimeError.self) { try runtime.send(batch(), to: "Nope") }
    }
}
