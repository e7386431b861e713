import SluiceClient
import SluiceCore
import SluiceServer
import Testing

/// A query's output reaches another node through `@sink(type='tcp', …)`.
@Suite(.serialized) struct TcpSinkTests {
    @Test func outputFlowsToTheNextNode() async throws {
        let downstream = try Node(configuration: NodeConfiguration(nodeID: "b", port: 0, appSource: """
        @source(type='tcp', @map(type='binary'))
        define stream Slow (tenant string, responseTime long);
        from Slow select tenant, count() as n group by tenant insert into SlowCounts;
        """))
        let downstreamPort = try await downstream.start()
        let upstream = try Node(configuration: NodeConfiguration(nodeID: "a", port: 0, appSource: """
        define stream Request (tenant string, responseTime long);
        @sink(type='tcp', url='tcp://127.0.0.1:\(downstreamPort)/Slow', @map(type='binary'))
        define stream SlowRequest (tenant string, responseTime long);
        from Request[responseTime > 500] select tenant, responseTime insert into SlowRequest;
        """))
        let upstreamPort = try await upstream.start()

        let subscriber = Subscriber(endpoint: Endpoint(host: "127.0.0.1", port: downstreamPort), stream: "SlowCounts")
        _ = try await subscriber.connect()
        let received = Task {
            var rows: [[Value]] = []
            for try await batch in subscriber {
                for r in 0..<batch.count { rows.append(batch.values(at: r)) }
                if rows.count >= 2 { break }
            }
            return rows
        }

        let producer = try Producer(endpoints: [Endpoint(host: "127.0.0.1", port: upstreamPort)],
                                    streams: [EventSchema("Request", [("tenant", .string), ("responseTime", .long)])])
        try await producer.connect()
        var batch = EventBatch(types: [.string, .long])
        for (i, (t, rt)) in [("a", 900), ("b", 100), ("a", 700), ("c", 800)].enumerated() {
            batch.append(timestamp: Int64(1000 + i), values: [.string(t), .long(Int64(rt))])
        }
        try await producer.send(stream: "Request", batch: batch)
        await producer.close()

        // The upstream sent its three slow requests as one chunk: the last count per tenant.
        let rows = try await received.value
        #expect(rows == [[.string("a"), .long(2)], [.string("c"), .long(1)]])
        await subscriber.close()
        try await upstream.shutdown()
        try await downstream.shutdown()
    }

    @Test func badSinkUrlIsADeployError() {
        #expect(throws: Diagnostic.self) {
            _ = try Node(configuration: NodeConfiguration(port: 0, appSource: """
            @sink(type='tcp', url='http://x/Y')
            define stream S (a int);
            """))
        }
    }
}
