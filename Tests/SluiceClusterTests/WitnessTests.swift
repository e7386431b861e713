import Testing
@testable import SluiceCluster

@Suite struct WitnessTests {
    func request(_ term: Term, _ candidate: NodeID, last: LogPosition = .zero, pre: Bool = false) -> ClusterMessage {
        .voteRequest(VoteRequest(term: term, candidate: candidate, lastLog: last, isPreVote: pre))
    }

    func responses(_ actions: [Witness.Action]) -> [VoteResponse] {
        actions.compactMap { if case .send(_, .voteResponse(let r)) = $0 { r } else { nil } }
    }

    @Test func aVoteIsPersistedBeforeItIsSent() {
        var w = Witness(selfID: "w")
        let actions = w.received(request(1, "a"), from: "a", now: ms(0))
        #expect(actions == [.persist(Witness.State(term: 1, votedFor: "a"))])
        let released = w.persisted(Witness.State(term: 1, votedFor: "a"))
        #expect(responses(released) == [VoteResponse(term: 1, voter: "w", granted: true, isPreVote: false)])
    }

    @Test func votesAtMostOncePerTerm() {
        var w = Witness(selfID: "w", persisted: Witness.State(term: 1, votedFor: "a"))
        #expect(responses(w.received(request(1, "b"), from: "b", now: ms(0))).first?.granted == false)
        #expect(responses(w.received(request(1, "a"), from: "a", now: ms(0))).first?.granted == true, "the same candidate may ask again")
    }

    @Test func refusesACandidateBehindTheLogItConfirmed() {
        var w = Witness(selfID: "w", persisted: Witness.State(term: 2, votedFor: nil, knownLog: LogPosition(term: 2, index: 10)))
        _ = w.received(request(3, "b", last: LogPosition(term: 2, index: 9)), from: "b", now: ms(0))
        #expect(responses(w.persisted(w.state)).first?.granted == false)
        _ = w.received(request(4, "b", last: LogPosition(term: 2, index: 10)), from: "b", now: ms(0))
        #expect(responses(w.persisted(w.state)).first?.granted == true)
    }

    @Test func preVoteIsRefusedWhileALeaderIsAliveAndChangesNothing() {
        var w = Witness(selfID: "w", persisted: Witness.State(term: 1, votedFor: "a"))
        let sync = ClusterMessage.witnessSync(WitnessSync(term: 1, leader: "a", last: LogPosition(term: 1, index: 3)))
        _ = w.received(sync, from: "a", now: ms(1_000))
        _ = w.persisted(w.state)
        #expect(responses(w.received(request(2, "b", last: LogPosition(term: 1, index: 3), pre: true), from: "b", now: ms(1_200))).first?.granted == false)
        let later = responses(w.received(request(2, "b", last: LogPosition(term: 1, index: 3), pre: true), from: "b", now: ms(1_400)))
        #expect(later == [VoteResponse(term: 2, voter: "w", granted: true, isPreVote: true)])
        #expect(w.state.term == 1)
    }

    @Test func syncRecordsTheLeadersPositionDurably() {
        var w = Witness(selfID: "w", persisted: Witness.State(term: 1, votedFor: "a"))
        let actions = w.received(.witnessSync(WitnessSync(term: 1, leader: "a", last: LogPosition(term: 1, index: 7))), from: "a", now: ms(0))
        #expect(actions == [.persist(Witness.State(term: 1, votedFor: "a", knownLog: LogPosition(term: 1, index: 7)))])
        let released = w.persisted(w.state)
        #expect(released == [.send(to: "a", .witnessSyncResponse(WitnessSyncResponse(term: 1, success: true, confirmed: LogPosition(term: 1, index: 7))))])
    }

    @Test func syncFromADeposedLeaderIsRefusedWithTheNewTerm() {
        var w = Witness(selfID: "w", persisted: Witness.State(term: 3, votedFor: "b"))
        let actions = w.received(.witnessSync(WitnessSync(term: 2, leader: "a", last: LogPosition(term: 2, index: 9))), from: "a", now: ms(0))
        #expect(actions == [.send(to: "a", .witnessSyncResponse(WitnessSyncResponse(term: 3, success: false, confirmed: .zero)))])
    }

    @Test func aLaterReorderedSyncNeverLowersTheKnownPosition() {
        var w = Witness(selfID: "w", persisted: Witness.State(term: 1, votedFor: "a", knownLog: LogPosition(term: 1, index: 9)))
        _ = w.received(.witnessSync(WitnessSync(term: 1, leader: "a", last: LogPosition(term: 1, index: 4))), from: "a", now: ms(0))
        #expect(w.state.knownLog == LogPosition(term: 1, index: 9))
    }
}
