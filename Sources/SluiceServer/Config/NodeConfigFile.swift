import SluiceCluster
import SluiceCore
import Foundation
import Yams

/// A node's YAML configuration (DESIGN.md, "Node configuration"), parsed and validated.
///
/// ```yaml
/// node: { id: a1, listen: 127.0.0.1:7701, admin: 127.0.0.1:9701, dataDir: ./data/a1 }
/// cluster: { enabled: true, groupId: g1, peer: 127.0.0.1:7702, witness: 127.0.0.1:7600,
///            heartbeatInterval: 100ms, heartbeatMaxRetry: 3 }
/// auth: { token: secret }
/// flow: { credit: 32 }
/// groups: { g1: [127.0.0.1:7711, 127.0.0.1:7712] }
/// apps: [ ./apps/tenant-stats.siddhi ]
/// ```
public struct NodeConfigFile: Sendable, Hashable {
    public struct NodeSection: Sendable, Hashable {
        public var id: String
        public var listen: HostPort
        /// No admin HTTP server when absent.
        public var admin: HostPort?
        /// Absolute; relative paths resolve against the YAML file's folder.
        public var dataDir: String?
        /// The deployment tier the node belongs to (`stateless`, `partitioner`, `stateful`); `/status` reports it.
        public var tier: String?
    }

    /// Parsed and checked now; the HA issue acts on it.
    public struct ClusterSection: Sendable, Hashable {
        public var enabled: Bool
        public var groupId: String?
        public var peer: HostPort?
        /// The peer's name in the group: its own listen address, unless `peer` is a relay (a proxy).
        public var peerId: String?
        public var witness: HostPort?
        public var heartbeatInterval: Duration
        public var heartbeatMaxRetry: Int
        /// `sync` (default): a producer's batch is acknowledged once the follower holds it.
        public var replication: ReplicationMode = .sync

        public static let defaultHeartbeatInterval: Duration = .milliseconds(100)
        public static let defaultHeartbeatMaxRetry = 3
    }

    /// A node that is also the witness of HA groups.
    public struct WitnessSection: Sendable, Hashable {
        /// The groups' heartbeat settings: a leader silent for their product is gone.
        public var heartbeatInterval: Duration
        public var heartbeatMaxRetry: Int
    }

    public var node: NodeSection
    public var cluster: ClusterSection?
    public var witness: WitnessSection?
    public var authToken: String?
    /// Batches a producer may have in flight.
    public var credit: Int
    /// The one app this node runs, as an absolute path.
    public var app: String
    /// Node groups by name, each its members in order of preference; a sink's
    /// `@destination(group='g1')` sends to the group's leader (for now its first reachable member).
    public var groups: [String: [HostPort]] = [:]

    public static let defaultCredit = 32

    /// The node's runtime configuration, given the app's source text.
    public func nodeConfiguration(appSource: String) -> NodeConfiguration {
        var configuration = NodeConfiguration(nodeID: node.id, host: node.listen.host, port: node.listen.port, appSource: appSource,
                                              authToken: authToken, credit: credit, groups: groups)
        configuration.dataDirectory = node.dataDir
        if let cluster, cluster.enabled, let group = cluster.groupId, let peer = cluster.peer, let dataDir = node.dataDir {
            // Group members are named by their listen addresses, which every party already knows.
            configuration.ha = HAConfiguration(
                group: GroupConfiguration(groupID: group, selfID: node.listen.description, peerID: cluster.peerId ?? peer.description,
                                          witnessID: cluster.witness?.description, heartbeatInterval: cluster.heartbeatInterval,
                                          heartbeatMaxRetry: cluster.heartbeatMaxRetry, replication: cluster.replication),
                peerAddress: peer, witnessAddress: cluster.witness, dataDirectory: dataDir + "/ha")
        }
        if let witness, let dataDir = node.dataDir {
            configuration.witness = WitnessHosting(dataDirectory: dataDir + "/witness",
                                                   failureTimeout: witness.heartbeatInterval * witness.heartbeatMaxRetry)
        }
        return configuration
    }

    /// Reads and parses `path`. Errors name `path`.
    public static func load(path: String) throws(ConfigError) -> NodeConfigFile {
        let (text, folder) = try Reader.read(path: path)
        return try parse(yaml: text, file: path, baseDirectory: folder)
    }

    /// Parses YAML text. `file` only names errors; `baseDirectory` anchors relative paths.
    public static func parse(yaml: String, file: String, baseDirectory: String,
                             fileExists: @escaping (String) -> Bool = { FileManager.default.fileExists(atPath: $0) })
        throws(ConfigError) -> NodeConfigFile {
        let reader = Reader(file: file, baseDirectory: baseDirectory, fileExists: fileExists)
        return try reader.file(reader.root(of: yaml, whenEmpty: "it needs a 'node' section and 'apps'"))
    }

    static func absolute(_ path: String) -> String {
        path.hasPrefix("/") ? path : FileManager.default.currentDirectoryPath + "/" + path
    }
}

/// A configuration error. Prints as `FILE: message`, or `FILE:LINE:COLUMN: message` when the
/// position is known.
public struct ConfigError: Error, Sendable, Hashable, CustomStringConvertible {
    public var file: String
    public var line: Int?
    public var column: Int?
    public var message: String

    public init(file: String, line: Int? = nil, column: Int? = nil, message: String) {
        self.file = file
        self.line = line
        self.column = column
        self.message = message
    }

    public var description: String {
        switch (line, column) {
        case let (line?, column?): "\(file):\(line):\(column): \(message)"
        case let (line?, nil): "\(file):\(line): \(message)"
        default: "\(file): \(message)"
        }
    }
}

/// Walks the YAML tree by hand (not Codable) so every error carries its key path and line.
/// Internal so the topology file reads the same way.
struct Reader {
    let file: String
    let baseDirectory: String
    let fileExists: (String) -> Bool

    func error(_ message: String, at node: Yams.Node?) -> ConfigError {
        ConfigError(file: file, line: node?.mark?.line, column: node?.mark?.column, message: message)
    }

    func yamlError(_ error: any Error) -> ConfigError {
        guard let yaml = error as? YamlError else { return ConfigError(file: file, message: "\(error)") }
        switch yaml {
        case let .scanner(_, problem, mark, _), let .parser(_, problem, mark, _), let .composer(_, problem, mark, _):
            return ConfigError(file: file, line: mark.line, column: mark.column, message: "invalid YAML: \(problem)")
        case let .duplicatedKeysInMapping(duplicates, context):
            return ConfigError(file: file, line: context.mark.line, column: context.mark.column,
                               message: "duplicate key \(duplicates.sorted().map { "'\($0)'" }.joined(separator: ", "))")
        default:
            return ConfigError(file: file, message: "invalid YAML: \(yaml)")
        }
    }

    /// A mapping's entries by key, refusing keys outside `allowed`.
    func mapping(_ node: Yams.Node, path: String, allowed: [String]) throws(ConfigError) -> [String: Yams.Node] {
        guard let mapping = node.mapping else {
            throw error("\(path.isEmpty ? "the file" : "'\(path)'") must be a mapping of keys to values", at: node)
        }
        var entries: [String: Yams.Node] = [:]
        for (key, value) in mapping {
            let name = key.scalar?.string ?? "\(key)"
            let keyPath = path.isEmpty ? name : "\(path).\(name)"
            guard allowed.contains(name) else {
                throw error("unknown key '\(keyPath)' (expected one of: \(allowed.joined(separator: ", ")))", at: key)
            }
            entries[name] = value
        }
        return entries
    }

    func isNull(_ node: Yams.Node?) -> Bool {
        guard let node else { return true }
        return node.null != nil
    }

    func string(_ node: Yams.Node?, _ path: String, in parent: Yams.Node) throws(ConfigError) -> String? {
        guard !isNull(node), let node else { return nil }
        guard let scalar = node.scalar else { throw error("'\(path)' must be a single value, not a list or mapping", at: node) }
        guard !scalar.string.isEmpty else { throw error("'\(path)' must not be empty", at: node) }
        return scalar.string
    }

    func required(_ node: Yams.Node?, _ path: String, in parent: Yams.Node) throws(ConfigError) -> String {
        guard let value = try string(node, path, in: parent) else { throw error("'\(path)' is required", at: parent) }
        return value
    }

    func hostPort(_ node: Yams.Node?, _ path: String, in parent: Yams.Node) throws(ConfigError) -> HostPort? {
        guard let text = try string(node, path, in: parent) else { return nil }
        guard let value = HostPort(text, allowingPortZero: true) else {
            throw error("'\(path)' must be HOST:PORT (port 0-65535), got '\(text)'", at: node)
        }
        return value
    }

    func int(_ node: Yams.Node?, _ path: String, in parent: Yams.Node, min: Int) throws(ConfigError) -> Int? {
        guard let text = try string(node, path, in: parent) else { return nil }
        guard let value = Int(text), value >= min else {
            throw error("'\(path)' must be a whole number ≥ \(min), got '\(text)'", at: node)
        }
        return value
    }

    func bool(_ node: Yams.Node?, _ path: String, in parent: Yams.Node) throws(ConfigError) -> Bool? {
        guard let text = try string(node, path, in: parent) else { return nil }
        switch text.lowercased() {
        case "true": return true
        case "false": return false
        default: throw error("'\(path)' must be true or false, got '\(text)'", at: node)
        }
    }

    /// `sync` or `async`; nil when absent.
    func replication(_ node: Yams.Node?, _ path: String) throws(ConfigError) -> ReplicationMode? {
        guard let node else { return nil }
        guard let mode = node.scalar.flatMap({ ReplicationMode(rawValue: $0.string.lowercased()) }) else {
            throw error("'\(path)' must be 'sync' or 'async'", at: node)
        }
        return mode
    }

    func duration(_ node: Yams.Node?, _ path: String, in parent: Yams.Node) throws(ConfigError) -> Duration? {
        guard let text = try string(node, path, in: parent) else { return nil }
        guard let value = parseDuration(text), value > .zero else {
            throw error("'\(path)' must be a positive duration such as 100ms, 5s or 5000 (milliseconds), got '\(text)'",
                        at: node)
        }
        return value
    }

    func resolve(_ path: String) -> String {
        let joined = path.hasPrefix("/") ? path : (baseDirectory as NSString).appendingPathComponent(path)
        return (joined as NSString).standardizingPath
    }

    func file(_ root: Yams.Node) throws(ConfigError) -> NodeConfigFile {
        let top = try mapping(root, path: "", allowed: ["node", "cluster", "witness", "auth", "flow", "groups", "apps"])
        guard let nodeNode = top["node"], !isNull(nodeNode) else { throw error("the 'node' section is required", at: root) }
        let node = try nodeSection(nodeNode)
        var cluster: NodeConfigFile.ClusterSection?
        if let n = top["cluster"], !isNull(n) { cluster = try clusterSection(n, node: node) }

        var token: String?
        if let auth = top["auth"], !isNull(auth) {
            let entries = try mapping(auth, path: "auth", allowed: ["token"])
            token = try required(entries["token"], "auth.token", in: auth)
        }
        var credit = NodeConfigFile.defaultCredit
        if let flow = top["flow"], !isNull(flow) {
            let entries = try mapping(flow, path: "flow", allowed: ["credit"])
            credit = try int(entries["credit"], "flow.credit", in: flow, min: 1) ?? credit
        }
        var groups: [String: [HostPort]] = [:]
        if let n = top["groups"], !isNull(n) { groups = try groupsSection(n) }
        var file = NodeConfigFile(node: node, cluster: cluster, authToken: token, credit: credit,
                                  app: try app(top["apps"], root: root), groups: groups)
        if let n = top["witness"], !isNull(n) { file.witness = try witnessSection(n, node: node) }
        return file
    }

    /// `witness: { enabled: true, heartbeatInterval: 100ms, heartbeatMaxRetry: 3 }`: this node also
    /// votes in HA groups (their nodes name its listen address as `cluster.witness`).
    func witnessSection(_ n: Yams.Node, node: NodeConfigFile.NodeSection) throws(ConfigError) -> NodeConfigFile.WitnessSection? {
        let e = try mapping(n, path: "witness", allowed: ["enabled", "heartbeatInterval", "heartbeatMaxRetry"])
        guard try bool(e["enabled"], "witness.enabled", in: n) ?? false else { return nil }
        guard node.dataDir != nil else {
            throw error("'node.dataDir' is required for a witness: the votes it casts are written there first", at: n)
        }
        return NodeConfigFile.WitnessSection(
            heartbeatInterval: try duration(e["heartbeatInterval"], "witness.heartbeatInterval", in: n)
                ?? NodeConfigFile.ClusterSection.defaultHeartbeatInterval,
            heartbeatMaxRetry: try int(e["heartbeatMaxRetry"], "witness.heartbeatMaxRetry", in: n, min: 1)
                ?? NodeConfigFile.ClusterSection.defaultHeartbeatMaxRetry)
    }

    /// `groups: { g1: [host:port, …], … }`.
    func groupsSection(_ n: Yams.Node) throws(ConfigError) -> [String: [HostPort]] {
        guard let mapping = n.mapping else { throw error("'groups' must map group names to lists of HOST:PORT", at: n) }
        var groups: [String: [HostPort]] = [:]
        for (key, value) in mapping {
            let name = key.scalar?.string ?? "\(key)"
            let path = "groups.\(name)"
            guard let items = value.sequence, !items.isEmpty else {
                throw error("'\(path)' must be a non-empty list of HOST:PORT members", at: value)
            }
            var members: [HostPort] = []
            for (i, item) in items.enumerated() {
                guard let member = try hostPort(item, "\(path)[\(i)]", in: value), member.port != 0 else {
                    throw error("'\(path)[\(i)]' must be HOST:PORT with a port 1-65535", at: item)
                }
                guard !members.contains(member) else { throw error("'\(path)' lists \(member) twice", at: item) }
                members.append(member)
            }
            groups[name] = members
        }
        return groups
    }

    func nodeSection(_ n: Yams.Node) throws(ConfigError) -> NodeConfigFile.NodeSection {
        let e = try mapping(n, path: "node", allowed: ["id", "listen", "admin", "dataDir", "tier"])
        guard let listen = try hostPort(e["listen"], "node.listen", in: n) else {
            throw error("'node.listen' is required (HOST:PORT for the binary protocol)", at: n)
        }
        let admin = try hostPort(e["admin"], "node.admin", in: n)
        if let admin, admin == listen, admin.port != 0 {
            throw error("'node.admin' and 'node.listen' are the same address \(admin)", at: e["admin"])
        }
        return .init(id: try required(e["id"], "node.id", in: n), listen: listen, admin: admin,
                     dataDir: try string(e["dataDir"], "node.dataDir", in: n).map(resolve),
                     tier: try string(e["tier"], "node.tier", in: n))
    }

    func clusterSection(_ n: Yams.Node, node: NodeConfigFile.NodeSection) throws(ConfigError) -> NodeConfigFile.ClusterSection {
        let e = try mapping(n, path: "cluster", allowed: ["enabled", "groupId", "peer", "peerId", "witness",
                                                          "heartbeatInterval", "heartbeatMaxRetry", "replication"])
        var section = NodeConfigFile.ClusterSection(
            enabled: try bool(e["enabled"], "cluster.enabled", in: n) ?? false,
            groupId: try string(e["groupId"], "cluster.groupId", in: n),
            peer: try hostPort(e["peer"], "cluster.peer", in: n),
            peerId: try string(e["peerId"], "cluster.peerId", in: n),
            witness: try hostPort(e["witness"], "cluster.witness", in: n),
            heartbeatInterval: try duration(e["heartbeatInterval"], "cluster.heartbeatInterval", in: n)
                ?? NodeConfigFile.ClusterSection.defaultHeartbeatInterval,
            heartbeatMaxRetry: try int(e["heartbeatMaxRetry"], "cluster.heartbeatMaxRetry", in: n, min: 1)
                ?? NodeConfigFile.ClusterSection.defaultHeartbeatMaxRetry)
        if let mode = try replication(e["replication"], "cluster.replication") { section.replication = mode }
        guard section.enabled else { return section }
        // An enabled pair needs to know its group and its partner.
        if section.groupId == nil { throw error("'cluster.groupId' is required when the cluster is enabled", at: n) }
        guard let peer = section.peer else { throw error("'cluster.peer' is required when the cluster is enabled", at: n) }
        if peer == node.listen { throw error("'cluster.peer' is this node's own listen address \(peer)", at: e["peer"]) }
        if let witness = section.witness, witness == node.listen || witness == peer {
            throw error("'cluster.witness' must be a third party, not \(witness)", at: e["witness"])
        }
        if node.dataDir == nil { throw error("'node.dataDir' is required when the cluster is enabled: the term lives there", at: n) }
        return section
    }

    func app(_ n: Yams.Node?, root: Yams.Node) throws(ConfigError) -> String {
        guard let n, !isNull(n) else { throw error("'apps' is required: the node's app (.siddhi)", at: root) }
        let items: [Yams.Node]
        if let sequence = n.sequence { items = Array(sequence) } else { items = [n] }
        guard !items.isEmpty else { throw error("'apps' is empty: a node needs one app (.siddhi)", at: n) }
        guard items.count == 1 else {
            throw error("'apps' lists \(items.count) apps, but a node runs exactly one app for now", at: items[1])
        }
        let text = try required(items[0], "apps[0]", in: n)
        let path = resolve(text)
        guard fileExists(path) else { throw error("'apps[0]': no such file '\(text)' (looked at \(path))", at: items[0]) }
        return path
    }
}

/// `100ms`, `5s`, `2m`, or a bare number of milliseconds (the seed's form, `5000`).
func parseDuration(_ text: String) -> Duration? {
    let trimmed = text.trimmingCharacters(in: .whitespaces)
    let digits = trimmed.prefix { $0.isASCII && $0.isNumber }
    guard !digits.isEmpty, let value = Int64(digits) else { return nil }
    switch trimmed.dropFirst(digits.count).trimmingCharacters(in: .whitespaces) {
    case "", "ms": return .milliseconds(value)
    case "s": return .seconds(value)
    case "m", "min": return .seconds(value * 60)
    default: return nil
    }
}
