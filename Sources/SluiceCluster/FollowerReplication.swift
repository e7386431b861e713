/// The follower's side of replication: Raft's consistency check on `prev`, truncation of a
/// divergent tail, the commit index the leader allows, and snapshot installation. Pure
/// functions over the follower's log, so each case is a value test.
public enum FollowerReplication {
    public struct Outcome: Sendable, Hashable {
        public var success: Bool
        /// On success the last index this append confirmed; on failure where the leader should resume.
        public var matchIndex: UInt64
        /// The follower's commit index after the append (never lower than before).
        public var commitIndex: UInt64
    }

    /// Applies `append` (already known to come from the current leader) to `log`.
    public static func receive(_ append: AppendRequest, log: inout ReplicatedLog, commitIndex: UInt64) -> Outcome {
        guard log.appendReplicated(after: append.prev, append.entries, committed: commitIndex) else {
            // Back off to where this log may still agree; committed entries always do.
            let hint = max(commitIndex, min(append.prev.index &- 1, log.last.index))
            return Outcome(success: false, matchIndex: min(hint, log.last.index), commitIndex: commitIndex)
        }
        let match = append.prev.index + UInt64(append.entries.count)
        let commit = max(commitIndex, min(append.leaderCommit, match))
        return Outcome(success: true, matchIndex: match, commitIndex: commit)
    }

    public enum SnapshotOutcome: Sendable, Hashable {
        /// The log already holds the snapshot's last entry (or the engine is past it): keep everything.
        case alreadyCovered
        /// Restore the engine from the snapshot; the log now starts after it.
        case install
    }

    public static func receive(_ snapshot: SnapshotRequest, log: inout ReplicatedLog, appliedIndex: UInt64) -> SnapshotOutcome {
        let position = snapshot.lastIncluded
        // Dropping entries the leader may have counted as ours would lose acknowledged input.
        if position.index <= appliedIndex || log.term(at: position.index) == position.term { return .alreadyCovered }
        log.reset(to: position)
        return .install
    }
}
