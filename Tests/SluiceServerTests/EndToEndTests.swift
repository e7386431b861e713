import Foundation
import SluiceClient
import SluiceCore
import SluiceRuntime
import SluiceServer
import Testing

/// A producer in the SDK sends seed-style events to a node running a windowed per-tenant query,
/// and a subscriber receives exactly what the embedded engine computes from the same events.
@Suite(.serialized) struct EndToEndTests {
    static let app: String = {
        let url = URL(fileURLWithPath: #filePath).deletingLastPathComponent().appendingPathComponent("../../examples/seed-node/app.siddhi")
        return (try? String(contentsOf: url, encoding: .utf8)) ?? ""
    }()

    /// What the engine in this process emits for the same batches: the expected output.
    func expected(_ batches: [EventBatch]) throws -> [[Value]] {
        let runtime = try AppRuntime(source: Self.app)
        var rows: [[Value]] = []
        try runtime.addCallback(stream: "TenantStats") { b in for r in 0..<b.count { rows.append(b.values(at: r)) } }
        for b in batches { try runtime.send(b, to: "Request") }
        return rows
    }

    @Test func producerToNodeToSubscriber() async throws {
        var generator = RequestGenerator(seed: 42)
        let batches = (0..<40).map { _ in generator.batch(500) }   // 20,000 events
        let want = try expected(batches)
        #expect(want.count > 100)

        let node = try Node(configuration: NodeConfiguration(port: 0, appSource: Self.app))
        let port = try await node.start()
        let endpoint = Endpoint(host: "127.0.0.1", port: port)

        let subscriber = Subscriber(endpoint: endpoint, stream: "TenantStats")
        _ = try await subscriber.connect()
        let received = collectRows(subscriber, count: want.count)

        let producer = try Producer(endpoints: [endpoint], streams: [RequestGenerator.schema()], maxInFlight: 8)
        try await producer.connect()
        for b in batches { try await producer.enqueue(stream: "Request", batch: b) }
        try await producer.flush()
        await producer.close()

        let got = try await received.value
        #expect(got == want)
        #expect(node.status().eventsIn == 20_000)
        await subscriber.close()
        try await node.shutdown()
    }
}
