import NIOCore
import SluiceCore
import Testing
@testable import SluiceClient

func stockBatch(_ n: Int, from t: Int64) -> EventBatch {
    var b = stock.makeBatch(capacity: n)
    for i in 0..<n { b.append(timestamp: t + Int64(i), values: [.string("S\(i % 7)"), .double(Double(i))]) }
    return b
}

/// The SDK against fake nodes on real sockets.
@Suite(.timeLimit(.minutes(1))) struct EndToEndTests {
    @Test func singleEventsAreBatchedBySizeThenByLinger() async throws {
        let node = try await FakeNode(FakeNodeConfiguration(inputs: [stock])).start()
        defer { Task { await node.stop() } }
        let producer = try Producer(endpoints: [node.endpoint], streams: [stock], batchSize: 4, linger: .milliseconds(300))
        try await producer.connect()
        try await withThrowingTaskGroup(of: Void.self) { group in
            for i in 0..<9 {
                group.addTask { try await producer.send(stream: "Stock", values: [.string("IBM"), .double(Double(i))], timestamp: Int64(i)) }
            }
            group.addTask { try await producer.send(stream: "Stock", timestamp: 9, "IBM", 9.5) }
            try await group.waitForAll()
        }
        let applied = node.ledger.state.current.applied
        #expect(applied.map(\.events).sorted() == [2, 4, 4])
        #expect(applied.map(\.sequence) == [1, 2, 3])
        #expect(applied.allSatisfy { $0.producer == producer.producerID })
        #expect(await producer.statistics.ackedEvents == 10)
        await producer.close()
    }

    @Test func creditOfOneKeepsOneBatchInFlightAndSendWaits() async throws {
        let node = try await FakeNode(FakeNodeConfiguration(inputs: [stock], credit: 1, ackDelay: .milliseconds(20))).start()
        defer { Task { await node.stop() } }
        let producer = try Producer(endpoints: [node.endpoint], streams: [stock])
        try await producer.connect()
        let clock = ContinuousClock()
        let start = clock.now
        try await withThrowingTaskGroup(of: Void.self) { group in
            for k in 0..<6 {
                group.addTask { try await producer.send(stream: "Stock", batch: stockBatch(10, from: Int64(k * 10))) }
            }
            try await group.waitForAll()
        }
        // Each batch waited for the ack of the one before: six acks of 20 ms one after another.
        #expect(clock.now - start >= .milliseconds(100))
        let ledger = node.ledger.state.current
        #expect(ledger.maxOutstanding == 1)
        #expect(ledger.creditViolations == 0)
        #expect(ledger.applied.count == 6)
        await producer.close()
    }

    @Test func batchesOfADeadNodeGoToTheSurvivorWithoutLossOrDuplicates() async throws {
        let ledger = Ledger()
        let doomed = try await FakeNode(FakeNodeConfiguration(name: "a", inputs: [stock], credit: 4, dieAfterBatches: 3), ledger: ledger).start()
        let survivor = try await FakeNode(FakeNodeConfiguration(name: "b", inputs: [stock], credit: 4), ledger: ledger).start()
        defer { Task { await doomed.stop(); await survivor.stop() } }
        let producer = try Producer(endpoints: [doomed.endpoint, survivor.endpoint], streams: [stock],
                                    backoff: Backoff(initial: .milliseconds(10), maximum: .milliseconds(100)))
        try await producer.connect()
        for k in 0..<40 { try await producer.enqueue(stream: "Stock", batch: stockBatch(5, from: Int64(k * 5))) }
        try await producer.flush()

        let state = ledger.state.current
        // Every sequence applied exactly once, the batch the dead node applied without acking included.
        #expect(state.applied.map(\.sequence).sorted() == Array(1...40))
        #expect(state.applied.reduce(0) { $0 + $1.events } == 200)
        #expect(state.duplicatesRefused >= 1)
        #expect(state.applied.contains { $0.node == "a" } && state.applied.contains { $0.node == "b" })
        let stats = await producer.statistics
        #expect(stats.ackedEvents == 200)
        #expect(stats.resentBatches >= 1)
        await producer.close()
    }

    @Test func schemaMismatchAndAuthFailureAreClearErrors() async throws {
        let node = try await FakeNode(FakeNodeConfiguration(inputs: [stock], token: "s3cret")).start()
        defer { Task { await node.stop() } }

        let floatPrice = EventSchema("Stock", [("symbol", .string), ("price", .float)])
        let wrongSchema = try Producer(endpoints: [node.endpoint], streams: [floatPrice], authToken: "s3cret")
        let mismatch = await #expect(throws: ClientError.self) { try await wrongSchema.connect() }
        #expect(mismatch?.code == .schemaMismatch)
        #expect(mismatch?.message.contains("price float") == true)
        let send = await #expect(throws: ClientError.self) {
            try await wrongSchema.send(stream: "Stock", values: [.string("IBM"), .float(1)], timestamp: 1)
        }
        #expect(send?.code == .schemaMismatch)
        await wrongSchema.close()

        let wrongToken = try Producer(endpoints: [node.endpoint], streams: [stock], authToken: "guess")
        let auth = await #expect(throws: ClientError.self) { try await wrongToken.connect() }
        #expect(auth?.code == .authFailed)
        await wrongToken.close()

        // A value that does not fit is refused before anything is sent.
        let good = try Producer(endpoints: [node.endpoint], streams: [stock], authToken: "s3cret")
        let invalid = await #expect(throws: ClientError.self) {
            try await good.send(stream: "Stock", values: [.double(1), .double(2)], timestamp: 1)
        }
        #expect(invalid?.code == .invalidEvent)
        await good.close()
        #expect(node.ledger.state.current.applied.isEmpty)
    }

    @Test func nothingListeningFailsConnect() async throws {
        let node = try await FakeNode(FakeNodeConfiguration(inputs: [stock])).start()
        let endpoint = node.endpoint
        await node.stop()
        let producer = try Producer(endpoints: [endpoint], streams: [stock])
        let error = await #expect(throws: ClientError.self) { try await producer.connect() }
        #expect(error?.code == .connectionFailed)
        await producer.close()
    }

    @Test func subscriberReceivesEveryBatchReturningCredit() async throws {
        let batches = (0..<10).map { k in
            var b = alerts.makeBatch()
            for i in 0..<3 { b.append(timestamp: Int64(k * 3 + i), values: [.string("T\(k)"), .long(Int64(i))]) }
            return b
        }
        let node = try await FakeNode(FakeNodeConfiguration(outputs: ["Alerts": (alerts, batches)])).start()
        defer { Task { await node.stop() } }

        let subscriber = Subscriber(endpoint: node.endpoint, stream: "Alerts", credit: 2)
        #expect(try await subscriber.connect() == alerts)
        var timestamps: [Int64] = []
        var received = 0
        for try await batch in subscriber {
            timestamps += batch.timestamps
            received += 1
            if received == 10 { break }
        }
        #expect(timestamps == Array(0..<30))
        // Ten batches through a window of two: at least eight credits came back.
        #expect(node.creditsReceived.current >= 8)
        await subscriber.close()

        let rows = Subscriber(endpoint: node.endpoint, stream: "Alerts", credit: 64)
        var events: [SubscribedEvent] = []
        for try await event in rows.events {
            events.append(event)
            if events.count == 30 { break }
        }
        #expect(events.first == SubscribedEvent(stream: "Alerts", timestamp: 0, values: [.string("T0"), .long(0)], expired: false))
        #expect(events.last?.timestamp == 29)
        await rows.close()
    }

    @Test func subscribingToAnUnknownStreamFails() async throws {
        let node = try await FakeNode(FakeNodeConfiguration()).start()
        defer { Task { await node.stop() } }
        let subscriber = Subscriber(endpoint: node.endpoint, stream: "Nope")
        let error = await #expect(throws: ClientError.self) { try await subscriber.connect() }
        #expect(error?.code == .schemaMismatch)
        await #expect(throws: ClientError.self) {
            for try await _ in subscriber {}
        }
    }
}
