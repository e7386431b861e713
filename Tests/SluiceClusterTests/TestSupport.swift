@testable import SluiceCluster

typealias Action = GroupMember.Action

func ms(_ v: Int64) -> MonotonicInstant { .milliseconds(v) }

func config(_ me: NodeID = "a", peer: NodeID = "b", witness: NodeID? = "w", replication: ReplicationMode = .sync,
            maxRetained: Int = 1_000) -> GroupConfiguration {
    GroupConfiguration(groupID: "g1", selfID: me, peerID: peer, witnessID: witness, replication: replication,
                       maxEntriesPerAppend: 8, maxRetainedEntries: maxRetained)
}

func sent(_ actions: [Action]) -> [(NodeID, ClusterMessage)] {
    actions.compactMap { if case .send(let to, let m) = $0 { (to, m) } else { nil } }
}

func sent(_ actions: [Action], to node: NodeID) -> [ClusterMessage] {
    sent(actions).filter { $0.0 == node }.map(\.1)
}

func persists(_ actions: [Action]) -> [PersistentState] {
    actions.compactMap { if case .persist(let s) = $0 { s } else { nil } }
}

func voteRequests(_ actions: [Action]) -> [VoteRequest] {
    sent(actions).compactMap { if case .voteRequest(let r) = $0.1 { r } else { nil } }
}

func appends(_ actions: [Action]) -> [AppendRequest] {
    sent(actions).compactMap { if case .append(let r) = $0.1 { r } else { nil } }
}

func appendResponses(_ actions: [Action]) -> [AppendResponse] {
    sent(actions).compactMap { if case .appendResponse(let r) = $0.1 { r } else { nil } }
}

func acknowledgedThrough(_ actions: [Action]) -> UInt64? {
    actions.compactMap { if case .acknowledge(let i) = $0 { i } else { nil } }.last
}

func applied(_ actions: [Action]) -> [LogEntry] {
    actions.flatMap { (a: Action) -> [LogEntry] in if case .apply(let e) = a { e } else { [] } }
}

/// Drives `a` through pre-vote and election in term 1 with the witness's votes, its term
/// persisted, returning the machine leading at `now`.
func electedLeader(_ configuration: GroupConfiguration = config(), now: MonotonicInstant = ms(500)) -> GroupMember {
    var m = GroupMember(configuration: configuration, now: .zero, seed: 1)
    _ = m.tick(now: now)
    _ = m.received(.voteResponse(VoteResponse(term: 1, voter: "w", granted: true, isPreVote: true)), from: "w", now: now)
    _ = m.persisted(PersistentState(term: 1, votedFor: configuration.selfID), now: now)
    _ = m.received(.voteResponse(VoteResponse(term: 1, voter: "w", granted: true, isPreVote: false)), from: "w", now: now)
    precondition(m.isLeader)
    return m
}

func ack(_ match: UInt64, term: Term = 1, success: Bool = true, incarnation: UInt64 = 0, applied: UInt64? = nil) -> ClusterMessage {
    .appendResponse(AppendResponse(term: term, follower: "b", incarnation: incarnation, success: success, matchIndex: match,
                                   appliedIndex: applied ?? match))
}

func batch(_ v: UInt8) -> LogEntry.Record { .batch([v]) }
