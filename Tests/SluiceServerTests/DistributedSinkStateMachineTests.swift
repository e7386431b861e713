import SluiceCore
import SluiceWire
@testable import SluiceServer
import Testing

/// The distributed sink's decisions as values: no network, no sleeping, time passed in.
struct DistributedSinkStateMachineTests {
    typealias Machine = DistributedSinkStateMachine
    typealias Action = Machine.Action

    static func batch(_ tenants: [String], from first: Int64 = 0) -> EventBatch {
        var b = EventBatch(types: [.string, .long])
        for (i, t) in tenants.enumerated() { b.append(timestamp: first + Int64(i), values: [.string(t), .long(first + Int64(i))]) }
        return b
    }

    static func partitioned(_ names: [String] = ["a", "b"], buffer: Int = 100, onError: SinkErrorAction = .wait) -> Machine {
        Machine(configuration: .init(strategy: .partitioned(keyColumn: 0, map: PartitionMap(destinations: names)),
                                     members: names.map { _ in 1 }, onError: onError, bufferLimit: buffer, maxBatch: 1000))
    }

    /// Two tenants that the 2-destination map sends to destinations 0 and 1.
    static let keys: (String, String) = {
        let map = PartitionMap(destinations: ["a", "b"])
        let zero = PartitionTestKeys.first { map.destination(of: .string($0)) == 0 }!
        let one = PartitionTestKeys.first { map.destination(of: .string($0)) == 1 }!
        return (zero, one)
    }()

    static func sends(_ actions: [Action]) -> [(destination: Int, rows: [String])] {
        actions.compactMap {
            guard case .send(let d, _, let chunk) = $0 else { return nil }
            return (d, (0..<chunk.count).map { chunk.batch.columns[0].string(at: $0) })
        }
    }

    static func accepted(_ result: Machine.OfferResult) -> [Action] {
        guard case .accepted(let actions) = result else { Issue.record("expected accepted, got \(result)"); return [] }
        return actions
    }

    @Test func anHAOutputsPartsAreNumberedPerDestinationAndHeldUntilTaken() {
        var m = Machine(configuration: .init(strategy: .partitioned(keyColumn: 0, map: PartitionMap(destinations: ["a", "b"])),
                                             members: [1, 1], bufferLimit: 100, maxBatch: 2, maxInFlight: 4))
        let (zero, one) = Self.keys
        let stamp = OutputOrigin(group: "g1", term: 3, sequence: 7, part: 0)
        let actions = Self.accepted(m.offer(Self.batch([zero, zero, zero, one]), stamp: stamp, now: .zero))
        let chunks = actions.compactMap { if case .send(let d, _, let c) = $0 { (d, c) } else { nil } }
        #expect(chunks.map { $0.0 } == [0, 0, 1])
        #expect(chunks.map { $0.1.origin } == [OutputOrigin(group: "g1", term: 3, sequence: 7, part: 0),
                                               OutputOrigin(group: "g1", term: 3, sequence: 7, part: 1),
                                               OutputOrigin(group: "g1", term: 3, sequence: 7, part: 0)])
        _ = Self.accepted(m.offer(Self.batch([one]), stamp: OutputOrigin(group: "g1", term: 3, sequence: 8, part: 0), now: .zero))
        #expect(m.oldestHeldOutput == 7)
        for (d, chunk) in chunks { _ = m.sendSucceeded(destination: d, chunk: chunk.id, now: .zero) }
        #expect(m.oldestHeldOutput == 8, "output 7 is taken everywhere; 8 is still out")
        _ = Self.accepted(m.offer(Self.batch([zero]), now: .zero))
        #expect(m.destinations[0].queue.last?.origin == nil, "a batch without identity gets none")
    }

    @Test func withAnIdentityRoundRobinGivesWholeBatchesSoPartsMeanTheSameRowsEverywhere() {
        var m = Machine(configuration: .init(strategy: .roundRobin, members: [1, 1, 1], maxBatch: 2, maxInFlight: 4))
        let stamp = OutputOrigin(group: OutputOrigin.derivedGroup, term: 0, sequence: 11, part: 0xF0)
        let actions = Self.accepted(m.offer(Self.batch(["t1", "t2", "t3"]), stamp: stamp, now: .zero))
        let chunks = actions.compactMap { if case .send(let d, _, let c) = $0 { (d, c) } else { nil } }
        #expect(Set(chunks.map { $0.0 }).count == 1, "one destination takes the whole batch")
        #expect(chunks.map { $0.1.count } == [2, 1])
        #expect(chunks.map { $0.1.origin?.part } == [0xF0, 0xF1])
        let next = Self.accepted(m.offer(Self.batch(["t4"]), stamp: stamp, now: .zero))
        #expect(Self.sends(next).map(\.destination) != [chunks[0].0], "the next batch goes to the next destination")
    }

    static func chunk(_ actions: [Action], to destination: Int) -> SinkChunk? {
        for case .send(let d, _, let chunk) in actions where d == destination { return chunk }
        return nil
    }

    @Test func partitionedSplitsAChunkColumnarByKey() {
        var m = Self.partitioned()
        let (k0, k1) = Self.keys
        let actions = Self.accepted(m.offer(Self.batch([k0, k1, k0, k1, k1]), now: .zero))
        let sends = Self.sends(actions)
        #expect(sends.count == 2)
        #expect(sends.first { $0.destination == 0 }?.rows == [k0, k0])
        #expect(sends.first { $0.destination == 1 }?.rows == [k1, k1, k1])
        // Expired rows are not published.
        var expired = Self.batch([k0])
        expired.kinds[0] = .expired
        #expect(m.offer(expired, now: .zero) == .accepted([]))
    }

    static func pipelined(window: Int) -> Machine {
        Machine(configuration: .init(strategy: .partitioned(keyColumn: 0, map: PartitionMap(destinations: ["a"])),
                                     members: [1], bufferLimit: 100, maxBatch: 1, maxInFlight: window))
    }

    static func chunks(_ actions: [Action]) -> [SinkChunk] {
        actions.compactMap { if case .send(_, _, let c) = $0 { c } else { nil } }
    }

    @Test func aWindowOfChunksIsOutAndLeavesOnlyInOrder() {
        var m = Self.pipelined(window: 3)
        let first = Self.chunks(Self.accepted(m.offer(Self.batch(["t", "t", "t", "t", "t"]), now: .zero)))
        #expect(first.count == 3, "three of five one-event chunks go out at once")
        // The second answers before the first: nothing leaves, nothing new goes out.
        #expect(Self.chunks(m.sendSucceeded(destination: 0, chunk: first[1].id, now: .zero)).isEmpty)
        #expect(m.destinations[0].queue.count == 5)
        // The first answers: both leave, and the window refills with the last two.
        let refill = Self.chunks(m.sendSucceeded(destination: 0, chunk: first[0].id, now: .zero))
        #expect(m.destinations[0].queue.count == 3)
        #expect(refill.map { $0.batch.timestamps[0] } == [3, 4])
        #expect(m.pendingEvents == 3)
    }

    @Test func aFailureInTheWindowResendsItFromTheHeadInOrder() {
        var m = Self.pipelined(window: 3)
        let first = Self.chunks(Self.accepted(m.offer(Self.batch(["t", "t", "t", "t"]), now: .zero)))
        _ = m.sendSucceeded(destination: 0, chunk: first[1].id, now: .zero)
        let failed = m.sendFailed(destination: 0, chunk: first[2].id, retryable: true, reason: "reset", now: .zero)
        #expect(failed.contains(.retry(destination: 0, at: .milliseconds(50))))
        // Late answers for the old window are ignored.
        #expect(m.sendSucceeded(destination: 0, chunk: first[0].id, now: .milliseconds(10)).isEmpty)
        #expect(m.destinations[0].queue.count == 4)
        // After the backoff the head probes alone, then the window opens again.
        let probe = Self.chunks(m.retryDue(destination: 0, now: .milliseconds(50)))
        #expect(probe.map(\.id) == [first[0].id])
        let reopened = Self.chunks(m.sendSucceeded(destination: 0, chunk: probe[0].id, now: .milliseconds(51)))
        #expect(reopened.map { $0.batch.timestamps[0] } == [1, 2, 3], "the chunk acknowledged before the failure goes again: at least once, in order")
    }

    @Test func oneSendInFlightPerDestinationKeepsOrder() {
        var m = Self.partitioned()
        let (k0, _) = Self.keys
        let first = Self.chunk(Self.accepted(m.offer(Self.batch([k0]), now: .zero)), to: 0)!
        #expect(Self.accepted(m.offer(Self.batch([k0, k0], from: 1), now: .zero)).isEmpty)   // queued behind the first
        let next = m.sendSucceeded(destination: 0, chunk: first.id, now: .zero)
        #expect(Self.sends(next).map { $0.rows } == [[k0, k0]])
        #expect(m.pendingEvents == 2)
    }

    /// A dead destination stalls only its own keys while its buffer has room; once full the
    /// engine waits; when it is back everything arrives, in order.
    @Test func deadDestinationStallsOnlyItsKeysThenBackPressuresThenCatchesUp() {
        var m = Self.partitioned(buffer: 4)
        let (k0, k1) = Self.keys
        var delivered: [Int: [String]] = [0: [], 1: []]
        var inFlight: [Int: SinkChunk] = [:]
        func take(_ actions: [Action]) { for case .send(let d, _, let c) in actions { inFlight[d] = c } }
        func succeed(_ d: Int, _ now: Duration) -> [Action] {
            let c = inFlight.removeValue(forKey: d)!
            delivered[d]! += (0..<c.count).map { c.batch.columns[0].string(at: $0) }
            let actions = m.sendSucceeded(destination: d, chunk: c.id, now: now)
            take(actions)
            return actions
        }
        take(Self.accepted(m.offer(Self.batch([k0, k1]), now: .zero)))
        // Destination 1 is down.
        let failed = m.sendFailed(destination: 1, chunk: inFlight.removeValue(forKey: 1)!.id, retryable: true, reason: "refused", now: .zero)
        #expect(failed == [.retry(destination: 1, at: .milliseconds(50))])
        _ = succeed(0, .zero)
        // Key 0 keeps flowing while destination 1 holds its events.
        for i in 1...3 {
            take(Self.accepted(m.offer(Self.batch([k0, k1], from: Int64(i * 10)), now: .milliseconds(i))))
            _ = succeed(0, .milliseconds(i))
        }
        #expect(delivered[0]!.count == 4)
        #expect(m.destinations[1].queuedEvents == 4)
        // Full: the engine must wait, and nothing of the chunk is taken (not even key 0's row).
        #expect(m.offer(Self.batch([k0, k1], from: 40), now: .milliseconds(5)) == .full(destination: 1))
        #expect(m.destinations[0].queuedEvents == 0)
        // Retry before the time: nothing; at the time: the head goes again, and fails again.
        #expect(m.retryDue(destination: 1, now: .milliseconds(10)).isEmpty)
        take(m.retryDue(destination: 1, now: .milliseconds(50)))
        let again = m.sendFailed(destination: 1, chunk: inFlight.removeValue(forKey: 1)!.id, retryable: true, reason: "refused", now: .milliseconds(50))
        #expect(again == [.retry(destination: 1, at: .milliseconds(150))], "the backoff doubles")
        // Back: the whole buffer drains in order and the engine is resumed.
        take(m.retryDue(destination: 1, now: .milliseconds(150)))
        let resumed = succeed(1, .milliseconds(151))
        #expect(resumed.contains(.resumeEngine))
        while inFlight[1] != nil { _ = succeed(1, .milliseconds(152)) }
        #expect(delivered[1] == [k1, k1, k1, k1])
        take(Self.accepted(m.offer(Self.batch([k0, k1], from: 40), now: .milliseconds(153))))
        _ = succeed(0, .milliseconds(153))
        _ = succeed(1, .milliseconds(153))
        #expect(delivered[0]!.count == 5 && delivered[1]!.count == 5)
        #expect(m.pendingEvents == 0)
    }

    /// What a `DeliveryLedger` needs: how many events an offer took for its input batch, and each
    /// chunk with that batch's root, once, when it no longer holds the acknowledgement back.
    @Test func chunksCarryTheirInputBatchAndSettleOnce() {
        var m = Machine(configuration: .init(strategy: .broadcast, members: [1, 1], maxBatch: 2, maxInFlight: 4))
        let actions = Self.accepted(m.offer(Self.batch(["t1", "t2", "t3"]), root: 77, now: .zero))
        #expect(m.lastOfferEvents == 6, "three events to each of two destinations")
        let sent = actions.compactMap { if case .send(let d, _, let c) = $0 { (d, c) } else { nil } }
        #expect(sent.count == 4 && sent.allSatisfy { $0.1.root == 77 })
        func settled(_ actions: [Action]) -> [UInt64] { actions.compactMap { if case .settled(_, let c) = $0 { c.id } else { nil } } }
        let toZero = sent.filter { $0.0 == 0 }.map(\.1), toOne = sent.filter { $0.0 == 1 }.map(\.1)
        // Acknowledged out of order: nothing leaves until the head does, then both in order.
        #expect(settled(m.sendSucceeded(destination: 0, chunk: toZero[1].id, now: .zero)).isEmpty)
        #expect(settled(m.sendSucceeded(destination: 0, chunk: toZero[0].id, now: .zero)) == [toZero[0].id, toZero[1].id])
        // Destination 1 goes down: what it holds stops holding the acknowledgement back, once.
        let down = m.sendFailed(destination: 1, chunk: toOne[0].id, retryable: true, reason: "refused", now: .zero)
        #expect(settled(down) == toOne.map(\.id))
        let later = Self.accepted(m.offer(Self.batch(["t4"]), root: 78, now: .milliseconds(1)))
        #expect(settled(later).count == 1, "a chunk queued for a down destination settles at once")
        let back = m.retryDue(destination: 1, now: .milliseconds(60))
        guard case .send(1, _, let probe)? = back.first else { Issue.record("\(back)"); return }
        #expect(settled(m.sendSucceeded(destination: 1, chunk: probe.id, now: .milliseconds(61))).isEmpty, "settled already")
    }

    @Test func aBinarySinksRoundRobinHandsOutWholeBatches() {
        var m = Machine(configuration: .init(strategy: .roundRobin, members: [1, 1, 1], maxInFlight: 4, wholeBatchRoundRobin: true))
        var destinations: [Int] = []
        for i in 0..<4 {
            let sends = Self.sends(Self.accepted(m.offer(Self.batch(["a\(i)", "b\(i)", "c\(i)"]), now: .zero)))
            #expect(sends.count == 1 && sends[0].rows == ["a\(i)", "b\(i)", "c\(i)"])
            destinations += sends.map(\.destination)
        }
        #expect(destinations == [0, 1, 2, 0])
    }

    @Test func roundRobinCyclesOverLiveDestinationsAcrossTheIntegerBoundaries() {
        for start: UInt64 in [UInt64(Int32.max) - 2, UInt64(UInt32.max) - 2, UInt64.max - 2] {
            var m = Machine(configuration: .init(strategy: .roundRobin, members: [1, 1, 1], roundRobinStart: start))
            let actions = Self.accepted(m.offer(Self.batch(["e0", "e1", "e2", "e3", "e4", "e5"]), now: .zero))
            let rows = Self.sends(actions).sorted { $0.destination < $1.destination }.map { $0.rows }
            let first = Int(start % 3)
            var expected: [[String]] = [[], [], []]
            for i in 0..<6 { expected[(first + i) % 3].append("e\(i)") }
            if start != UInt64.max - 2 {
                #expect(rows == expected, "start \(start)")
            } else {
                // At 2^64 the position wraps to 0 instead of trapping; every event still goes somewhere.
                #expect(rows.map(\.count).reduce(0, +) == 6)
            }
        }
    }

    /// Round-robin's destinations are interchangeable: a dead one's events must not wait for it.
    @Test func roundRobinReroutesADownDestinationsEventsAndProbesItAfterItsBackoff() {
        var m = Machine(configuration: .init(strategy: .roundRobin, members: [1, 1]))
        let actions = Self.accepted(m.offer(Self.batch(["e0", "e1"]), now: .zero))
        let toOne = Self.chunk(actions, to: 1)!
        _ = m.sendSucceeded(destination: 0, chunk: Self.chunk(actions, to: 0)!.id, now: .zero)
        let failed = m.sendFailed(destination: 1, chunk: toOne.id, retryable: true, reason: "down", now: .zero)
        #expect(Self.sends(failed).map(\.destination) == [0] && Self.sends(failed).first?.rows == ["e1"])
        #expect(failed.contains(.retry(destination: 1, at: .milliseconds(50))))
        #expect(m.destinations[1].queue.isEmpty && m.destinations[1].isDown)
        _ = m.sendSucceeded(destination: 0, chunk: toOne.id, now: .milliseconds(1))

        // While it backs off, new events skip it.
        let next = Self.accepted(m.offer(Self.batch(["e2", "e3", "e4"]), now: .milliseconds(2)))
        #expect(Self.sends(next).map(\.destination) == [0] && Self.sends(next).first?.rows == ["e2", "e3", "e4"])
        _ = m.sendSucceeded(destination: 0, chunk: Self.chunk(next, to: 0)!.id, now: .milliseconds(3))
        #expect(m.retryDue(destination: 1, now: .milliseconds(50)).isEmpty)

        // After its backoff a chunk probes it; once it answers it takes its share again.
        let probe = Self.accepted(m.offer(Self.batch(["e5", "e6"]), now: .milliseconds(60)))
        #expect(Set(Self.sends(probe).map(\.destination)) == [0, 1])
        _ = m.sendSucceeded(destination: 1, chunk: Self.chunk(probe, to: 1)!.id, now: .milliseconds(61))
        #expect(!m.destinations[1].isDown)
        #expect(m.pendingEvents == 1)
    }

    @Test func roundRobinHoldsEverythingWhileEveryDestinationIsDown() {
        var m = Machine(configuration: .init(strategy: .roundRobin, members: [1, 1]))
        let actions = Self.accepted(m.offer(Self.batch(["e0", "e1"]), now: .zero))
        // Destination 1 is still up (sending): 0's chunk queues behind its own.
        let first = m.sendFailed(destination: 0, chunk: Self.chunk(actions, to: 0)!.id, retryable: true, reason: "down", now: .zero)
        #expect(Self.sends(first).isEmpty && m.destinations[1].queue.count == 2)
        // Now 1 fails too, with nowhere to go: it holds both and retries.
        let second = m.sendFailed(destination: 1, chunk: Self.chunk(actions, to: 1)!.id, retryable: true, reason: "down", now: .zero)
        #expect(second == [.retry(destination: 1, at: .milliseconds(50))])
        #expect(m.destinations[1].queue.map { $0.batch.columns[0].string(at: 0) } == ["e1", "e0"] && m.pendingEvents == 2)
        #expect(Self.sends(m.retryDue(destination: 1, now: .milliseconds(50))).first?.rows == ["e1"])
    }

    /// With WAIT, an engine waiting on a down destination's full buffer resumes once its events moved on.
    @Test func roundRobinRerouteResumesAWaitingEngine() {
        var m = Machine(configuration: .init(strategy: .roundRobin, members: [1, 1], bufferLimit: 2))
        let actions = Self.accepted(m.offer(Self.batch(["e0", "e1", "e2", "e3"]), now: .zero))
        _ = m.sendSucceeded(destination: 0, chunk: Self.chunk(actions, to: 0)!.id, now: .zero)
        #expect(m.offer(Self.batch(["e4", "e5", "e6", "e7"]), now: .zero) == .full(destination: 1))
        let failed = m.sendFailed(destination: 1, chunk: Self.chunk(actions, to: 1)!.id, retryable: true, reason: "down", now: .zero)
        #expect(failed.contains(.resumeEngine) && Self.sends(failed).first?.rows == ["e1", "e3"])
    }

    @Test func broadcastSendsEverywhereAndACaughtUpDestinationGetsItAll() {
        var m = Machine(configuration: .init(strategy: .broadcast, members: [1, 1]))
        let first = Self.accepted(m.offer(Self.batch(["x"]), now: .zero))
        #expect(Self.sends(first).map { $0.destination } == [0, 1])
        _ = m.sendSucceeded(destination: 0, chunk: Self.chunk(first, to: 0)!.id, now: .zero)
        _ = m.sendFailed(destination: 1, chunk: Self.chunk(first, to: 1)!.id, retryable: true, reason: "down", now: .zero)
        let second = Self.accepted(m.offer(Self.batch(["y"]), now: .milliseconds(1)))
        #expect(Self.sends(second).map { $0.destination } == [0])
        #expect(m.destinations[1].queue.map(\.count) == [1, 1])
        let retried = m.retryDue(destination: 1, now: .milliseconds(50))
        #expect(Self.sends(retried).map { $0.rows } == [["x"]])
        let caughtUp = m.sendSucceeded(destination: 1, chunk: Self.chunk(retried, to: 1)!.id, now: .milliseconds(51))
        #expect(Self.sends(caughtUp).map { $0.rows } == [["y"]])
    }

    @Test func logDropsAfterTheRetriesAndNeverBlocks() {
        var m = Self.partitioned(buffer: 1, onError: .log)
        let (_, k1) = Self.keys
        var head = Self.chunk(Self.accepted(m.offer(Self.batch([k1]), now: .zero)), to: 1)!
        // Full buffer: the new row is dropped at once, the engine never waits.
        let overflow = Self.accepted(m.offer(Self.batch([k1, k1], from: 1), now: .zero))
        guard case .drop(1, let dropped, _)? = overflow.first else { Issue.record("\(overflow)"); return }
        #expect(dropped.count == 2)
        var now = Duration.zero
        var actions: [Action] = []
        for attempt in 1...3 {
            actions = m.sendFailed(destination: 1, chunk: head.id, retryable: true, reason: "down", now: now)
            if attempt < 3, case .retry(_, let at)? = actions.last {
                now = at
                head = Self.chunk(m.retryDue(destination: 1, now: now), to: 1)!
            }
        }
        #expect(actions.contains { if case .drop(1, let c, let reason) = $0 { c.id == head.id && reason.contains("3 attempts") } else { false } })
        #expect(m.pendingEvents == 0)
    }

    @Test func streamSendsFailedEventsToTheFaultStream() {
        var m = Self.partitioned(onError: .stream)
        let (k0, _) = Self.keys
        let sent = Self.chunk(Self.accepted(m.offer(Self.batch([k0]), now: .zero)), to: 0)!
        // A refusal (HTTP 400) is not retried.
        let actions = m.sendFailed(destination: 0, chunk: sent.id, retryable: false, reason: "400 bad event", now: .zero)
        #expect(actions == [.fault(destination: 0, chunk: sent, reason: "400 bad event")])
    }

    @Test func groupFailsOverToTheNextMemberAtOnceAndBacksOffAfterAFullRound() {
        var m = Machine(configuration: .init(strategy: .roundRobin, members: [2]))
        let first = Self.accepted(m.offer(Self.batch(["x"]), now: .zero))
        guard case .send(0, 0, let chunk)? = first.first else { Issue.record("\(first)"); return }
        #expect(m.sendFailed(destination: 0, chunk: chunk.id, retryable: true, reason: "refused", now: .zero)
                == [.send(destination: 0, member: 1, chunk: chunk)])
        #expect(m.sendFailed(destination: 0, chunk: chunk.id, retryable: true, reason: "refused", now: .zero)
                == [.retry(destination: 0, at: .milliseconds(50))])
        #expect(m.retryDue(destination: 0, now: .milliseconds(50)) == [.send(destination: 0, member: 0, chunk: chunk)])
        // Member 0 is back; the sink stays with the member that answers.
        #expect(m.sendSucceeded(destination: 0, chunk: chunk.id, now: .milliseconds(51)).isEmpty)
        let next = Self.accepted(m.offer(Self.batch(["y"]), now: .milliseconds(52)))
        guard case .send(0, 0, _)? = next.first else { Issue.record("\(next)"); return }
    }

    @Test func bigChunksAreSentInBoundedPieces() {
        var m = Machine(configuration: .init(strategy: .roundRobin, members: [1], maxBatch: 2))
        let actions = Self.accepted(m.offer(Self.batch(["a", "b", "c", "d", "e"]), now: .zero))
        #expect(Self.sends(actions).map { $0.rows } == [["a", "b"]])
        #expect(m.destinations[0].queue.map(\.count) == [2, 2, 1])
    }

    @Test func backoffGrowsToItsCap() {
        let m = Machine(configuration: .init(strategy: .roundRobin, members: [1], initialBackoff: .milliseconds(50), maxBackoff: .milliseconds(300)))
        #expect((1...6).map { m.backoff(failures: $0) } == [50, 100, 200, 300, 300, 300].map { Duration.milliseconds($0) })
    }
}

let PartitionTestKeys = (0..<50).map { "tenant\($0 < 10 ? "0" : "")\($0).com" }
