/// An HA node's view of its group, for `/status`, `/metrics` and `sluice status`.
public struct HAStatus: Sendable, Codable, Hashable {
    public var group: String
    public var nodeID: String
    public var role = "follower"
    public var term: UInt64 = 0
    public var leader: String?
    public var commitIndex: UInt64 = 0
    public var lastLogIndex: UInt64 = 0
    /// Entries held in memory (trimmed once both nodes applied them).
    public var logEntries = 0
    /// Leader only: entries the follower does not hold yet.
    public var followerLag: UInt64?
    /// Leading without the follower, on the witness's confirmation alone.
    public var degraded = false
    public var peerConnected = false
    public var witnessConnected: Bool?
    public var incarnation: UInt64 = 0
    /// Times this node took the lead since it started.
    public var electionsWon = 0
    /// When this node last started or stopped leading (ISO 8601, and as Unix seconds).
    public var lastLeadChange: String?
    public var lastLeadChangeUnixSeconds: Double?
    public var outputSequence: UInt64 = 0
    public var deliveredOutput: UInt64 = 0

    public init(group: String, nodeID: String) {
        self.group = group
        self.nodeID = nodeID
    }
}
