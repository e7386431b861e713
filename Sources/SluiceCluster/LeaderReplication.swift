/// The leader's side of replication for one term: how far the follower and the witness have
/// confirmed the log, what is committed, what may be acknowledged to producers, and what can be
/// trimmed. A value owned by `GroupMember` while it leads; it sends nothing itself.
public struct LeaderReplication: Sendable, Hashable {
    public let term: Term
    let configuration: GroupConfiguration

    /// The follower's boot counter as last heard: answers from an older incarnation are ignored,
    /// because the log they describe died with that process.
    public private(set) var followerIncarnation: UInt64?
    /// The next index to send the follower.
    public private(set) var followerNext: UInt64
    /// The highest index the follower is known to hold, consistent with this leader.
    public private(set) var followerMatch: UInt64 = 0
    public private(set) var followerApplied: UInt64 = 0
    public private(set) var lastFollowerAck: MonotonicInstant
    /// The highest index of this term the witness has durably recorded.
    public private(set) var witnessMatch: UInt64 = 0
    public private(set) var lastWitnessAck: MonotonicInstant
    /// Through which index producers have been told their batches are safe.
    public private(set) var acknowledged: UInt64

    /// The engine's latest snapshot, for a follower that needs trimmed entries.
    public private(set) var snapshot: (data: [UInt8], position: LogPosition)?
    private(set) var snapshotRequested = false
    private var lastSnapshotSent: MonotonicInstant?

    /// - Parameter peerLastHeard: when this node last heard from its peer (as its leader). A peer
    ///   silent longer than the failure timeout (typically the leader that just died) counts as a
    ///   lost follower from the start, so the new leader commits with the witness at once instead
    ///   of waiting out another timeout.
    init(term: Term, configuration: GroupConfiguration, log: ReplicatedLog, acknowledged: UInt64, now: MonotonicInstant,
         peerLastHeard: MonotonicInstant? = nil) {
        self.term = term
        self.configuration = configuration
        followerNext = log.last.index + 1
        lastFollowerAck = min(now, peerLastHeard ?? now)
        lastWitnessAck = now
        self.acknowledged = acknowledged
    }

    public static func == (a: LeaderReplication, b: LeaderReplication) -> Bool {
        a.term == b.term && a.followerNext == b.followerNext && a.followerMatch == b.followerMatch
            && a.witnessMatch == b.witnessMatch && a.acknowledged == b.acknowledged
            && a.snapshot?.position == b.snapshot?.position
    }

    public func hash(into hasher: inout Hasher) {
        hasher.combine(term)
        hasher.combine(followerMatch)
        hasher.combine(witnessMatch)
    }

    /// Silent longer than the failure timeout: the leader runs degraded (or, with no witness,
    /// stops acknowledging).
    public func followerLost(at now: MonotonicInstant) -> Bool { now - lastFollowerAck > configuration.failureTimeout }

    public func witnessLost(at now: MonotonicInstant) -> Bool {
        configuration.witnessID == nil || now - lastWitnessAck > configuration.failureTimeout
    }

    // MARK: Answers

    /// The follower answered an append or a snapshot of this term.
    mutating func followerAnswered(_ response: AppendResponse, now: MonotonicInstant) {
        if let known = followerIncarnation {
            if response.incarnation < known { return }
            if response.incarnation > known {
                // A restarted follower: whatever it held before is gone.
                followerMatch = 0
                followerApplied = 0
            }
        }
        followerIncarnation = response.incarnation
        lastFollowerAck = now
        if response.success {
            followerMatch = max(followerMatch, response.matchIndex)
            followerApplied = max(followerApplied, min(response.appliedIndex, followerMatch))
            followerNext = max(followerNext, followerMatch + 1)
        } else {
            // Resume where the follower says its log still agrees (it never goes below its commit).
            followerNext = max(1, response.matchIndex + 1)
            followerMatch = min(followerMatch, response.matchIndex)
        }
    }

    mutating func witnessAnswered(_ response: WitnessSyncResponse, now: MonotonicInstant) {
        guard response.success, response.term == term else { return }
        lastWitnessAck = now
        if response.confirmed.term == term { witnessMatch = max(witnessMatch, response.confirmed.index) }
    }

    // MARK: Decisions

    /// Raft's commit rule over three voters: an entry of this term held by the leader and one
    /// other voter (the follower, or the witness by position) is committed, and so is all before it.
    func commitIndex(log: ReplicatedLog, current: UInt64) -> UInt64 {
        let confirmed = max(followerMatch, configuration.witnessID == nil ? 0 : witnessMatch)
        var index = min(confirmed, log.last.index)
        while index > current {
            guard let t = log.term(at: index) else { break }
            if t == term { return index }
            if t < term { break }
            index -= 1
        }
        return current
    }

    /// Through which index producers may be acknowledged, given `commit`. In sync mode an entry
    /// must be on the follower, unless the follower is lost and the witness let the leader go on.
    func acknowledgeable(commit: UInt64, lastIndex: UInt64, now: MonotonicInstant) -> UInt64 {
        switch configuration.replication {
        case .async:
            return lastIndex
        case .sync:
            if configuration.witnessID != nil, followerLost(at: now) { return commit }
            return min(commit, followerMatch)
        }
    }

    mutating func acknowledge(through index: UInt64) -> Bool {
        guard index > acknowledged else { return false }
        acknowledged = index
        return true
    }

    /// Entries both data nodes have applied can go; a follower that falls too far behind gets a
    /// snapshot instead of an unbounded log.
    func trimPoint(log: ReplicatedLog, applied: UInt64) -> UInt64 {
        let both = min(applied, followerApplied)
        if Int(log.last.index - min(both, log.last.index)) > configuration.maxRetainedEntries { return applied }
        return both
    }

    // MARK: What to send the follower

    public enum FollowerMessage: Sendable, Hashable {
        case append(AppendRequest)
        case snapshot(SnapshotRequest)
        /// The follower needs trimmed entries and no usable snapshot exists: ask the engine.
        case captureSnapshot
        case nothing
    }

    /// The next message for the follower. On a heartbeat (`resend`) everything not yet confirmed
    /// goes again, so lost appends are repaired within one interval.
    mutating func nextMessage(log: ReplicatedLog, commit: UInt64, deliveredOutput: UInt64, resend: Bool,
                              now: MonotonicInstant) -> FollowerMessage {
        // Rewind only once the follower has answered this term: before that its position is a guess.
        if resend, followerIncarnation != nil { followerNext = min(followerNext, followerMatch + 1) }
        if followerNext <= log.base.index {
            if let snapshot, snapshot.position.index >= log.base.index {
                if let sent = lastSnapshotSent, now - sent < configuration.failureTimeout { return .nothing }
                lastSnapshotSent = now
                return .snapshot(SnapshotRequest(term: term, leader: configuration.selfID, lastIncluded: snapshot.position,
                                                 data: snapshot.data, deliveredOutput: deliveredOutput))
            }
            if snapshotRequested { return .nothing }
            snapshotRequested = true
            return .captureSnapshot
        }
        var entries = log.entries(from: followerNext, limit: configuration.maxEntriesPerAppend) ?? []
        var bytes = 0
        if let cut = entries.indices.first(where: { i in
            bytes += entries[i].wireSize
            return i > 0 && bytes > configuration.maxAppendBytes
        }) {
            entries.removeSubrange(cut...)
        }
        if entries.isEmpty, !resend { return .nothing }
        let prevIndex = followerNext - 1
        let prev = LogPosition(term: log.term(at: prevIndex) ?? 0, index: prevIndex)
        followerNext += UInt64(entries.count)
        return .append(AppendRequest(term: term, leader: configuration.selfID, prev: prev, entries: entries,
                                     leaderCommit: commit, deliveredOutput: deliveredOutput, followerIncarnation: followerIncarnation))
    }

    mutating func snapshotCaptured(_ data: [UInt8], position: LogPosition) {
        snapshotRequested = false
        if let snapshot, snapshot.position >= position { return }
        snapshot = (data, position)
        lastSnapshotSent = nil
    }
}
