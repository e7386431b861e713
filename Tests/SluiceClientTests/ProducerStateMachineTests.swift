import NIOCore
import SluiceCore
import SluiceTransport
import SluiceWire
import Testing
@testable import SluiceClient

let stock = EventSchema("Stock", [("symbol", .string), ("price", .double)])

func welcome(credit: UInt32, streams: [(UInt32, EventSchema)] = [(7, stock)]) -> Frame {
    var w = Sluice_V1_Welcome()
    w.protocolVersion = ControlMessage.protocolVersion
    w.nodeID = "fake"
    w.initialCredit = credit
    w.streams = streams.map { id, schema in
        var b = Sluice_V1_StreamBinding()
        b.streamID = id
        b.schema = schema.wire
        return b
    }
    return ControlMessage.welcome(w)
}

typealias PAction = ProducerStateMachine.Action

/// A machine for `endpoints` endpoints, started, with every endpoint welcomed with `credit`.
func readyMachine(endpoints: Int = 1, credit: UInt32 = 4, batchSize: Int = 3, maxInFlight: Int = 64,
                  maxQueued: Int? = nil) -> (ProducerStateMachine, [ConnectionID]) {
    var m = ProducerStateMachine(configuration: .init(
        endpoints: (0..<endpoints).map { "node\($0):7000" }, streams: [stock], producerID: 42, authToken: "secret",
        batchSize: batchSize, maxInFlight: maxInFlight, maxQueued: maxQueued, backoff: Backoff(jitter: 0)))
    var ids: [ConnectionID] = []
    for action in m.start() {
        guard case .connect(let id) = action else { continue }
        ids.append(id)
    }
    for id in ids {
        _ = m.channelActive(id)
        _ = m.received(welcome(credit: credit), on: id)
    }
    return (m, ids)
}

func sends(_ actions: [PAction]) -> [UInt64] {
    actions.compactMap { if case .sendBatch(_, let s, _) = $0 { s } else { nil } }
}

func sends(_ actions: [PAction], on id: ConnectionID) -> [UInt64] {
    actions.compactMap { if case .sendBatch(id, let s, _) = $0 { s } else { nil } }
}

func failure(_ actions: [PAction]) -> (waiters: [UInt64], error: ClientError)? {
    for a in actions { if case .fail(let w, let e) = a { return (w, e) } }
    return nil
}

func succeeded(_ actions: [PAction]) -> [UInt64] {
    actions.flatMap { (a: PAction) -> [UInt64] in if case .succeed(let w) = a { w } else { [] } }
}

@Suite struct ProducerStateMachineTests {
    @Test func handshakeSaysHelloWithIdentityAndSchemas() throws {
        var m = ProducerStateMachine(configuration: .init(endpoints: ["a:1", "b:2"], streams: [stock], producerID: 42, authToken: "secret"))
        let start = m.start()
        #expect(start == [.connect(ConnectionID(endpoint: 0, serial: 1)), .connect(ConnectionID(endpoint: 1, serial: 2))])
        let actions = m.channelActive(ConnectionID(endpoint: 0, serial: 1))
        guard case .write(let id, let frame) = actions.first, actions.count == 1 else {
            Issue.record("expected one Hello, got \(actions)")
            return
        }
        #expect(id == ConnectionID(endpoint: 0, serial: 1))
        let hello = try frame.message(as: Sluice_V1_Hello.self)
        #expect(hello.role == .producer)
        #expect(hello.producerID == 42)
        #expect(hello.authToken == "secret")
        #expect(hello.protocolVersion == 1)
        #expect(hello.streams == [stock.wire])
        // Events of a connection the machine does not know are ignored.
        #expect(m.channelActive(ConnectionID(endpoint: 0, serial: 9)) == [])
    }

    @Test func appendSealsBySizeAndSendsWithTheNodesStreamID() {
        var (m, ids) = readyMachine(batchSize: 3)
        #expect(m.append(stream: "Stock", waiter: 1, admission: nil) == [.armLinger(stream: "Stock", generation: 1)])
        #expect(m.append(stream: "Stock", waiter: 2, admission: nil) == [])
        #expect(m.append(stream: "Stock", waiter: 3, admission: nil) == [
            .seal(stream: "Stock", sequence: 1),
            .sendBatch(ids[0], sequence: 1, streamID: 7),
        ])
        // The next event starts a new batch with a new linger generation.
        #expect(m.append(stream: "Stock", waiter: 4, admission: nil) == [.armLinger(stream: "Stock", generation: 2)])
        // A stale linger timer does nothing; the current one seals.
        #expect(m.lingerExpired(stream: "Stock", generation: 1) == [])
        #expect(m.lingerExpired(stream: "Stock", generation: 2) == [
            .seal(stream: "Stock", sequence: 2),
            .sendBatch(ids[0], sequence: 2, streamID: 7),
        ])
        // The ack settles every event of the batch.
        #expect(m.received(ControlMessage.ack(producer: 42, sequence: 1), on: ids[0]) == [.succeed([1, 2, 3]), .release([1])])
        #expect(m.statistics.ackedEvents == 3)
    }

    @Test func creditLimitsBatchesInFlight() {
        var (m, ids) = readyMachine(credit: 1)
        let first = m.submit(stream: "Stock", events: 10, waiter: 1, admission: nil)
        #expect(first.sequence == 1)
        #expect(sends(first.actions) == [1])
        let second = m.submit(stream: "Stock", events: 10, waiter: 2, admission: nil)
        #expect(second.sequence == 2)
        #expect(sends(second.actions) == [], "no credit left: batch 2 waits")
        #expect(m.queued == 1)
        // The ack returns the credit, and batch 2 goes out at once.
        let acked = m.received(ControlMessage.ack(producer: 42, sequence: 1), on: ids[0])
        #expect(acked == [.succeed([1]), .release([1]), .sendBatch(ids[0], sequence: 2, streamID: 7)])
        // A Credit frame grants more.
        _ = m.submit(stream: "Stock", events: 1, waiter: 3, admission: nil)
        #expect(m.inFlight == 1)
        #expect(sends(m.received(ControlMessage.credit(1), on: ids[0])) == [3])
    }

    @Test func maxInFlightCapsAllConnections() {
        var (m, _) = readyMachine(endpoints: 2, credit: 10, maxInFlight: 3)
        var sent: [UInt64] = []
        for w in 1...5 { sent += sends(m.submit(stream: "Stock", events: 1, waiter: UInt64(w), admission: nil).actions) }
        #expect(sent == [1, 2, 3])
        #expect(m.inFlight == 3)
        #expect(m.queued == 2)
    }

    @Test func batchesGoRoundRobin() {
        var (m, ids) = readyMachine(endpoints: 3, credit: 10)
        var placed: [ConnectionID] = []
        for w in 1...6 {
            for case .sendBatch(let id, _, _) in m.submit(stream: "Stock", events: 1, waiter: UInt64(w), admission: nil).actions {
                placed.append(id)
            }
        }
        #expect(placed == [ids[0], ids[1], ids[2], ids[0], ids[1], ids[2]])
    }

    @Test func lostConnectionResendsItsBatchesElsewhereWithTheSameSequences() {
        var (m, ids) = readyMachine(endpoints: 2, credit: 10)
        for w in 1...4 { _ = m.submit(stream: "Stock", events: 1, waiter: UInt64(w), admission: nil) }
        // 1 and 3 went to endpoint 0, 2 and 4 to endpoint 1. Endpoint 1 acks 2, then endpoint 0 dies.
        _ = m.received(ControlMessage.ack(producer: 42, sequence: 2), on: ids[1])
        let lost = m.channelInactive(ids[0], reason: "reset")
        #expect(sends(lost, on: ids[1]) == [1, 3])
        #expect(lost.contains(.scheduleReconnect(endpoint: 0, after: .milliseconds(50))))
        #expect(m.statistics.resentBatches == 2)
        // The survivor acks them (a node that applied one would ack it again): nothing is lost.
        for s: UInt64 in [1, 3, 4] { _ = m.received(ControlMessage.ack(producer: 42, sequence: s), on: ids[1]) }
        #expect(m.statistics.ackedBatches == 4)
        #expect(m.inFlight == 0)
        // Stale events of the dead connection change nothing.
        #expect(m.received(ControlMessage.ack(producer: 42, sequence: 1), on: ids[0]) == [])
        #expect(m.channelInactive(ids[0]) == [])
    }

    @Test func reconnectBacksOffExponentiallyUpToTheCapAndKeepsSequences() {
        var (m, ids) = readyMachine(endpoints: 1)
        _ = m.submit(stream: "Stock", events: 1, waiter: 1, admission: nil)
        var delays: [Duration] = []
        var id = ids[0]
        var actions = m.channelInactive(id)
        for _ in 0..<8 {
            for case .scheduleReconnect(_, let d) in actions { delays.append(d) }
            let connect = m.reconnectDue(endpoint: 0)
            guard case .connect(let next) = connect.first else {
                Issue.record("expected a reconnect, got \(connect)")
                return
            }
            id = next
            actions = m.channelInactive(id, reason: "refused")
        }
        #expect(delays == [.milliseconds(50), .milliseconds(100), .milliseconds(200), .milliseconds(400),
                           .milliseconds(800), .milliseconds(1600), .seconds(2), .seconds(2)])
        // Welcomed again, the endpoint gets the batch under its old sequence; new batches go on counting.
        _ = m.reconnectDue(endpoint: 0)
        let fresh = ConnectionID(endpoint: 0, serial: id.serial + 1)
        _ = m.channelActive(fresh)
        #expect(sends(m.received(welcome(credit: 4), on: fresh)) == [1])
        #expect(m.submit(stream: "Stock", events: 1, waiter: 2, admission: nil).sequence == 2)
    }

    @Test func schemaMismatchIsAClearError() {
        var m = ProducerStateMachine(configuration: .init(endpoints: ["n:1"], streams: [stock], producerID: 42))
        let id = ConnectionID(endpoint: 0, serial: 1)
        _ = m.start()
        _ = m.channelActive(id)
        _ = m.waitUntilReady(1)
        _ = m.append(stream: "Stock", waiter: 2, admission: nil)
        let actions = m.received(ControlMessage.error(.schemaMismatch, "stream 'Stock' attribute 2 is 'price float'"), on: id)
        #expect(actions.contains(.close(id)))
        let f = failure(actions)
        #expect(f?.error.code == .schemaMismatch)
        #expect(f?.error.message.contains("price float") == true)
        #expect(Set(f?.waiters ?? []) == [1, 2])
        #expect(m.terminalError?.code == .schemaMismatch)
        // Nothing is retried, and later calls fail at once.
        #expect(!actions.contains { if case .scheduleReconnect = $0 { true } else { false } })
        #expect(failure(m.flush(3))?.error.code == .schemaMismatch)
    }

    @Test func welcomeBindingWithOtherTypesIsASchemaMismatch() {
        var m = ProducerStateMachine(configuration: .init(endpoints: ["n:1"], streams: [stock], producerID: 42))
        let id = ConnectionID(endpoint: 0, serial: 1)
        _ = m.start()
        _ = m.channelActive(id)
        _ = m.waitUntilReady(1)
        let theirs = EventSchema("Stock", [("symbol", .string), ("price", .float)])
        let f = failure(m.received(welcome(credit: 4, streams: [(1, theirs)]), on: id))
        #expect(f?.error.code == .schemaMismatch)
        #expect(f?.error.message.contains("double here and float there") == true)
    }

    @Test func authFailureIsAClearError() {
        var m = ProducerStateMachine(configuration: .init(endpoints: ["n:1"], streams: [stock], producerID: 42, authToken: "wrong"))
        let id = ConnectionID(endpoint: 0, serial: 1)
        _ = m.start()
        _ = m.channelActive(id)
        _ = m.waitUntilReady(1)
        let f = failure(m.received(ControlMessage.error(.authFailed, "authentication failed"), on: id))
        #expect(f?.error.code == .authFailed)
        #expect(f?.waiters == [1])
    }

    @Test func refusalByOneEndpointLeavesTheOthersWorking() {
        var m = ProducerStateMachine(configuration: .init(endpoints: ["a:1", "b:2"], streams: [stock], producerID: 42))
        let a = ConnectionID(endpoint: 0, serial: 1), b = ConnectionID(endpoint: 1, serial: 2)
        _ = m.start()
        _ = m.channelActive(a)
        _ = m.channelActive(b)
        _ = m.received(ControlMessage.error(.schemaMismatch, "old app"), on: a)
        #expect(m.terminalError == nil)
        _ = m.received(welcome(credit: 2), on: b)
        #expect(sends(m.submit(stream: "Stock", events: 1, waiter: 1, admission: nil).actions, on: b) == [1])
    }

    @Test func connectFailsOnceEveryEndpointWasTried() {
        var m = ProducerStateMachine(configuration: .init(endpoints: ["a:1", "b:2"], streams: [stock], producerID: 42))
        _ = m.start()
        #expect(m.waitUntilReady(1) == [])
        #expect(failure(m.channelInactive(ConnectionID(endpoint: 0, serial: 1), reason: "refused")) == nil)
        let f = failure(m.channelInactive(ConnectionID(endpoint: 1, serial: 2), reason: "refused"))
        #expect(f?.error.code == .connectionFailed)
        #expect(f?.waiters == [1])
    }

    @Test func nacksRetryOrFail() {
        var (m, ids) = readyMachine(credit: 4)
        _ = m.submit(stream: "Stock", events: 1, waiter: 1, admission: nil)
        _ = m.submit(stream: "Stock", events: 1, waiter: 2, admission: nil)
        // Retryable: the batch goes again under its sequence.
        let retry = ControlMessage.nack(producer: 42, sequence: 1, code: .shuttingDown, reason: "draining", retryable: true)
        #expect(sends(m.received(retry, on: ids[0])) == [1])
        // Not retryable: its waiter fails and a flush reports it once.
        let refuse = ControlMessage.nack(producer: 42, sequence: 2, code: .schemaMismatch, reason: "bad row", retryable: false)
        let f = failure(m.received(refuse, on: ids[0]))
        #expect(f?.waiters == [2])
        #expect(f?.error.code == .rejected)
        _ = m.received(ControlMessage.ack(producer: 42, sequence: 1), on: ids[0])
        #expect(failure(m.flush(3))?.error.code == .rejected)
        #expect(m.flush(4) == [.succeed([4])])
    }

    @Test func flushWaitsForEveryBatchSealedBeforeIt() {
        var (m, ids) = readyMachine(credit: 4, batchSize: 100)
        _ = m.append(stream: "Stock", waiter: nil, admission: 1)
        let flush = m.flush(2)
        #expect(flush.contains(.seal(stream: "Stock", sequence: 1)))
        #expect(sends(flush) == [1])
        #expect(!succeeded(flush).contains(2))
        // A batch after the flush does not hold it up.
        _ = m.submit(stream: "Stock", events: 1, waiter: 3, admission: nil)
        #expect(succeeded(m.received(ControlMessage.ack(producer: 42, sequence: 1), on: ids[0])) == [2])
    }

    @Test func enqueueWaitsWhileTheQueueIsFull() {
        var (m, ids) = readyMachine(credit: 1, maxQueued: 2)
        // One in flight, then two queued: admitted at once.
        for w: UInt64 in 1...3 {
            #expect(succeeded(m.submit(stream: "Stock", events: 1, waiter: nil, admission: w).actions) == [w])
        }
        // The queue is past its bound: this caller waits (back-pressure).
        #expect(succeeded(m.submit(stream: "Stock", events: 1, waiter: nil, admission: 4).actions) == [])
        #expect(m.queued == 3)
        // An ack frees credit, one batch leaves the queue, and the caller goes on.
        #expect(succeeded(m.received(ControlMessage.ack(producer: 42, sequence: 1), on: ids[0])) == [4])
    }

    @Test func closeFailsWaitersAndStopsReconnecting() {
        var (m, ids) = readyMachine()
        _ = m.submit(stream: "Stock", events: 1, waiter: 1, admission: nil)
        _ = m.append(stream: "Stock", waiter: 2, admission: nil)
        let actions = m.close()
        #expect(actions.contains(.close(ids[0])))
        let f = failure(actions)
        #expect(f?.error.code == .closed)
        #expect(Set(f?.waiters ?? []) == [1, 2])
        #expect(m.channelInactive(ids[0]) == [])
        #expect(m.reconnectDue(endpoint: 0) == [])
        #expect(m.close() == [])
    }

    @Test func unknownStreamFailsTheCaller() {
        var (m, _) = readyMachine()
        #expect(failure(m.append(stream: "Nope", waiter: 1, admission: nil))?.error.code == .unknownStream)
    }

    @Test func ackOfAnotherProducerOrSequenceIsIgnored() {
        var (m, ids) = readyMachine()
        _ = m.submit(stream: "Stock", events: 1, waiter: 1, admission: nil)
        #expect(m.received(ControlMessage.ack(producer: 41, sequence: 1), on: ids[0]) == [])
        #expect(m.received(ControlMessage.ack(producer: 42, sequence: 9), on: ids[0]) == [])
        #expect(m.inFlight == 1)
    }

    @Test func unexpectedFrameDropsTheConnection() {
        var (m, ids) = readyMachine()
        _ = m.submit(stream: "Stock", events: 1, waiter: 1, admission: nil)
        let actions = m.received(ControlMessage.welcome(Sluice_V1_Welcome()), on: ids[0])
        #expect(actions.contains(.close(ids[0])))
        #expect(actions.contains(.scheduleReconnect(endpoint: 0, after: .milliseconds(50))))
        #expect(m.queued == 1, "the batch waits for the next connection")
    }

    @Test func backoffDelays() {
        let b = Backoff(initial: .milliseconds(10), maximum: .milliseconds(35))
        #expect((1...4).map { b.delay(afterFailures: $0) } == [.milliseconds(10), .milliseconds(20), .milliseconds(35), .milliseconds(35)])
        #expect(b.delay(afterFailures: 2, unit: 0) == .milliseconds(20))
        #expect(b.delay(afterFailures: 2, unit: 0.5) == .milliseconds(18))
        #expect(b.delay(afterFailures: 4, unit: 1) == .milliseconds(28))
    }

    @Test func reconnectDelaysAreJitteredPerProducer() {
        func firstDelay(producer: UInt64) -> Duration? {
            var m = ProducerStateMachine(configuration: .init(endpoints: ["a:1"], streams: [], producerID: producer))
            _ = m.start()
            for case .scheduleReconnect(_, let delay) in m.channelInactive(ConnectionID(endpoint: 0, serial: 1)) { return delay }
            return nil
        }
        let delays = (1...8).compactMap { firstDelay(producer: $0) }
        #expect(delays.count == 8)
        #expect(delays.allSatisfy { $0 >= .milliseconds(40) && $0 <= .milliseconds(50) })
        #expect(Set(delays).count > 1, "producers back off at different moments")
        #expect(firstDelay(producer: 3) == firstDelay(producer: 3), "the same producer draws the same delays")
    }
}
