import Testing
@testable import SluiceCluster

/// Every transition of membership and election, as values.
@Suite struct ElectionTests {
    @Test func electionTimeoutIsFailureTimeoutPlusSeededJitter() {
        let m = GroupMember(configuration: config(), now: .zero, seed: 42)
        #expect(m.electionDeadline >= ms(300) && m.electionDeadline < ms(450))
        let same = GroupMember(configuration: config(), now: .zero, seed: 42)
        #expect(same.electionDeadline == m.electionDeadline, "the same seed, the same timeout")
        let seeds = Set((0..<20).map { GroupMember(configuration: config(), now: .zero, seed: $0).electionDeadline })
        #expect(seeds.count > 10, "randomized, so two nodes rarely time out together")
    }

    @Test func nothingHappensBeforeTheDeadline() {
        var m = GroupMember(configuration: config(), now: .zero, seed: 1)
        #expect(m.tick(now: ms(299)).isEmpty)
        #expect(m.role == .follower(leader: nil))
    }

    @Test func timeoutAsksForPreVotesWithoutChangingTheTerm() {
        var m = GroupMember(configuration: config(), now: .zero, seed: 1)
        let actions = m.tick(now: ms(500))
        #expect(persists(actions).isEmpty)
        #expect(m.term == 0)
        #expect(voteRequests(actions) == [VoteRequest(term: 1, candidate: "a", lastLog: .zero, isPreVote: true),
                                          VoteRequest(term: 1, candidate: "a", lastLog: .zero, isPreVote: true)])
        #expect(Set(sent(actions).map(\.0)) == ["b", "w"])
    }

    @Test func aPreVoteMajorityStartsTheElectionButVotesWaitForTheDisk() {
        var m = GroupMember(configuration: config(), now: .zero, seed: 1)
        _ = m.tick(now: ms(500))
        let actions = m.received(.voteResponse(VoteResponse(term: 1, voter: "w", granted: true, isPreVote: true)), from: "w", now: ms(501))
        #expect(actions == [.persist(PersistentState(term: 1, votedFor: "a"))], "requests are held until the term is durable")
        let released = m.persisted(PersistentState(term: 1, votedFor: "a"), now: ms(502))
        #expect(voteRequests(released).map(\.isPreVote) == [false, false])
        #expect(voteRequests(released).allSatisfy { $0.term == 1 })
    }

    @Test func twoOfThreeVotesMakeALeaderThatMarksItsTermAndReachesOut() {
        var m = GroupMember(configuration: config(), now: .zero, seed: 1)
        _ = m.tick(now: ms(500))
        _ = m.received(.voteResponse(VoteResponse(term: 1, voter: "b", granted: true, isPreVote: true)), from: "b", now: ms(501))
        _ = m.persisted(PersistentState(term: 1, votedFor: "a"), now: ms(502))
        let actions = m.received(.voteResponse(VoteResponse(term: 1, voter: "b", granted: true, isPreVote: false)), from: "b", now: ms(503))
        #expect(m.isLeader)
        #expect(actions.first == .lead(term: 1, resendOutputsAfter: 0))
        #expect(m.log.last == LogPosition(term: 1, index: 1))
        #expect(appends(actions).first?.entries.map(\.record) == [.termStart])
        #expect(sent(actions, to: "w").count == 1, "the witness hears from the new leader at once")
    }

    @Test func aRefusedOrStaleVoteDoesNotCount() {
        var m = GroupMember(configuration: config(), now: .zero, seed: 1)
        _ = m.tick(now: ms(500))
        _ = m.received(.voteResponse(VoteResponse(term: 0, voter: "w", granted: false, isPreVote: true)), from: "w", now: ms(501))
        // A pre-vote for another round's term does not count either.
        _ = m.received(.voteResponse(VoteResponse(term: 3, voter: "b", granted: true, isPreVote: true)), from: "b", now: ms(501))
        #expect(m.role == .preCandidate(term: 1, grants: ["a"]))
    }

    @Test func aFailedRoundRetriesAfterOneToTwoIntervals() {
        var m = GroupMember(configuration: config(), now: .zero, seed: 1)
        _ = m.tick(now: ms(500))
        #expect(m.electionDeadline >= ms(600) && m.electionDeadline < ms(700))
        let retry = m.tick(now: m.electionDeadline)
        #expect(voteRequests(retry).count == 2)
    }

    @Test func aHigherTermMakesALeaderStepDownAtOnce() {
        var m = electedLeader()
        let actions = m.received(.append(AppendRequest(term: 5, leader: "b", prev: .zero, entries: [], leaderCommit: 0, deliveredOutput: 0)),
                                 from: "b", now: ms(600))
        #expect(actions.prefix(2) == [.stepDown(term: 1), .persist(PersistentState(term: 5, votedFor: nil))])
        #expect(!m.isLeader)
        #expect(m.currentLeader == "b")
        #expect(appendResponses(m.persisted(PersistentState(term: 5), now: ms(601))).first?.term == 5)
    }

    @Test func aFollowerGrantsOneVotePerTermToAnUpToDateCandidate() {
        var m = GroupMember(configuration: config("b", peer: "a"), now: .zero, seed: 1)
        let request = ClusterMessage.voteRequest(VoteRequest(term: 1, candidate: "a", lastLog: .zero, isPreVote: false))
        let actions = m.received(request, from: "a", now: ms(10))
        #expect(actions == [.persist(PersistentState(term: 1, votedFor: "a"))])
        let released = m.persisted(PersistentState(term: 1, votedFor: "a"), now: ms(11))
        #expect(released == [.send(to: "a", .voteResponse(VoteResponse(term: 1, voter: "b", granted: true, isPreVote: false)))])
        let rival = m.received(.voteRequest(VoteRequest(term: 1, candidate: "c", lastLog: .zero, isPreVote: false)), from: "c", now: ms(12))
        #expect(rival == [.send(to: "c", .voteResponse(VoteResponse(term: 1, voter: "b", granted: false, isPreVote: false)))])
    }

    @Test func aFollowerRefusesACandidateWithAShorterLog() {
        var m = GroupMember(configuration: config("b", peer: "a"), now: .zero, seed: 1)
        _ = m.received(.append(AppendRequest(term: 1, leader: "a", prev: .zero, entries: [LogEntry(index: 1, term: 1, record: .termStart)],
                                             leaderCommit: 0, deliveredOutput: 0)), from: "a", now: ms(1))
        _ = m.persisted(PersistentState(term: 1), now: ms(2))
        _ = m.received(.voteRequest(VoteRequest(term: 2, candidate: "c", lastLog: .zero, isPreVote: false)), from: "c", now: ms(900))
        let released = m.persisted(PersistentState(term: 2), now: ms(901))
        #expect(released == [.send(to: "c", .voteResponse(VoteResponse(term: 2, voter: "b", granted: false, isPreVote: false)))])
    }

    @Test func aFollowerThatHearsItsLeaderRefusesPreVotes() {
        var m = GroupMember(configuration: config("b", peer: "a"), now: .zero, seed: 1)
        _ = m.received(.append(AppendRequest(term: 1, leader: "a", prev: .zero, entries: [], leaderCommit: 0, deliveredOutput: 0)), from: "a", now: ms(100))
        _ = m.persisted(PersistentState(term: 1), now: ms(101))
        let pre = ClusterMessage.voteRequest(VoteRequest(term: 2, candidate: "c", lastLog: .zero, isPreVote: true))
        #expect(m.received(pre, from: "c", now: ms(200)) == [.send(to: "c", .voteResponse(VoteResponse(term: 1, voter: "b", granted: false, isPreVote: true)))])
        #expect(m.received(pre, from: "c", now: ms(500)) == [.send(to: "c", .voteResponse(VoteResponse(term: 2, voter: "b", granted: true, isPreVote: true)))])
        #expect(m.term == 1, "a pre-vote changes no term")
    }

    @Test func aRestartedNodeWithoutItsLogNeitherCampaignsNorVotes() {
        var m = GroupMember(configuration: config(), persisted: PersistentState(term: 4, votedFor: "a"), incarnation: 1, now: .zero, seed: 1)
        #expect(!m.logIntact)
        #expect(m.tick(now: ms(1_000)).isEmpty)
        let pre = m.received(.voteRequest(VoteRequest(term: 5, candidate: "b", lastLog: .zero, isPreVote: true)), from: "b", now: ms(1_001))
        #expect(pre == [.send(to: "b", .voteResponse(VoteResponse(term: 4, voter: "a", granted: false, isPreVote: true)))])
    }

    @Test func aLeaderThatHearsFromNeitherFollowerNorWitnessStepsDown() {
        var m = electedLeader()
        _ = m.tick(now: ms(700))
        let actions = m.tick(now: ms(900))
        #expect(actions.contains(.stepDown(term: 1)))
        #expect(!m.isLeader)
        #expect(m.term == 1, "stepping down for silence keeps the term")
    }

    @Test func withoutAWitnessANodeTakesItsOwnNextTermWithoutAVote() {
        var m = GroupMember(configuration: config("b", peer: "a", witness: nil), now: .zero, seed: 1)
        #expect(m.termOwner(1) == "a" && m.termOwner(2) == "b")
        let actions = m.tick(now: ms(500))
        #expect(actions == [.persist(PersistentState(term: 2, votedFor: "b"))])
        #expect(!m.isLeader, "not before the term is durable")
        let released = m.persisted(PersistentState(term: 2, votedFor: "b"), now: ms(502))
        #expect(released.first == .lead(term: 2, resendOutputsAfter: 0))
        #expect(m.isLeader)
    }

    @Test func persistenceOfAnOlderStateReleasesNothing() {
        var m = GroupMember(configuration: config("b", peer: "a"), now: .zero, seed: 1)
        _ = m.received(.voteRequest(VoteRequest(term: 1, candidate: "a", lastLog: .zero, isPreVote: false)), from: "a", now: ms(1))
        _ = m.received(.append(AppendRequest(term: 2, leader: "a", prev: .zero, entries: [], leaderCommit: 0, deliveredOutput: 0)), from: "a", now: ms(2))
        #expect(m.persisted(PersistentState(term: 1, votedFor: "a"), now: ms(3)).isEmpty)
        #expect(sent(m.persisted(PersistentState(term: 2), now: ms(4))).count == 2)
    }
}
