import NIOCore
import SluiceCore
import SluiceTransport
import SluiceWire
import Testing
@testable import SluiceClient

let alerts = EventSchema("Alerts", [("symbol", .string), ("count", .long)])

func batchFrame(streamID: UInt32 = 1, sequence: UInt64, rows: [(Int64, String, Int64)], expired: Bool = false) throws -> Frame {
    var b = alerts.makeBatch()
    for (ts, s, n) in rows { b.append(timestamp: ts, values: [.string(s), .long(n)], kind: expired ? .expired : .current) }
    var payload = ByteBuffer()
    try BatchCodec.encode(b, header: BatchHeader(streamID: streamID, producerID: 0, sequence: sequence), into: &payload)
    return Frame(kind: .eventBatch, payload: payload)
}

extension SubscriberStateMachine.Action {
    var written: Frame? { if case .write(let f) = self { f } else { nil } }
    var delivered: EventBatch? { if case .deliver(let b) = self { b } else { nil } }
    var finished: ClientError?? { if case .finish(let e) = self { .some(e) } else { nil } }
    var isConnect: Bool { if case .connect = self { true } else { false } }
    var isClose: Bool { if case .close = self { true } else { false } }
}

/// A subscriber with `credit`, through the handshake to streaming.
func streamingSubscriber(credit: Int) throws -> SubscriberStateMachine {
    var m = SubscriberStateMachine(configuration: .init(endpoint: "node:1", stream: "Alerts", credit: credit))
    _ = m.start()
    _ = m.channelActive()
    _ = m.received(ControlMessage.welcome(welcomeMessage(streams: [])))
    _ = m.received(ControlMessage.welcome(welcomeMessage(streams: [(1, alerts)])))
    try #require(m.schema == alerts)
    return m
}

func welcomeMessage(streams: [(UInt32, EventSchema)]) -> Sluice_V1_Welcome {
    var w = Sluice_V1_Welcome()
    w.protocolVersion = 1
    w.streams = streams.map { id, s in
        var b = Sluice_V1_StreamBinding()
        b.streamID = id
        b.schema = s.wire
        return b
    }
    return w
}

@Suite struct SubscriberStateMachineTests {
    @Test func handshakeHelloWelcomeSubscribeWelcome() throws {
        var m = SubscriberStateMachine(configuration: .init(endpoint: "node:1", stream: "Alerts", includeExpired: true,
                                                             credit: 8, authToken: "t"))
        let start = m.start()
        #expect(start.count == 1 && start[0].isConnect)
        #expect(m.start().isEmpty)
        let hello = try #require(m.channelActive().first?.written).message(as: Sluice_V1_Hello.self)
        #expect(hello.role == .subscriber)
        #expect(hello.authToken == "t")
        #expect(hello.streams.isEmpty)
        let subscribe = try #require(m.received(ControlMessage.welcome(welcomeMessage(streams: []))).first?.written)
            .message(as: Sluice_V1_Subscribe.self)
        #expect(subscribe.stream == "Alerts")
        #expect(subscribe.initialCredit == 8)
        #expect(subscribe.includeExpired)
        let bound = m.received(ControlMessage.welcome(welcomeMessage(streams: [(3, alerts)])))
        guard case .bound(let schema) = bound.first, bound.count == 1 else {
            Issue.record("expected the binding, got \(bound)")
            return
        }
        #expect(schema == alerts)
    }

    @Test func batchesWaitForTheConsumerAndCreditGoesBackAsTheyAreTaken() throws {
        var m = try streamingSubscriber(credit: 8)
        for s: UInt64 in 1...3 {
            #expect(m.received(try batchFrame(sequence: s, rows: [(Int64(s), "IBM", Int64(s))])).isEmpty)
        }
        #expect(m.buffered == 3)
        #expect(m.available == 5)
        // Grants go back two at a time (credit 8 / 4).
        let first = m.demand()
        #expect(first.count == 1)
        #expect(first[0].delivered?.timestamps == [1])
        let second = m.demand()
        #expect(second[0].delivered?.timestamps == [2])
        let credit = try #require(second.dropFirst().first?.written).message(as: Sluice_V1_Credit.self)
        #expect(credit.batches == 2)
        #expect(m.available == 7)
    }

    @Test func aWaitingConsumerGetsTheNextBatchAtOnce() throws {
        var m = try streamingSubscriber(credit: 1)
        #expect(m.demand().isEmpty)
        let actions = m.received(try batchFrame(sequence: 1, rows: [(10, "A", 1), (11, "B", 2)]))
        #expect(actions.first?.delivered?.count == 2)
        // With credit 1 every batch's credit goes straight back.
        #expect(try actions.last?.written?.message(as: Sluice_V1_Credit.self).batches == 1)
    }

    @Test func aBatchBeyondTheCreditIsAProtocolError() throws {
        var m = try streamingSubscriber(credit: 1)
        _ = m.received(try batchFrame(sequence: 1, rows: [(1, "A", 1)]))
        let actions = m.received(try batchFrame(sequence: 2, rows: [(2, "B", 2)]))
        #expect(actions.contains { $0.isClose })
        guard case .terminated(let error) = actions.last else {
            Issue.record("expected the end, got \(actions)")
            return
        }
        #expect(error.code == .protocolError)
        // What arrived in credit is still delivered, then the error.
        #expect(m.demand().first?.delivered?.timestamps == [1])
        #expect(m.demand().first?.finished == .some(error))
        #expect(m.demand().first?.finished == .some(nil))
    }

    @Test func unknownStreamIsReported() throws {
        var m = SubscriberStateMachine(configuration: .init(endpoint: "node:1", stream: "Nope"))
        _ = m.start()
        _ = m.channelActive()
        _ = m.received(ControlMessage.welcome(welcomeMessage(streams: [])))
        #expect(m.demand().isEmpty)
        let actions = m.received(ControlMessage.error(.unknownStream, "stream 'Nope' does not exist on this node"))
        #expect(actions.contains { $0.isClose })
        let finished = actions.compactMap(\.finished).first
        #expect(finished??.code == .schemaMismatch)
        #expect(finished??.message.contains("does not exist") == true)
    }

    @Test func aResumePositionTheNodeNoLongerHasEndsTheSubscription() throws {
        let position = OutputIdentity(group: "g1", term: 3, sequence: 41)
        var m = SubscriberStateMachine(configuration: .init(endpoint: "node:1", stream: "Alerts", resumeAfter: position))
        _ = m.start()
        _ = m.channelActive()
        _ = m.received(ControlMessage.welcome(welcomeMessage(streams: [])))
        _ = m.received(ControlMessage.welcome(welcomeMessage(streams: [(1, alerts)])))
        #expect(m.demand().isEmpty)
        let actions = m.received(ControlMessage.error(.outputsNotRetained, "outputs 42 through 90 may include 'Alerts' outputs"))
        #expect(actions.contains { $0.isClose })
        #expect(actions.compactMap(\.finished).first??.code == .outputsNotRetained)
        #expect(ClientError.isFatal(.outputsNotRetained))
    }

    @Test func aLostConnectionEndsTheSequenceWithAnError() throws {
        var m = try streamingSubscriber(credit: 4)
        #expect(m.demand().isEmpty)
        let actions = m.channelInactive(reason: "reset by peer")
        #expect(actions.compactMap(\.finished).first??.code == .connectionFailed)
        #expect(m.channelInactive().isEmpty)
    }

    @Test func closeEndsTheSequenceQuietly() throws {
        var m = try streamingSubscriber(credit: 4)
        _ = m.received(try batchFrame(sequence: 1, rows: [(1, "A", 1)]))
        #expect(m.demand().first?.delivered != nil)
        #expect(m.demand().isEmpty)
        let actions = m.close()
        #expect(actions.contains { $0.isClose })
        #expect(actions.compactMap(\.finished).first == .some(nil))
        #expect(m.demand().first?.finished == .some(nil))
    }

    @Test func aBatchForAnotherStreamIDIsRefused() throws {
        var m = try streamingSubscriber(credit: 4)
        let actions = m.received(try batchFrame(streamID: 9, sequence: 1, rows: [(1, "A", 1)]))
        #expect(actions.contains { $0.isClose })
        #expect(m.isDone)
    }

    @Test func aNodeThatBindsInItsFirstWelcomeStillWorks() throws {
        var m = SubscriberStateMachine(configuration: .init(endpoint: "node:1", stream: "Alerts", credit: 4))
        _ = m.start()
        _ = m.channelActive()
        _ = m.received(ControlMessage.welcome(welcomeMessage(streams: [(2, alerts)])))
        let actions = m.received(try batchFrame(streamID: 2, sequence: 1, rows: [(1, "A", 1)]))
        #expect(m.schema == alerts)
        #expect(actions.count == 1)
        #expect(m.buffered == 1)
    }

    func stampedFrame(term: UInt64, sequence: UInt64, value: Int64) throws -> Frame {
        var b = alerts.makeBatch()
        b.append(timestamp: 1, values: [.string("x"), .long(value)])
        var payload = ByteBuffer()
        try BatchCodec.encode(b, header: BatchHeader(streamID: 1, producerID: 0, sequence: sequence, outputGroup: "g1", outputTerm: term),
                              into: &payload)
        return Frame(kind: .eventBatch, payload: payload)
    }

    @Test func anHAGroupsOutputIsTakenOnceAndADeposedLeadersIsDropped() throws {
        var m = try streamingSubscriber(credit: 8)
        _ = m.demand()
        #expect(m.received(try stampedFrame(term: 2, sequence: 5, value: 1)).contains { $0.delivered != nil })
        #expect(m.position == OutputIdentity(group: "g1", term: 2, sequence: 5))
        _ = m.demand()
        for (term, sequence) in [(2, 5), (2, 4), (1, 9)] as [(UInt64, UInt64)] {
            let actions = m.received(try stampedFrame(term: term, sequence: sequence, value: 0))
            #expect(!actions.contains { $0.delivered != nil }, "term \(term) sequence \(sequence) was already seen or is fenced")
        }
        #expect(m.droppedRepeats == 3)
        #expect(m.received(try stampedFrame(term: 3, sequence: 6, value: 2)).contains { $0.delivered != nil })
        #expect(m.position == OutputIdentity(group: "g1", term: 3, sequence: 6))
    }

    @Test func aRepeatStillReturnsItsCredit() throws {
        var m = try resumed(at: OutputIdentity(group: "g1", term: 1, sequence: 10), credit: 4)
        var credits = 0
        for s in 7...10 as ClosedRange<UInt64> {
            credits += m.received(try stampedFrame(term: 1, sequence: s, value: 0)).compactMap(\.written).count
        }
        #expect(m.droppedRepeats == 4 && m.receivedBatches == 0)
        #expect(credits >= 1, "dropped batches give their credit back, or the node would stall")
    }

    /// A subscriber that resumes an HA group's stream after `position`.
    func resumed(at position: OutputIdentity, credit: Int = 8) throws -> SubscriberStateMachine {
        var m = SubscriberStateMachine(configuration: .init(endpoint: "node:1", stream: "Alerts", credit: credit, resumeAfter: position))
        _ = m.start()
        _ = m.channelActive()
        let subscribe = try #require(m.received(ControlMessage.welcome(welcomeMessage(streams: []))).first?.written)
        #expect(try subscribe.message(as: Sluice_V1_Subscribe.self).resumeAfter == position.sequence)
        _ = m.received(ControlMessage.welcome(welcomeMessage(streams: [(1, alerts)])))
        return m
    }
}
