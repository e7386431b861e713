/// Where a node sits in a deployment: its tier, its group and its role there. It comes from the
/// node's config, `/status` reports it, and `sluice status` reads it back.
public struct NodePlacement: Sendable, Hashable, Codable {
    /// `stateless`, `partitioner` or `stateful` in a topology; nil for a node run on its own.
    public var tier: String?
    /// The HA group (`cluster.groupId`) when the node's cluster section is enabled.
    public var group: String?
    /// `standalone` outside a group, `member` inside one. HA will report `leader` or `follower`.
    public var role: String
    /// The group's leadership term; nil until HA elects leaders.
    public var term: Int?

    public init(tier: String? = nil, group: String? = nil, role: String = Self.standalone, term: Int? = nil) {
        self.tier = tier
        self.group = group
        self.role = role
        self.term = term
    }

    public static let standalone = "standalone"
    public static let member = "member"

    /// What a node config says about the node's place.
    public init(config: NodeConfigFile) {
        let cluster = config.cluster.flatMap { $0.enabled ? $0 : nil }
        self.init(tier: config.node.tier, group: cluster?.groupId, role: cluster == nil ? Self.standalone : Self.member)
    }
}
