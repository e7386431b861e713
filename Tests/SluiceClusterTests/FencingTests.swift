import SluiceWire
import Testing
@testable import SluiceCluster

@Suite struct FencingTests {
    @Test func termFenceAcceptsOnlyTheHighestTermPerGroup() {
        var fence = TermFence()
        let ok1 = fence.admit(group: "g1", term: 3)
        #expect(ok1)
        let ok2 = fence.admit(group: "g1", term: 3)
        #expect(ok2)
        let ok3 = fence.admit(group: "g1", term: 4)
        #expect(ok3)
        let ok4 = fence.admit(group: "g1", term: 3)
        #expect(!ok4, "a deposed leader's output")
        let ok5 = fence.admit(group: "g2", term: 1)
        #expect(ok5, "groups are fenced separately")
    }

    func id(_ term: Term, _ sequence: UInt64, group: String = "g1") -> OutputIdentity {
        OutputIdentity(group: group, term: term, sequence: sequence)
    }

    @Test func deduplicatorAppliesInOrderAndDropsRepeats() {
        var d = OutputDeduplicator()
        #expect(d.receive(id(1, 1)) == .accept)
        #expect(d.receive(id(1, 2)) == .accept)
        #expect(d.receive(id(1, 2)) == .duplicate)
        #expect(d.receive(id(1, 4)) == .gap(expected: 3))
        #expect(d.receive(id(1, 3)) == .accept)
    }

    @Test func aNewLeaderResendingFromALaggingWatermarkDuplicatesNothing() {
        var d = OutputDeduplicator()
        for s in 1...5 as ClosedRange<UInt64> { #expect(d.receive(id(1, s)) == .accept) }
        // The replicated watermark said 3: the new leader resends 4 and 5, then goes on.
        #expect(d.receive(id(2, 4)) == .duplicate)
        #expect(d.receive(id(2, 5)) == .duplicate)
        #expect(d.receive(id(2, 6)) == .accept)
        #expect(d.receive(id(1, 7)) == .fenced(highestTerm: 2))
        #expect(d.applied["g1"] == 6)
    }
}
