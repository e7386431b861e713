/// Asks for a vote, or, as a pre-vote, whether a vote would be granted. A pre-vote changes no
/// one's term, so a node cut off from the group cannot force a healthy leader out when it returns.
public struct VoteRequest: Sendable, Hashable {
    /// The candidate's new term (for a pre-vote, the term it would campaign in).
    public var term: Term
    public var candidate: NodeID
    public var lastLog: LogPosition
    public var isPreVote: Bool

    public init(term: Term, candidate: NodeID, lastLog: LogPosition, isPreVote: Bool) {
        self.term = term
        self.candidate = candidate
        self.lastLog = lastLog
        self.isPreVote = isPreVote
    }
}

public struct VoteResponse: Sendable, Hashable {
    /// The voter's term; for a pre-vote that was granted, the term asked about.
    public var term: Term
    public var voter: NodeID
    public var granted: Bool
    public var isPreVote: Bool

    public init(term: Term, voter: NodeID, granted: Bool, isPreVote: Bool) {
        self.term = term
        self.voter = voter
        self.granted = granted
        self.isPreVote = isPreVote
    }
}

/// Leader → follower. With no entries it is the heartbeat.
public struct AppendRequest: Sendable, Hashable {
    public var term: Term
    public var leader: NodeID
    /// The entry before `entries`, for the follower's consistency check.
    public var prev: LogPosition
    public var entries: [LogEntry]
    public var leaderCommit: UInt64
    /// The highest output sequence known delivered downstream; a new leader resends after it.
    public var deliveredOutput: UInt64
    /// The follower incarnation the leader has heard from (nil: none yet). A restarted follower
    /// trusts `leaderCommit` only once the leader knows it restarted, so that the commit index
    /// covers whatever its previous incarnation helped commit.
    public var followerIncarnation: UInt64?

    public init(term: Term, leader: NodeID, prev: LogPosition, entries: [LogEntry], leaderCommit: UInt64, deliveredOutput: UInt64,
                followerIncarnation: UInt64? = nil) {
        self.term = term
        self.leader = leader
        self.prev = prev
        self.entries = entries
        self.leaderCommit = leaderCommit
        self.deliveredOutput = deliveredOutput
        self.followerIncarnation = followerIncarnation
    }
}

/// Follower → leader, answering an append or a snapshot.
public struct AppendResponse: Sendable, Hashable {
    public var term: Term
    public var follower: NodeID
    /// The follower's boot counter: an answer from before a restart describes a log that is gone.
    public var incarnation: UInt64
    public var success: Bool
    /// On success the highest index the follower holds from this leader; on failure where the
    /// leader should resume (it sends from `matchIndex + 1`).
    public var matchIndex: UInt64
    /// What the follower's engine has applied: the leader may trim through it.
    public var appliedIndex: UInt64

    public init(term: Term, follower: NodeID, incarnation: UInt64, success: Bool, matchIndex: UInt64, appliedIndex: UInt64) {
        self.term = term
        self.follower = follower
        self.incarnation = incarnation
        self.success = success
        self.matchIndex = matchIndex
        self.appliedIndex = appliedIndex
    }
}

/// Leader → a follower that lacks trimmed entries: the engine's state through `lastIncluded`.
/// (On the wire it goes as `SnapshotChunk`s; chunking belongs to the transport.)
public struct SnapshotRequest: Sendable, Hashable {
    public var term: Term
    public var leader: NodeID
    public var lastIncluded: LogPosition
    public var data: [UInt8]
    public var deliveredOutput: UInt64

    public init(term: Term, leader: NodeID, lastIncluded: LogPosition, data: [UInt8], deliveredOutput: UInt64) {
        self.term = term
        self.leader = leader
        self.lastIncluded = lastIncluded
        self.data = data
        self.deliveredOutput = deliveredOutput
    }
}

/// Leader → witness, every heartbeat (and on every append while degraded): "I lead `term` and my
/// log ends at `last`". The witness keeps only that position, which is how it counts as the
/// second copy of a degraded leader's log without holding any data.
public struct WitnessSync: Sendable, Hashable {
    public var term: Term
    public var leader: NodeID
    public var last: LogPosition

    public init(term: Term, leader: NodeID, last: LogPosition) {
        self.term = term
        self.leader = leader
        self.last = last
    }
}

public struct WitnessSyncResponse: Sendable, Hashable {
    public var term: Term
    public var success: Bool
    /// The position the witness has recorded (durably) for this leader.
    public var confirmed: LogPosition

    public init(term: Term, success: Bool, confirmed: LogPosition) {
        self.term = term
        self.success = success
        self.confirmed = confirmed
    }
}

/// Everything the members of a group say to each other.
public enum ClusterMessage: Sendable, Hashable {
    case voteRequest(VoteRequest)
    case voteResponse(VoteResponse)
    case append(AppendRequest)
    case appendResponse(AppendResponse)
    case snapshot(SnapshotRequest)
    case witnessSync(WitnessSync)
    case witnessSyncResponse(WitnessSyncResponse)

    /// The sender's term (a pre-vote request's is only proposed).
    public var term: Term {
        switch self {
        case .voteRequest(let m): m.term
        case .voteResponse(let m): m.term
        case .append(let m): m.term
        case .appendResponse(let m): m.term
        case .snapshot(let m): m.term
        case .witnessSync(let m): m.term
        case .witnessSyncResponse(let m): m.term
        }
    }
}
