import NIOCore
import NIOPosix
import SluiceCore
import SluiceRuntime
import SluiceServer
import SluiceTransport
import SluiceWire
import Testing

@Suite(.serialized) struct NodeTests {
    static let app = """
    define stream Request (tenant string, responseTime long);
    partition with (tenant of Request)
    begin
        from Request#window.length(3)
        select tenant, count() as n, avg(responseTime) as avgRt
        insert into TenantStats;
    end;
    """

    static let schema = WireSchema.message(name: "Request", attributes: [("tenant", .string), ("responseTime", .long)])

    func requests(_ values: [(String, Int64)], from ts: Int64 = 1000) -> EventBatch {
        var b = EventBatch(types: [.string, .long])
        for (i, v) in values.enumerated() { b.append(timestamp: ts + Int64(i), values: [.string(v.0), .long(v.1)]) }
        return b
    }

    func withNode(_ body: (Int, EventLoopGroup) async throws -> Void) async throws {
        let node = try Node(configuration: NodeConfiguration(port: 0, appSource: Self.app, credit: 4))
        let port = try await node.start()
        let group = MultiThreadedEventLoopGroup(numberOfThreads: 1)
        do {
            try await body(port, group)
        } catch {
            try? await node.shutdown()
            try? await group.shutdownGracefully()
            throw error
        }
        try await node.shutdown()
        try await group.shutdownGracefully()
    }

    @Test func producerBatchesAreAckedAndSubscribersGetOutputs() async throws {
        try await withNode { port, group in
            let sub = try await TestConnection(port: port, group: group)
            try await sub.send(TestConnection.hello(role: .subscriber))
            #expect(await sub.next()?.kind == .welcome)
            var s = Sluice_V1_Subscribe()
            s.stream = "TenantStats"
            s.initialCredit = 16
            try await sub.send(ControlMessage.subscribe(s))
            let binding = try #require(await sub.next()).message(as: Sluice_V1_Welcome.self)
            #expect(binding.streams.first?.schema.name == "TenantStats")

            let producer = try await TestConnection(port: port, group: group)
            try await producer.send(TestConnection.hello(role: .producer, producer: 9, streams: [Self.schema]))
            let welcome = try #require(await producer.next()).message(as: Sluice_V1_Welcome.self)
            #expect(welcome.initialCredit == 4)
            let streamID = try #require(welcome.streams.first).streamID
            try await producer.send(TestConnection.batch(requests([("a", 10), ("b", 20), ("a", 30)]), stream: streamID, producer: 9, sequence: 1))
            let ack = try #require(await producer.next()).message(as: Sluice_V1_Ack.self)
            #expect(ack.sequence == 1 && ack.producerID == 9)

            // A resent batch is acknowledged again and not applied twice.
            try await producer.send(TestConnection.batch(requests([("a", 10), ("b", 20), ("a", 30)]), stream: streamID, producer: 9, sequence: 1))
            #expect(try #require(await producer.next()).message(as: Sluice_V1_Ack.self).sequence == 1)

            var rows: [[Value]] = []
            while rows.count < 3 {
                let frame = try #require(await sub.next())
                let (_, batch) = try BatchCodec.decode(frame.payload, schema: [.string, .long, .double])
                for r in 0..<batch.count { rows.append(batch.values(at: r)) }
            }
            #expect(rows == [[.string("a"), .long(1), .double(10)], [.string("b"), .long(1), .double(20)],
                             [.string("a"), .long(2), .double(20)]])
            await producer.close()
            await sub.close()
        }
    }

    @Test func onlyTcpSourcesTakeBinaryBatchesWhenSourcesAreDeclared() async throws {
        let app = """
        @source(type='tcp', @map(type='binary'))
        define stream Request (tenant string, responseTime long);
        @source(type='http', receiver.url='http://0.0.0.0:8009/Other', @map(type='json'))
        define stream Other (tenant string, responseTime long);
        from Request select tenant insert into Out;
        """
        let node = try Node(configuration: NodeConfiguration(port: 0, appSource: app))
        let port = try await node.start()
        let group = MultiThreadedEventLoopGroup(numberOfThreads: 1)
        let producer = try await TestConnection(port: port, group: group)
        let other = WireSchema.message(name: "Other", attributes: [("tenant", .string), ("responseTime", .long)])
        try await producer.send(TestConnection.hello(role: .producer, producer: 1, streams: [other]))
        let error = try #require(await producer.next()).message(as: Sluice_V1_Error.self)
        #expect(error.code == .unknownStream)
        #expect(node.status().inputStreams == ["Request"])
        try await node.shutdown()
        try await group.shutdownGracefully()
    }

    @Test func schemaMismatchIsRefusedWithAClearError() async throws {
        try await withNode { port, group in
            let producer = try await TestConnection(port: port, group: group)
            let wrong = WireSchema.message(name: "Request", attributes: [("tenant", .string), ("responseTime", .int)])
            try await producer.send(TestConnection.hello(role: .producer, producer: 1, streams: [wrong]))
            let error = try #require(await producer.next()).message(as: Sluice_V1_Error.self)
            #expect(error.code == .schemaMismatch)
            #expect(error.message.contains("responseTime long"))
            #expect(await producer.next() == nil)
        }
    }

    @Test func malformedFrameClosesOnlyThatConnection() async throws {
        try await withNode { port, group in
            let good = try await TestConnection(port: port, group: group)
            try await good.send(TestConnection.hello(role: .producer, producer: 2, streams: [Self.schema]))
            let goodWelcome = try #require(await good.next()).message(as: Sluice_V1_Welcome.self)
            let streamID = try #require(goodWelcome.streams.first).streamID

            let bad = try await TestConnection(port: port, group: group)
            // An unknown frame kind (200) with a 1-byte payload.
            try await bad.sendRaw([0, 0, 0, 1, 200, 0, 0])
            let error = try #require(await bad.next()).message(as: Sluice_V1_Error.self)
            #expect(error.code == .unknownFrameKind)
            #expect(await bad.next() == nil)

            let oversized = try await TestConnection(port: port, group: group)
            try await oversized.sendRaw([0x7F, 0xFF, 0xFF, 0xFF, 3, 0])
            #expect(try #require(await oversized.next()).message(as: Sluice_V1_Error.self).code == .frameTooLarge)

            try await good.send(TestConnection.batch(requests([("a", 1)]), stream: streamID, producer: 2, sequence: 1))
            #expect(try #require(await good.next()).message(as: Sluice_V1_Ack.self).sequence == 1)
            await good.close()
        }
    }

    @Test func senderPastItsCreditIsDisconnected() async throws {
        try await withNode { port, group in
            let producer = try await TestConnection(port: port, group: group)
            try await producer.send(TestConnection.hello(role: .producer, producer: 3, streams: [Self.schema]))
            let welcome = try #require(await producer.next()).message(as: Sluice_V1_Welcome.self)
            let streamID = try #require(welcome.streams.first).streamID
            // Credit is 4; five batches written back to back, before any ack can return, may exceed it.
            var frames: [Frame] = []
            for s in 1...40 { frames.append(try TestConnection.batch(requests([("a", 1)]), stream: streamID, producer: 3, sequence: UInt64(s))) }
            for f in frames { producer.channel.write(f, promise: nil) }
            producer.channel.flush()
            var sawError = false
            while let f = await producer.next() {
                if f.kind == .error {
                    sawError = try f.message(as: Sluice_V1_Error.self).code == .creditExceeded
                }
            }
            #expect(sawError)
        }
    }
}
