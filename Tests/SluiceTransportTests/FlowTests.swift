import SluiceWire
import Testing
@testable import SluiceTransport

@Suite struct SendWindowTests {
    @Test func creditLimitsBatchesInFlight() {
        var w = SendWindow(initialCredit: 2)
        let outcome1 = w.sent(1)
        #expect(outcome1)
        let outcome2 = w.sent(2)
        #expect(outcome2)
        let outcome3 = w.sent(3)
        #expect(!outcome3)
        let outcome4 = w.acknowledged(1)
        #expect(outcome4 == .retired)
        #expect(w.canSend)
        let outcome5 = w.acknowledged(1)
        #expect(outcome5 == .unknown)
        w.granted(3)
        #expect(w.credit == 4)
    }

    @Test func lostConnectionReturnsUnackedOldestFirst() {
        var w = SendWindow(initialCredit: 8)
        for s in 1...4 { _ = w.sent(UInt64(s)) }
        _ = w.acknowledged(2)
        #expect(w.connectionLost() == [1, 3, 4])
        #expect(w.inFlight.isEmpty)
    }
}

@Suite struct ReceiveWindowTests {
    @Test func senderPastItsCreditIsAViolation() {
        var r = ReceiveWindow(capacity: 1)
        let outcome6 = r.batchArrived()
        #expect(outcome6 == .accept)
        let outcome7 = r.batchArrived()
        #expect(outcome7 == .creditExceeded)
        r.batchSettled()
        let outcome8 = r.batchArrived()
        #expect(outcome8 == .accept)
    }
}

@Suite struct ProducerSequencesTests {
    @Test func aResentBatchIsAppliedOnce() {
        var p = ProducerSequences(memory: 4)
        let outcome9 = p.apply(producer: 7, sequence: 1)
        #expect(outcome9)
        let outcome10 = p.apply(producer: 7, sequence: 3)
        #expect(outcome10)
        let outcome11 = p.apply(producer: 7, sequence: 1)
        #expect(!outcome11)
        let outcome12 = p.apply(producer: 8, sequence: 1)
        #expect(outcome12)
        let outcome13 = p.apply(producer: 7, sequence: 2)
        #expect(outcome13)
    }

    @Test func forgottenSequencesCountAsApplied() {
        var p = ProducerSequences(memory: 2)
        for s in 1...5 { _ = p.apply(producer: 1, sequence: UInt64(s)) }
        #expect(p.wasApplied(producer: 1, sequence: 2))
        #expect(p.wasApplied(producer: 1, sequence: 5))
        #expect(!p.wasApplied(producer: 1, sequence: 6))
    }
}

@Suite struct CommandRingTests {
    @Test func fullRingRefusesAndDrainsInOrder() {
        let ring = CommandRing<Int>(capacity: 4)
        for i in 0..<4 { #expect(ring.offer(i)) }
        #expect(!ring.offer(99))
        var got: [Int] = []
        _ = ring.drain(limit: 3) { got.append($0) }
        #expect(got == [0, 1, 2])
        #expect(ring.offer(4))
        _ = ring.drain(limit: 10) { got.append($0) }
        #expect(got == [0, 1, 2, 3, 4])
    }

    @Test func manyProducersLoseNothing() async {
        let ring = CommandRing<Int>(capacity: 1024)
        await withTaskGroup(of: Void.self) { group in
            for p in 0..<4 {
                group.addTask {
                    for i in 0..<250 { while !ring.offer(p * 1000 + i) { await Task.yield() } }
                }
            }
        }
        var got: [Int] = []
        _ = ring.drain(limit: 2000) { got.append($0) }
        #expect(got.count == 1000)
        for p in 0..<4 {
            let mine = got.filter { $0 / 1000 == p }
            #expect(mine == mine.sorted())
        }
    }
}

@Suite struct OriginSequencesTests {
    func origin(_ term: UInt64, _ sequence: UInt64, _ part: UInt64 = 0, group: String = "g1") -> OutputOrigin {
        OutputOrigin(group: group, term: term, sequence: sequence, part: part)
    }

    @Test func eachOutputPartIsAppliedOncePerStream() {
        var seen = OriginSequences()
        #expect(seen.admit(origin(1, 5), stream: "In") == .apply)
        #expect(seen.admit(origin(1, 5, 1), stream: "In") == .apply)
        #expect(seen.admit(origin(1, 5), stream: "In") == .repeated)
        #expect(seen.admit(origin(2, 5, 1), stream: "In") == .repeated, "a new leader's resend of what arrived")
        #expect(seen.admit(origin(1, 5), stream: "Other") == .apply, "streams are counted apart")
        #expect(seen.admit(origin(1, 5, group: "g2"), stream: "In") == .apply, "groups are counted apart")
    }

    @Test func aRerouteMayDeliverOutOfOrderWithoutLoss() {
        var seen = OriginSequences()
        #expect(seen.admit(origin(1, 9), stream: "In") == .apply)
        #expect(seen.admit(origin(1, 8), stream: "In") == .apply, "an earlier output arriving late is not taken for a repeat")
        #expect(seen.admit(origin(1, 8), stream: "In") == .repeated)
    }

    @Test func theWindowIsExactAndForgetsTheOldestFirst() {
        var seen = OriginSequences(memory: 3)
        for s in 1...4 as ClosedRange<UInt64> { #expect(seen.admit(origin(0, s, group: "~"), stream: "In") == .apply) }
        #expect(seen.admit(origin(0, 4, group: "~"), stream: "In") == .repeated)
        #expect(seen.admit(origin(0, 2, group: "~"), stream: "In") == .repeated)
        #expect(seen.admit(origin(0, 1, group: "~"), stream: "In") == .apply, "out of the window: taken as new, never dropped")
    }

    @Test func aDeposedLeadersOutputIsFencedAndTheStateSurvivesASnapshot() {
        var seen = OriginSequences()
        _ = seen.admit(origin(3, 10), stream: "In")
        #expect(seen.admit(origin(2, 11), stream: "In") == .fenced)
        var restored = OriginSequences(terms: seen.terms, applied: Array(seen.remembered))
        #expect(restored.admit(origin(3, 10), stream: "In") == .repeated)
        #expect(restored.admit(origin(2, 12), stream: "In") == .fenced)
        #expect(restored.admit(origin(3, 11), stream: "In") == .apply)
    }

    @Test func derivedIdentitiesDependOnTheInputAndTheOutputIndexOnly() {
        let root = OutputOrigin(group: "g1", term: 2, sequence: 7, part: 1).derivationRoot
        #expect(OutputOrigin.derived(root: root, index: 0) == OutputOrigin.derived(root: root, index: 0), "any node derives the same identity")
        #expect(OutputOrigin.derived(root: root, index: 0) != OutputOrigin.derived(root: root, index: 1))
        #expect(OutputOrigin.derived(root: root, index: 0).group == OutputOrigin.derivedGroup)
        let producer = OutputOrigin.derivationRoot(producer: 42, sequence: 7)
        #expect(producer == OutputOrigin.derivationRoot(producer: 42, sequence: 7))
        #expect(producer != OutputOrigin.derivationRoot(producer: 42, sequence: 8))
        #expect(producer != OutputOrigin.derivationRoot(producer: 43, sequence: 7))
        #expect(root != OutputOrigin(group: "g1", term: 2, sequence: 7, part: 2).derivationRoot)
    }
}
