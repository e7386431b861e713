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
        let received = collectRows(subscriber, count: 2)

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

/// A sink whose destination is down holds the output and back-pressures; nothing is lost once it is up.
@Suite(.serialized) struct TcpSinkOutageTests {
    @Test func outputWaitsForADownDestinationAndArrivesWhenItIsUp() async throws {
        let port = try await freePort()

        let upstream = try Node(configuration: NodeConfiguration(nodeID: "a", port: 0, appSource: """
        define stream Request (id long);
        @sink(type='tcp', url='tcp://127.0.0.1:\(port)/Ids', @map(type='binary'))
        define stream Forward (id long);
        from Request select id insert into Forward;
        """))
        let upstreamPort = try await upstream.start()
        let producer = try Producer(endpoints: [Endpoint(host: "127.0.0.1", port: upstreamPort)],
                                    streams: [EventSchema("Request", [("id", .long)])], maxInFlight: 4)
        try await producer.connect()
        // 200 one-event batches: more than the sink's room (64) plus the producer's credit.
        let sending = Task {
            for i in 0..<200 {
                var b = EventBatch(types: [.long])
                b.append(timestamp: Int64(i), values: [.long(Int64(i))])
                try await producer.enqueue(stream: "Request", batch: b)
            }
            try await producer.flush()
        }
        try await Task.sleep(for: .milliseconds(500))
        let appliedWhileDown = upstream.status().batchesIn
        #expect(appliedWhileDown < 200, "the engine kept taking batches with its sink down")

        let downstream = try Node(configuration: NodeConfiguration(nodeID: "b", port: port, appSource: """
        @source(type='tcp', @map(type='binary'))
        define stream Ids (id long);
        from Ids select id insert into Seen;
        """))
        _ = try await downstream.start()
        try await sending.value
        await producer.close()
        // Everything reaches the downstream node once it is up.
        for _ in 0..<100 where downstream.status().eventsIn < 200 { try await Task.sleep(for: .milliseconds(50)) }
        #expect(downstream.status().eventsIn == 200)
        try await upstream.shutdown()
        try await downstream.shutdown()
    }
}
