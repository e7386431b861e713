import Foundation
import NIOCore
import NIOPosix
import ServiceLifecycle
import SluiceCore
import SluiceServer
import SluiceTransport
import SluiceWire
import Testing

/// A bare HTTP/1.1 GET over NIO: enough for the admin port without an HTTP client package.
struct HTTPGet {
    var status: Int
    var headers: [String: String]
    var body: String

    init(port: Int, path: String, group: any EventLoopGroup) async throws {
        let channel = try await ClientBootstrap(group: group).connect(host: "127.0.0.1", port: port) { channel in
            channel.eventLoop.makeCompletedFuture {
                try NIOAsyncChannel<ByteBuffer, ByteBuffer>(wrappingChannelSynchronously: channel)
            }
        }
        let raw = try await channel.executeThenClose { inbound, outbound in
            try await outbound.write(ByteBuffer(string: "GET \(path) HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n"))
            var all = ByteBuffer()
            for try await chunk in inbound { all.writeImmutableBuffer(chunk) }
            return String(buffer: all)
        }
        let parts = raw.components(separatedBy: "\r\n\r\n")
        let head = parts[0].components(separatedBy: "\r\n")
        status = Int(head[0].split(separator: " ")[1]) ?? 0
        var headers: [String: String] = [:]
        for line in head.dropFirst() {
            guard let colon = line.firstIndex(of: ":") else { continue }
            headers[line[..<colon].lowercased()] = line[line.index(after: colon)...].trimmingCharacters(in: .whitespaces)
        }
        self.headers = headers
        body = parts.dropFirst().joined(separator: "\r\n\r\n")
    }

    var json: [String: Any] {
        (try? JSONSerialization.jsonObject(with: Data(body.utf8))) as? [String: Any] ?? [:]
    }
}

@Suite(.serialized) struct AdminTests {
    static let app = """
    @app:name('TenantStats')
    define stream Request (tenant string, responseTime long);
    from Request select tenant, responseTime insert into Out;
    """

    /// A started node, its admin server in a running `ServiceGroup`, and a client event loop.
    func withAdmin(placement: NodePlacement = NodePlacement(), app: String = Self.app,
                   _ body: (_ nodePort: Int, _ adminPort: Int, EventLoopGroup) async throws -> Void) async throws {
        let node = try Node(configuration: NodeConfiguration(nodeID: "n1", port: 0, appSource: app))
        let nodePort = try await node.start()
        let admin = AdminServer(node: node, configuration: AdminConfiguration(port: 0, listenAddress: "127.0.0.1:\(nodePort)",
                                                                              placement: placement))
        let services = ServiceGroup(services: [admin], logger: .init(label: "test"))
        let group = MultiThreadedEventLoopGroup(numberOfThreads: 1)
        async let running: Void = services.run()
        do {
            try await body(nodePort, try await admin.port(), group)
        } catch {
            await services.triggerGracefulShutdown()
            try? await running
            try? await node.shutdown()
            try? await group.shutdownGracefully()
            throw error
        }
        await services.triggerGracefulShutdown()
        try await running
        try await node.shutdown()
        try await group.shutdownGracefully()
    }

    @Test func healthIsOK() async throws {
        try await withAdmin { _, adminPort, group in
            let response = try await HTTPGet(port: adminPort, path: "/health", group: group)
            #expect(response.status == 200)
            #expect(response.headers["content-type"] == "application/json")
            #expect(response.body == #"{"status":"ok"}"#)
        }
    }

    /// `POST /query` runs on-demand queries on the engine's thread: writes, then finds, and a
    /// malformed query is a 400 naming where it went wrong.
    @Test func onDemandQueries() async throws {
        let app = """
        @app:name('Prices')
        define stream Price (symbol string, price double);
        @PrimaryKey('symbol')
        define table Latest (symbol string, price double);
        from Price update or insert into Latest set Latest.price = price on Latest.symbol == symbol;
        """
        try await withAdmin(app: app) { _, adminPort, _ in
            let client = AdminClient(timeout: .seconds(5))
            let address = HostPort(host: "127.0.0.1", port: adminPort)
            for (s, p) in [("A", 1.5), ("B", 2.0)] {
                let written = try await client.post(address, path: "/query", body: "select '\(s)' as symbol, \(p) as price insert into Latest")
                #expect(written.status == 200)
                #expect(written.body == #"{"attributes":[],"records":[]}"#)
            }
            let found = try await client.post(address, path: "/query", body: "from Latest on price > 1.0 select symbol, price order by price desc")
            #expect(found.status == 200)
            #expect(found.body == #"{"attributes":[{"name":"symbol","type":"string"},{"name":"price","type":"double"}],"records":[["B",2.0],["A",1.5]]}"#)
            let bad = try await client.post(address, path: "/query", body: "from Latest select nope")
            #expect(bad.status == 400)
            #expect(bad.body == #"{"error":"1:20: attribute 'nope' is not defined"}"#)
        }
    }

    @Test func unknownPathsAre404() async throws {
        try await withAdmin { _, adminPort, group in
            let response = try await HTTPGet(port: adminPort, path: "/nope", group: group)
            #expect(response.status == 404)
        }
    }

    @Test func statusAndMetricsFollowTheNode() async throws {
        try await withAdmin { nodePort, adminPort, group in
            let before = try await HTTPGet(port: adminPort, path: "/status", group: group)
            #expect(before.status == 200)
            let status = before.json
            #expect(status["nodeID"] as? String == "n1")
            #expect(status["app"] as? String == "TenantStats")
            #expect(status["inputStreams"] as? [String] == ["Request"])
            #expect(status["outputStreams"] as? [String] == ["Out"])
            #expect(status["eventsIn"] as? Int == 0)
            #expect(status["listen"] as? String == "127.0.0.1:\(nodePort)")
            #expect(status["admin"] as? String == "127.0.0.1:\(adminPort)")
            #expect((status["uptimeSeconds"] as? Double ?? -1) >= 0)
            #expect(status["role"] as? String == "standalone")
            #expect(status["tier"] == nil && status["group"] == nil && status["term"] == nil)
            #expect(status["backlog"] as? Int == 0)

            // A subscriber to Out (events out count deliveries) and three events from a producer;
            // both stay connected while we scrape.
            let subscriber = try await TestConnection(port: nodePort, group: group)
            try await subscriber.send(TestConnection.hello(role: .subscriber))
            _ = try #require(await subscriber.next())
            var subscribe = Sluice_V1_Subscribe()
            subscribe.stream = "Out"
            subscribe.initialCredit = 16
            try await subscriber.send(ControlMessage.subscribe(subscribe))
            _ = try #require(await subscriber.next()).message(as: Sluice_V1_Welcome.self)
            let producer = try await TestConnection(port: nodePort, group: group)
            let schema = WireSchema.message(name: "Request", attributes: [("tenant", .string), ("responseTime", .long)])
            try await producer.send(TestConnection.hello(role: .producer, producer: 1, streams: [schema]))
            let welcome = try #require(await producer.next()).message(as: Sluice_V1_Welcome.self)
            var batch = EventBatch(types: [.string, .long])
            for i in 0..<3 { batch.append(timestamp: 1000 + Int64(i), values: [.string("t\(i)"), .long(Int64(i))]) }
            try await producer.send(TestConnection.batch(batch, stream: try #require(welcome.streams.first).streamID,
                                                         producer: 1, sequence: 1))
            _ = try #require(await producer.next()).message(as: Sluice_V1_Ack.self)

            // The engine thread applies the batch after the ack; wait for it, bounded.
            var after: [String: Any] = [:]
            for _ in 0..<200 {
                after = try await HTTPGet(port: adminPort, path: "/status", group: group).json
                if after["eventsOut"] as? Int == 3 { break }
                try await Task.sleep(for: .milliseconds(10))
            }
            #expect(after["eventsIn"] as? Int == 3)
            #expect(after["eventsOut"] as? Int == 3)
            #expect(after["batchesIn"] as? Int == 1)
            #expect(after["connections"] as? Int == 2)

            let metrics = try await HTTPGet(port: adminPort, path: "/metrics", group: group)
            #expect(metrics.status == 200)
            #expect(metrics.headers["content-type"]?.hasPrefix("text/plain") == true)
            let labels = #"{node="n1",app="TenantStats"}"#
            let lines = Set(metrics.body.split(separator: "\n").map(String.init))
            #expect(lines.contains("# TYPE sluice_events_in_total counter"))
            #expect(lines.contains("sluice_events_in_total\(labels) 3"))
            #expect(lines.contains("sluice_events_out_total\(labels) 3"))
            #expect(lines.contains("sluice_batches_in_total\(labels) 1"))
            #expect(lines.contains("# TYPE sluice_connections gauge"))
            #expect(lines.contains("sluice_connections\(labels) 2.0"))

            // A second scrape adds nothing new: counters follow the node's totals, not the scrapes.
            let again = try await HTTPGet(port: adminPort, path: "/metrics", group: group)
            #expect(again.body.contains("sluice_events_in_total\(labels) 3\n"))
            await producer.close()
            await subscriber.close()
        }
    }

    @Test func statusCarriesThePlacementFromTheConfig() async throws {
        let config = try NodeConfigFile.parse(yaml: """
            node: { id: a1, listen: 127.0.0.1:1, tier: stateful, dataDir: /tmp/a1 }
            cluster: { enabled: true, groupId: g1, peer: 127.0.0.1:2 }
            groups: { g1: [127.0.0.1:1, 127.0.0.1:2] }
            apps: [a.siddhi]
            """, file: "node.yaml", baseDirectory: "/") { _ in true }
        try await withAdmin(placement: NodePlacement(config: config)) { _, adminPort, group in
            let status = try await HTTPGet(port: adminPort, path: "/status", group: group).json
            #expect(status["tier"] as? String == "stateful")
            #expect(status["group"] as? String == "g1")
            #expect(status["role"] as? String == "member")
        }
    }

    /// The command's arrangement: node then admin in one group; graceful shutdown stops both.
    @Test func nodeAndAdminShutDownGracefullyTogether() async throws {
        let node = try Node(configuration: NodeConfiguration(port: 0, appSource: Self.app))
        let admin = AdminServer(node: node, configuration: AdminConfiguration(port: 0, listenAddress: "127.0.0.1:0"))
        let services = ServiceGroup(services: [node, admin], logger: .init(label: "test"))
        let group = MultiThreadedEventLoopGroup(numberOfThreads: 1)
        async let running: Void = services.run()
        let port = try await admin.port()
        let health = try await HTTPGet(port: port, path: "/health", group: group)
        #expect(health.status == 200)
        await services.triggerGracefulShutdown()
        try await running
        await #expect(throws: (any Error).self) { try await HTTPGet(port: port, path: "/health", group: group) }
        try await group.shutdownGracefully()
    }

    @Test func aTakenPortFailsTheServiceAndItsWaiters() async throws {
        let node = try Node(configuration: NodeConfiguration(port: 0, appSource: Self.app))
        try await node.start()
        let first = AdminServer(node: node, configuration: AdminConfiguration(port: 0, listenAddress: "-"))
        let firstGroup = ServiceGroup(services: [first], logger: .init(label: "test"))
        async let firstRunning: Void = firstGroup.run()
        let taken = try await first.port()

        let second = AdminServer(node: node, configuration: AdminConfiguration(port: taken, listenAddress: "-"))
        await #expect(throws: (any Error).self) { try await second.run() }
        await #expect(throws: (any Error).self) { try await second.port() }

        await firstGroup.triggerGracefulShutdown()
        try await firstRunning
        try await node.shutdown()
    }
}
