import Foundation
import Synchronization
import SluiceClient
import SluiceCore
import SluiceServer
import Testing

/// A free loopback port for a node that a test starts later. It is taken below the kernel's
/// ephemeral range (32768 and up here), so that a test binding port 0 in parallel cannot be handed
/// it meanwhile, and never twice in one run.
func freePort() async throws -> Int {
    while true {
        let port = Int.random(in: 20_000..<32_000)
        let fresh = handedOutPorts.withLock { $0.insert(port).inserted }
        if fresh, PortProbe.problem(binding: HostPort(host: "127.0.0.1", port: port)) == nil { return port }
    }
}

private let handedOutPorts = Mutex<Set<Int>>([])

/// A Sluice node taking `stream` over JSON/HTTP on `httpPort` and republishing its rows on `Received`.
func httpReceiver(httpPort: Int, stream: String, attributes: String, select: String) throws -> Node {
    try Node(configuration: NodeConfiguration(nodeID: "receiver-\(httpPort)", port: 0, appSource: """
    @source(type='http', receiver.url='http://127.0.0.1:\(httpPort)/\(stream)', @map(type='json'))
    define stream \(stream) (\(attributes));
    from \(stream) select \(select) insert into Received;
    """))
}

/// Connects a subscriber to `Received` on a node and collects `count` rows.
func received(on node: Node, port: Int, count: Int) async throws -> (Subscriber, Task<[[Value]], Error>) {
    let subscriber = Subscriber(endpoint: Endpoint(host: "127.0.0.1", port: port), stream: "Received")
    _ = try await subscriber.connect()
    return (subscriber, collectRows(subscriber, count: count))
}

/// Waits for `task` at most `seconds`; on time-out cancels it and throws, rather than waiting on.
func value<T: Sendable>(of task: Task<T, Error>, within seconds: Double) async throws -> T {
    let outcome = Outcome<T>()
    Task {
        let r = await task.result
        outcome.lock.withLock { outcome.result = r }
    }
    let deadline = ContinuousClock.now + .seconds(seconds)
    while ContinuousClock.now < deadline {
        if let r = outcome.lock.withLock({ outcome.result }) { return try r.get() }
        try await Task.sleep(for: .milliseconds(10))
    }
    task.cancel()
    throw TimeoutError(seconds: seconds)
}

final class Outcome<T>: @unchecked Sendable {
    let lock = NSLock()
    var result: Result<T, Error>?
}

struct TimeoutError: Error, CustomStringConvertible {
    var seconds: Double
    var description: String { "nothing within \(seconds) s" }
}

@Suite(.serialized) struct DistributedSinkTests {
    static var repository: URL { URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent() }

    /// The seed's Request app, with its http sink as written, partitions events by tenant over two
    /// real HTTP receivers: every tenant reaches exactly one, the one the documented hash names.
    @Test func seedRequestAppPartitionsOverTwoHTTPReceivers() async throws {
        let (p1, p2) = (try await freePort(), try await freePort())
        let attributes = RequestGenerator.attributes.map { "\($0.0) \($0.1)" }.joined(separator: ", ")
        let receivers = [try httpReceiver(httpPort: p1, stream: "Request", attributes: attributes, select: "userTenantDomain, requestTimestamp"),
                         try httpReceiver(httpPort: p2, stream: "Request", attributes: attributes, select: "userTenantDomain, requestTimestamp")]
        var ports: [Int] = []
        for r in receivers { ports.append(try await r.start()) }

        let seedApp = try String(contentsOf: Self.repository.appendingPathComponent("examples/seed-request/app-fixed.siddhi"), encoding: .utf8)
        let app = seedApp.replacingOccurrences(of: "Ip1:8009", with: "127.0.0.1:\(p1)")
            .replacingOccurrences(of: "Ip2:8009", with: "127.0.0.1:\(p2)")
        let partitioner = try Node(configuration: NodeConfiguration(nodeID: "partitioner", port: 0, appSource: app))
        let port = try await partitioner.start()

        var generator = RequestGenerator()
        let events = generator.batch(2_000)
        let map = PartitionMap(destinations: ["http://127.0.0.1:\(p1)/Request", "http://127.0.0.1:\(p2)/Request"])
        let tenantColumn = 12
        var expected: [[String]] = [[], []]
        for row in 0..<events.count {
            let tenant = events.columns[tenantColumn].string(at: row)
            expected[map.destination(of: .string(tenant))].append(tenant)
        }
        #expect(!expected[0].isEmpty && !expected[1].isEmpty)
        var collectors: [(Subscriber, Task<[[Value]], Error>)] = []
        for (i, r) in receivers.enumerated() { collectors.append(try await received(on: r, port: ports[i], count: expected[i].count)) }

        let producer = try Producer(endpoints: [Endpoint(host: "127.0.0.1", port: port)], streams: [RequestGenerator.schema()])
        try await producer.connect()
        var start = 0
        while start < events.count {
            let end = min(start + 250, events.count)
            try await producer.send(stream: "Request", batch: events.gather(Array(start..<end)))
            start = end
        }
        for i in 0..<2 {
            let rows = try await value(of: collectors[i].1, within: 20)
            #expect(rows.map { $0[0] } == expected[i].map { .string($0) }, "receiver \(i) gets its tenants, in order")
        }
        #expect(Set(expected[0]).isDisjoint(with: Set(expected[1])), "a tenant never spreads over both")
        await producer.close()
        for (s, _) in collectors { await s.close() }
        try await partitioner.shutdown()
        for r in receivers { try await r.shutdown() }
    }

    /// A receiver that is down stalls only its own keys: the other receiver's keys flow, and
    /// once it is up it gets all of its events, once each.
    @Test func downReceiverStallsOnlyItsKeysAndCatchesUpWithoutLoss() async throws {
        let (p1, p2) = (try await freePort(), try await freePort())
        let up = try httpReceiver(httpPort: p1, stream: "Hit", attributes: "tenant string, id long", select: "tenant, id")
        let upPort = try await up.start()
        let url1 = "http://127.0.0.1:\(p1)/Hit", url2 = "http://127.0.0.1:\(p2)/Hit"
        let partitioner = try Node(configuration: NodeConfiguration(nodeID: "partitioner", port: 0, appSource: """
        @sink(type='http', @map(type='json'),
              @distribution(strategy='partitioned', partitionKey='tenant',
                  @destination(publisher.url='\(url1)'), @destination(publisher.url='\(url2)')))
        define stream Hit (tenant string, id long);
        """))
        let port = try await partitioner.start()
        let map = PartitionMap(destinations: [url1, url2])
        var batch = EventBatch(types: [.string, .long])
        var expected: [[Int64]] = [[], []]
        for i in 0..<400 {
            let tenant = PartitionTestKeys[i % 50]
            batch.append(timestamp: Int64(i), values: [.string(tenant), .long(Int64(i))])
            expected[map.destination(of: .string(tenant))].append(Int64(i))
        }
        let (s1, flowing) = try await received(on: up, port: upPort, count: expected[0].count)
        let producer = try Producer(endpoints: [Endpoint(host: "127.0.0.1", port: port)],
                                    streams: [EventSchema("Hit", [("tenant", .string), ("id", .long)])])
        try await producer.connect()
        for start in stride(from: 0, to: 400, by: 40) {
            try await producer.send(stream: "Hit", batch: batch.gather(Array(start..<start + 40)))
        }
        // The live receiver's keys arrive while the other receiver is down.
        #expect(try await value(of: flowing, within: 10).map { $0[1] } == expected[0].map { .long($0) })

        let down = try httpReceiver(httpPort: p2, stream: "Hit", attributes: "tenant string, id long", select: "tenant, id")
        let downPort = try await down.start()
        let (s2, caughtUp) = try await received(on: down, port: downPort, count: expected[1].count)
        #expect(try await value(of: caughtUp, within: 15).map { $0[1] } == expected[1].map { .long($0) })
        try await Task.sleep(for: .milliseconds(200))
        #expect(down.counters.eventsIn == expected[1].count, "nothing twice")
        await producer.close()
        await s1.close()
        await s2.close()
        try await partitioner.shutdown()
        try await up.shutdown()
        try await down.shutdown()
    }

    /// on.error='STREAM': events no destination takes go to the fault stream `!Out`.
    @Test func failedEventsReachTheFaultStream() async throws {
        let dead = try await freePort()
        let node = try Node(configuration: NodeConfiguration(nodeID: "faulty", port: 0, appSource: """
        define stream Input (id long);
        @sink(type='http', publisher.url='http://127.0.0.1:\(dead)/Out', on.error='STREAM', @map(type='json'))
        define stream Out (id long);
        from Input select id insert into Out;
        from !Out select id, _error insert into Failed;
        """))
        let port = try await node.start()
        let subscriber = Subscriber(endpoint: Endpoint(host: "127.0.0.1", port: port), stream: "Failed")
        _ = try await subscriber.connect()
        let failed = collectRows(subscriber, count: 2)
        let producer = try Producer(endpoints: [Endpoint(host: "127.0.0.1", port: port)], streams: [EventSchema("Input", [("id", .long)])])
        try await producer.send(stream: "Input", values: [.long(1)], timestamp: 1)
        try await producer.send(stream: "Input", values: [.long(2)], timestamp: 2)
        let rows = try await value(of: failed, within: 10)
        #expect(rows.map { $0[0] } == [.long(1), .long(2)])
        guard case .string(let reason) = rows[0][1] else { Issue.record("\(rows)"); return }
        #expect(reason.contains("http://127.0.0.1:\(dead)/Out"))
        await producer.close()
        await subscriber.close()
        try await node.shutdown()
    }

    /// A group destination goes to its first member that answers (until HA elects leaders).
    @Test func groupDestinationFailsOverToTheNextMember() async throws {
        let dead = try await freePort()
        let downstream = try Node(configuration: NodeConfiguration(nodeID: "b", port: 0, appSource: """
        define stream Ids (id long);
        from Ids select id insert into Received;
        """))
        let live = try await downstream.start()
        let upstream = try Node(configuration: NodeConfiguration(nodeID: "a", port: 0, appSource: """
        @sink(type='tcp', @map(type='binary'),
              @distribution(strategy='roundRobin', @destination(group='g1')))
        define stream Ids (id long);
        """, groups: ["g1": [HostPort(host: "127.0.0.1", port: dead), HostPort(host: "127.0.0.1", port: live)]]))
        let port = try await upstream.start()
        let (subscriber, rows) = try await received(on: downstream, port: live, count: 3)
        let producer = try Producer(endpoints: [Endpoint(host: "127.0.0.1", port: port)], streams: [EventSchema("Ids", [("id", .long)])])
        for i in 1...3 { try await producer.send(stream: "Ids", values: [.long(Int64(i))], timestamp: Int64(i)) }
        #expect(try await value(of: rows, within: 15).map { $0[0] } == [.long(1), .long(2), .long(3)])
        await producer.close()
        await subscriber.close()
        try await upstream.shutdown()
        try await downstream.shutdown()
    }

    @Test func sinkDeclarationErrorsAreDeployErrors() {
        for app in [
            "@sink(type='http', @map(type='json')) define stream S (a int);",
            "@sink(type='http', publisher.url='http://x:1/S', on.error='RETRY') define stream S (a int);",
            "@sink(type='http', @distribution(strategy='partitioned', partitionKey='b', @destination(publisher.url='http://x:1/S'))) define stream S (a int);",
            "@sink(type='http', @distribution(strategy='random', @destination(publisher.url='http://x:1/S'))) define stream S (a int);",
            "@sink(type='tcp', @distribution(strategy='broadcast', @destination(group='nope'))) define stream S (a int);",
            "@sink(type='http', @distribution(strategy='broadcast', @destination(publisher.url='http://x:1/S'), @destination(publisher.url='http://x:1/S'))) define stream S (a int);",
            "from !S select a insert into T; define stream S (a int);",
        ] {
            #expect(throws: Diagnostic.self, "\(app)") { _ = try Node(configuration: NodeConfiguration(port: 0, appSource: app)) }
        }
    }
}
