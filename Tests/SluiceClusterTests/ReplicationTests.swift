import Testing
@testable import SluiceCluster

/// Both sides of log replication, as values.
@Suite struct ReplicationTests {
    @Test func anAppendStaysUnderItsByteBudgetButAlwaysCarriesOneEntry() {
        var budget = config()
        budget.maxAppendBytes = 150
        var m = electedLeader(budget)
        for _ in 0..<3 { _ = m.appendBatch(Array(repeating: 1, count: 60), now: ms(510)) }
        // A refusal rewinds to the start: the resend is cut by bytes (term start 32 + one batch 92).
        let retry = m.received(ack(0, success: false), from: "b", now: ms(511))
        #expect(appends(retry).last?.entries.count == 2)

        var tiny = config()
        tiny.maxAppendBytes = 1
        var t = electedLeader(tiny)
        _ = t.appendBatch(Array(repeating: 1, count: 60), now: ms(510))
        let again = t.received(ack(0, success: false), from: "b", now: ms(511))
        #expect(appends(again).last?.entries.count == 1, "an entry over the budget still goes, alone")
    }

    @Test func aLeaderElectedAfterItsPeerWentSilentCommitsWithTheWitnessAtOnce() {
        var m = GroupMember(configuration: config(), now: .zero, seed: 1)
        _ = m.received(.append(AppendRequest(term: 1, leader: "b", prev: .zero, entries: [], leaderCommit: 0, deliveredOutput: 0)),
                       from: "b", now: ms(100))
        _ = m.persisted(PersistentState(term: 1, votedFor: nil), now: ms(100))
        // b is gone: a campaigns once the failure timeout and its jitter have passed.
        _ = m.tick(now: ms(600))
        _ = m.received(.voteResponse(VoteResponse(term: 2, voter: "w", granted: true, isPreVote: true)), from: "w", now: ms(600))
        _ = m.persisted(PersistentState(term: 2, votedFor: "a"), now: ms(601))
        _ = m.received(.voteResponse(VoteResponse(term: 2, voter: "w", granted: true, isPreVote: false)), from: "w", now: ms(602))
        #expect(m.isLeader)
        #expect(m.isDegraded(at: ms(602)), "b was last heard 500 ms ago: lost from the start, no second timeout")
        let (index, actions) = m.appendBatch([7], now: ms(603))
        #expect(sent(actions, to: "w").contains(.witnessSync(WitnessSync(term: 2, leader: "a", last: LogPosition(term: 2, index: 2)))))
        let confirmed = m.received(.witnessSyncResponse(WitnessSyncResponse(term: 2, success: true, confirmed: LogPosition(term: 2, index: 2))),
                                   from: "w", now: ms(604))
        #expect(index == 2 && acknowledgedThrough(confirmed) == 2)
    }

    @Test func aFollowerOnlyAcceptsInputWhenLeading() {
        var m = GroupMember(configuration: config(), now: .zero, seed: 1)
        #expect(m.appendBatch([1], now: ms(1)).index == nil)
    }

    @Test func inputIsStreamedAndAcknowledgedOnlyAfterTheFollowerHasIt() {
        var m = electedLeader()
        let (index, actions) = m.appendBatch([7], now: ms(510))
        #expect(index == 2)
        #expect(acknowledgedThrough(actions) == nil)
        #expect(appends(actions).last?.entries.map(\.record) == [.batch([7])])
        let acked = m.received(ack(2), from: "b", now: ms(511))
        #expect(applied(acked).map(\.index) == [1, 2], "committed entries go to the engine")
        #expect(acknowledgedThrough(acked) == 2)
    }

    @Test func theWitnessConfirmationAloneDoesNotAcknowledgeWhileTheFollowerIsAlive() {
        var m = electedLeader()
        _ = m.appendBatch([7], now: ms(510))
        let actions = m.received(.witnessSyncResponse(WitnessSyncResponse(term: 1, success: true, confirmed: LogPosition(term: 1, index: 2))),
                                 from: "w", now: ms(511))
        #expect(applied(actions).map(\.index) == [1, 2], "two voters hold it: committed")
        #expect(acknowledgedThrough(actions) == nil, "sync: not acknowledged before the follower has it")
    }

    @Test func aLeaderWhoseFollowerIsLostGoesOnDegradedWithTheWitness() {
        var m = electedLeader()
        _ = m.received(.witnessSyncResponse(WitnessSyncResponse(term: 1, success: true, confirmed: .zero)), from: "w", now: ms(700))
        _ = m.tick(now: ms(900))
        #expect(m.isDegraded(at: ms(900)))
        let (_, actions) = m.appendBatch([7], now: ms(900))
        let syncs = sent(actions, to: "w")
        #expect(syncs == [.witnessSync(WitnessSync(term: 1, leader: "a", last: LogPosition(term: 1, index: 2)))])
        let confirmed = m.received(.witnessSyncResponse(WitnessSyncResponse(term: 1, success: true, confirmed: LogPosition(term: 1, index: 2))),
                                   from: "w", now: ms(901))
        #expect(acknowledgedThrough(confirmed) == 2)
    }

    @Test func whileTheFollowerIsAliveTheWitnessOnlyLearnsWhatTheFollowerHas() {
        var m = electedLeader()
        _ = m.appendBatch([7], now: ms(510))
        _ = m.received(ack(1), from: "b", now: ms(511))
        let beat = m.tick(now: ms(600))
        #expect(sent(beat, to: "w") == [.witnessSync(WitnessSync(term: 1, leader: "a", last: LogPosition(term: 1, index: 1)))],
                "so the follower stays electable if the leader dies")
    }

    @Test func withoutAWitnessALostFollowerStopsAcknowledgements() {
        var m = GroupMember(configuration: config(witness: nil), now: .zero, seed: 1)
        _ = m.tick(now: ms(500))
        _ = m.persisted(PersistentState(term: 1, votedFor: "a"), now: ms(501))
        #expect(m.isLeader)
        let (_, actions) = m.appendBatch([7], now: ms(600))
        #expect(acknowledgedThrough(actions) == nil)
        #expect(acknowledgedThrough(m.tick(now: ms(2_000))) == nil)
        #expect(m.isLeader, "it holds the lead but acknowledges nothing alone")
    }

    @Test func asyncAcknowledgesOnAppend() {
        var m = electedLeader(config(replication: .async))
        let (_, actions) = m.appendBatch([7], now: ms(510))
        #expect(acknowledgedThrough(actions) == 2)
    }

    @Test func aRefusalMakesTheLeaderBackOffToTheFollowersHint() {
        var m = electedLeader()
        for v in 1...5 as ClosedRange<UInt8> { _ = m.appendBatch([v], now: ms(510)) }
        let actions = m.received(ack(0, success: false), from: "b", now: ms(511))
        #expect(appends(actions).first?.prev == .zero)
        #expect(appends(actions).first?.entries.map(\.index) == Array(1...6).prefix(8).map { UInt64($0) })
    }

    @Test func heartbeatsResendWhatWasNotConfirmed() {
        var m = electedLeader()
        _ = m.received(ack(1), from: "b", now: ms(505))
        _ = m.appendBatch([1], now: ms(510))
        let beat = m.tick(now: ms(600))
        #expect(appends(beat).first?.entries.map(\.index) == [2])
        #expect(appends(beat).first?.prev == LogPosition(term: 1, index: 1))
    }

    @Test func anAnswerFromAnEarlierIncarnationIsIgnored() {
        var m = electedLeader()
        _ = m.appendBatch([1], now: ms(510))
        _ = m.received(ack(0, success: false, incarnation: 2), from: "b", now: ms(511))
        let stale = m.received(ack(2, incarnation: 1), from: "b", now: ms(512))
        #expect(acknowledgedThrough(stale) == nil, "that log died with the old process")
        #expect(m.leading?.followerMatch == 0)
    }

    @Test func appliedEntriesAreTrimmedAndALaggingFollowerGetsASnapshot() {
        var m = electedLeader(config(maxRetained: 2))
        _ = m.received(ack(1), from: "b", now: ms(505))
        for v in 1...6 as ClosedRange<UInt8> { _ = m.appendBatch([v], now: ms(510)) }
        // Committed via the witness, while the follower sits at 1: the log grows past the bound.
        _ = m.received(.witnessSyncResponse(WitnessSyncResponse(term: 1, success: true, confirmed: LogPosition(term: 1, index: 7))), from: "w", now: ms(800))
        #expect(m.commitIndex == 7)
        #expect(m.log.base.index == 7, "trimmed through what the leader applied")
        // The follower restarted: its answer resets what the leader knew, and the next beat needs a snapshot.
        let back = m.received(ack(1, success: false, incarnation: 1), from: "b", now: ms(850))
        #expect(back.contains(.captureSnapshot))
        let snapshot = m.snapshotCaptured([42], through: LogPosition(term: 1, index: 7), now: ms(902))
        #expect(sent(snapshot, to: "b") == [.snapshot(SnapshotRequest(term: 1, leader: "a", lastIncluded: LogPosition(term: 1, index: 7), data: [42], deliveredOutput: 0))])
        let caughtUp = m.received(ack(7, incarnation: 1), from: "b", now: ms(903))
        #expect(acknowledgedThrough(caughtUp) == nil || acknowledgedThrough(caughtUp)! <= 7)
        #expect(m.leading?.followerMatch == 7)
    }

    // MARK: Follower side

    func append(_ entries: [LogEntry], prev: LogPosition = .zero, commit: UInt64 = 0, term: Term = 1, delivered: UInt64 = 0) -> ClusterMessage {
        .append(AppendRequest(term: term, leader: "a", prev: prev, entries: entries, leaderCommit: commit, deliveredOutput: delivered))
    }

    func entries(_ range: ClosedRange<UInt64>, term: Term = 1) -> [LogEntry] {
        range.map { LogEntry(index: $0, term: term, record: .batch([UInt8($0)])) }
    }

    func follower() -> GroupMember {
        var m = GroupMember(configuration: config("b", peer: "a"), now: .zero, seed: 1)
        _ = m.received(append([]), from: "a", now: ms(1))
        _ = m.persisted(PersistentState(term: 1), now: ms(1))
        return m
    }

    @Test func aFollowerAppendsAppliesWhatIsCommittedAndAnswers() {
        var m = follower()
        let actions = m.received(append(entries(1...3), commit: 2, delivered: 5), from: "a", now: ms(10))
        #expect(applied(actions).map(\.index) == [1, 2])
        #expect(actions.contains(.releaseOutputs(through: 5)))
        #expect(appendResponses(actions) == [AppendResponse(term: 1, follower: "b", incarnation: 0, success: true, matchIndex: 3, appliedIndex: 2)])
        #expect(m.log.base.index == 2, "applied entries are trimmed")
        #expect(m.deliveredOutput == 5)
    }

    @Test func aFollowerRefusesAGapAndHintsWhereToResume() {
        var m = follower()
        _ = m.received(append(entries(1...2), commit: 1), from: "a", now: ms(10))
        let actions = m.received(append(entries(6...6), prev: LogPosition(term: 1, index: 5)), from: "a", now: ms(11))
        #expect(appendResponses(actions).first?.success == false)
        #expect(appendResponses(actions).first?.matchIndex == 2)
    }

    @Test func aFollowerTruncatesADivergentTailFromANewLeader() {
        var m = follower()
        _ = m.received(append(entries(1...4), commit: 2), from: "a", now: ms(10))
        let newer = [LogEntry(index: 3, term: 2, record: .termStart)]
        _ = m.received(append(newer, prev: LogPosition(term: 1, index: 2), commit: 2, term: 2), from: "a", now: ms(20))
        #expect(m.log.last == LogPosition(term: 2, index: 3))
    }

    @Test func anAppendFromADeposedLeaderIsRefusedWithTheNewerTerm() {
        var m = follower()
        _ = m.received(append([], term: 3), from: "c", now: ms(10))
        _ = m.persisted(PersistentState(term: 3), now: ms(11))
        let actions = m.received(append(entries(1...1), term: 1), from: "a", now: ms(12))
        #expect(appendResponses(actions).map(\.term) == [3])
        #expect(appendResponses(actions).map(\.success) == [false])
    }

    @Test func aSnapshotThenAnAppendFromALeaderThatKnowsTheRestartRestoreTheRightToVote() {
        var m = GroupMember(configuration: config("b", peer: "a"), persisted: PersistentState(term: 1), incarnation: 1, now: .zero, seed: 1)
        #expect(!m.logIntact)
        let snap = ClusterMessage.snapshot(SnapshotRequest(term: 1, leader: "a", lastIncluded: LogPosition(term: 1, index: 40), data: [9], deliveredOutput: 3))
        let actions = m.received(snap, from: "a", now: ms(5))
        #expect(actions.contains(.restoreSnapshot([9], through: LogPosition(term: 1, index: 40))))
        #expect(appendResponses(actions).first?.matchIndex == 40)
        #expect(m.commitIndex == 40)
        #expect(!m.logIntact)
        let tail = [LogEntry(index: 41, term: 1, record: .tick(millis: 5))]
        // An append sent before the leader heard of the restart may carry a stale commit index.
        _ = m.received(.append(AppendRequest(term: 1, leader: "a", prev: LogPosition(term: 1, index: 40), entries: tail,
                                             leaderCommit: 41, deliveredOutput: 3, followerIncarnation: 0)), from: "a", now: ms(6))
        #expect(!m.logIntact)
        _ = m.received(.append(AppendRequest(term: 1, leader: "a", prev: LogPosition(term: 1, index: 40), entries: tail,
                                             leaderCommit: 41, deliveredOutput: 3, followerIncarnation: 1)), from: "a", now: ms(7))
        #expect(m.logIntact)
    }

    @Test func aStaleSnapshotDoesNotThrowAwayEntries() {
        var m = follower()
        _ = m.received(append(entries(1...5), commit: 4), from: "a", now: ms(10))
        let snap = ClusterMessage.snapshot(SnapshotRequest(term: 1, leader: "a", lastIncluded: LogPosition(term: 1, index: 3), data: [9], deliveredOutput: 0))
        let actions = m.received(snap, from: "a", now: ms(11))
        #expect(!actions.contains { if case .restoreSnapshot = $0 { true } else { false } })
        #expect(m.log.last.index == 5)
    }

    @Test func theDeliveredWatermarkTravelsToTheNextLeader() {
        var m = follower()
        _ = m.received(append(entries(1...2), commit: 2, delivered: 17), from: "a", now: ms(10))
        _ = m.tick(now: ms(1_000))
        _ = m.received(.voteResponse(VoteResponse(term: 2, voter: "w", granted: true, isPreVote: true)), from: "w", now: ms(1_001))
        _ = m.persisted(PersistentState(term: 2, votedFor: "b"), now: ms(1_002))
        let actions = m.received(.voteResponse(VoteResponse(term: 2, voter: "w", granted: true, isPreVote: false)), from: "w", now: ms(1_003))
        #expect(actions.first == .lead(term: 2, resendOutputsAfter: 17))
    }
}
