/// When a producer's batch may be acknowledged.
public enum ReplicationMode: String, Sendable, Hashable {
    /// After the follower holds the entry (or, while the follower is lost, after the witness
    /// confirmed the leader's log): an acknowledged batch survives the loss of either data node.
    case sync
    /// As soon as the leader appended it. Faster, but a leader crash loses the tail the follower
    /// had not received yet, even though its producers were told it was accepted.
    case async
}

/// One HA group as seen from one of its data nodes (DESIGN.md, "High availability").
public struct GroupConfiguration: Sendable, Hashable {
    public var groupID: String
    public var selfID: NodeID
    public var peerID: NodeID
    /// The third voter, holding no data. Without one, see `GroupMember` for what changes.
    public var witnessID: NodeID?
    /// How often the leader heartbeats the follower and the witness (`heartbeatInterval`).
    public var heartbeatInterval: Duration
    /// Intervals without a word before a party counts as lost (`heartbeatMaxRetry`).
    public var heartbeatMaxRetry: Int
    public var replication: ReplicationMode
    /// Entries per append message.
    public var maxEntriesPerAppend: Int
    /// Bytes of entries per append message (at least one entry goes), below the frame limit.
    public var maxAppendBytes: Int
    /// Entries kept for a lagging follower before it is sent a snapshot instead.
    public var maxRetainedEntries: Int

    public init(groupID: String, selfID: NodeID, peerID: NodeID, witnessID: NodeID?,
                heartbeatInterval: Duration = .milliseconds(100), heartbeatMaxRetry: Int = 3,
                replication: ReplicationMode = .sync, maxEntriesPerAppend: Int = 256, maxAppendBytes: Int = 4 << 20,
                maxRetainedEntries: Int = 65_536) {
        precondition(selfID != peerID && witnessID != selfID && witnessID != peerID, "group members need distinct ids")
        self.groupID = groupID
        self.selfID = selfID
        self.peerID = peerID
        self.witnessID = witnessID
        self.heartbeatInterval = heartbeatInterval
        self.heartbeatMaxRetry = max(1, heartbeatMaxRetry)
        self.replication = replication
        self.maxEntriesPerAppend = max(1, maxEntriesPerAppend)
        self.maxAppendBytes = max(1, maxAppendBytes)
        self.maxRetainedEntries = max(1, maxRetainedEntries)
    }

    /// Silence longer than this means the other party is gone: interval × retries (300 ms by default).
    public var failureTimeout: Duration { heartbeatInterval * heartbeatMaxRetry }

    /// The first election timeout is `failureTimeout` plus a random part below this, so the two
    /// nodes rarely time out together; with defaults a dead leader is replaced within ~400 ms.
    /// (Only the survivor campaigns after a crash, so the jitter is pure delay there: one interval.)
    public var electionJitter: Duration { heartbeatInterval }

    /// After a round that won no majority, the next try comes after one to two intervals.
    public var retryBase: Duration { heartbeatInterval }
}
