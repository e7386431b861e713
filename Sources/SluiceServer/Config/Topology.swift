import SluiceCluster
import SluiceCore
import Foundation
import Yams

/// A whole deployment (`topology.yaml`): the stateless nodes, the partitioner nodes and the HA groups,
/// the app each tier runs, and where every node listens. `sluice cluster up` starts it on this machine.
///
/// ```yaml
/// name: seed
/// stateless:
///   apps: [ apps/enrich.siddhi ]
///   nodes:
///     s1: { listen: 127.0.0.1:27701, admin: 127.0.0.1:27801 }
/// partitioner:
///   apps: [ apps/partition.siddhi ]
///   nodes:
///     p1: { listen: 127.0.0.1:27711, admin: 127.0.0.1:27811 }
/// stateful:
///   apps: [ apps/tenant-stats.siddhi ]
///   heartbeatInterval: 100ms
///   groups:
///     g1:
///       a1: { listen: 127.0.0.1:27721, admin: 127.0.0.1:27821, dataDir: data/a1 }
///       b1: { listen: 127.0.0.1:27722, admin: 127.0.0.1:27822, dataDir: data/b1 }
/// ```
public struct Topology: Sendable, Hashable {
    public enum Tier: String, Sendable, Hashable, Codable, CaseIterable {
        case stateless, partitioner, stateful
    }

    public struct NodeSpec: Sendable, Hashable {
        public var id: String
        public var tier: Tier
        /// The HA group, for stateful nodes.
        public var group: String?
        public var listen: HostPort
        public var admin: HostPort
        /// Absolute paths; relative ones resolve against the topology file's folder.
        public var dataDir: String?
        public var logDir: String?
        /// The node's app, absolute.
        public var app: String
    }

    public struct Group: Sendable, Hashable {
        public var name: String
        /// Node ids, in the topology's order: until HA lands, the first healthy one leads.
        public var members: [String]

        public init(name: String, members: [String]) {
            self.name = name
            self.members = members
        }
    }

    public var name: String
    /// Stateless, then partitioner, then stateful nodes, each in the file's order.
    public var nodes: [NodeSpec]
    public var groups: [Group]
    public var heartbeatInterval: Duration?
    public var heartbeatMaxRetry: Int?
    /// The groups' third voter (`sluice witness`), when the topology has one.
    public var witness: WitnessSpec?
    /// Or: the id of a stateless or partitioner node that is also the groups' witness.
    public var witnessNode: String?
    public var replication: ReplicationMode?

    /// `stateful.witness`: one witness process votes in every group.
    public struct WitnessSpec: Sendable, Hashable {
        public var listen: HostPort
        public var dataDir: String?
        public var logDir: String?
    }

    /// Data nodes per group: a leader and a follower (DESIGN.md, "High availability").
    public static let membersPerGroup = 2

    public func node(_ id: String) -> NodeSpec? { nodes.first { $0.id == id } }

    /// Reads and parses `path`. Errors name `path`.
    public static func load(path: String) throws(ConfigError) -> Topology {
        let (text, folder) = try Reader.read(path: path)
        return try parse(yaml: text, file: path, baseDirectory: folder)
    }

    /// Parses YAML text. `file` only names errors; `baseDirectory` anchors relative paths.
    public static func parse(yaml: String, file: String, baseDirectory: String,
                             fileExists: @escaping (String) -> Bool = { FileManager.default.fileExists(atPath: $0) })
        throws(ConfigError) -> Topology {
        let reader = Reader(file: file, baseDirectory: baseDirectory, fileExists: fileExists)
        var topology = TopologyReader(reader: reader)
        return try topology.read(reader.root(of: yaml, whenEmpty: "it needs a 'name' and at least one tier"))
    }
}

/// The topology's own walk over the YAML tree, on top of the node config's `Reader`.
private struct TopologyReader {
    let reader: Reader
    /// Which key path first used each address, for duplicate errors.
    var addresses: [HostPort: String] = [:]
    var ids: Set<String> = []

    init(reader: Reader) { self.reader = reader }

    mutating func read(_ root: Yams.Node) throws(ConfigError) -> Topology {
        let top = try reader.mapping(root, path: "", allowed: ["name", "stateless", "partitioner", "stateful"])
        let name = try reader.required(top["name"], "name", in: root)
        try checkName(name, "name", at: top["name"])
        var nodes: [Topology.NodeSpec] = []
        for tier in [Topology.Tier.stateless, .partitioner] {
            guard let section = top[tier.rawValue], !reader.isNull(section) else { continue }
            let e = try reader.mapping(section, path: tier.rawValue, allowed: ["apps", "nodes"])
            let app = try app(e["apps"], "\(tier.rawValue).apps", in: section)
            let list = try entries(e["nodes"], "\(tier.rawValue).nodes", in: section)
            for (key, value) in list {
                nodes.append(try node(key, value, path: "\(tier.rawValue).nodes", tier: tier, group: nil, app: app))
            }
        }
        var groups: [Topology.Group] = []
        var heartbeatInterval: Duration?
        var heartbeatMaxRetry: Int?
        var witness: Topology.WitnessSpec?
        var witnessNode: String?
        var witnessAt: Yams.Node?
        var replication: ReplicationMode?
        if let section = top["stateful"], !reader.isNull(section) {
            let e = try reader.mapping(section, path: "stateful",
                                       allowed: ["apps", "groups", "heartbeatInterval", "heartbeatMaxRetry", "witness", "replication"])
            let app = try app(e["apps"], "stateful.apps", in: section)
            heartbeatInterval = try reader.duration(e["heartbeatInterval"], "stateful.heartbeatInterval", in: section)
            heartbeatMaxRetry = try reader.int(e["heartbeatMaxRetry"], "stateful.heartbeatMaxRetry", in: section, min: 1)
            replication = try reader.replication(e["replication"], "stateful.replication")
            if let w = e["witness"], let name = w.scalar?.string {
                // A node of another tier hosts the witness (checked once every node is read).
                witnessNode = name
                witnessAt = w
            } else if let w = e["witness"], !reader.isNull(w) {
                let f = try reader.mapping(w, path: "stateful.witness", allowed: ["listen", "dataDir", "logDir"])
                witness = Topology.WitnessSpec(
                    listen: try address(f["listen"], "stateful.witness.listen", in: w, what: "the witness"),
                    dataDir: try reader.string(f["dataDir"], "stateful.witness.dataDir", in: w).map(reader.resolve),
                    logDir: try reader.string(f["logDir"], "stateful.witness.logDir", in: w).map(reader.resolve))
            }
            for (key, value) in try entries(e["groups"], "stateful.groups", in: section) {
                let group = key.scalar?.string ?? ""
                let path = "stateful.groups.\(group)"
                try checkName(group, path, at: key)
                let members = try entries(value, path, in: key)
                guard members.count == Topology.membersPerGroup else {
                    throw reader.error("group '\(group)' has \(members.count) member(s); a group has "
                                       + "\(Topology.membersPerGroup) data nodes (leader and follower)", at: value)
                }
                for (memberKey, memberValue) in members {
                    nodes.append(try node(memberKey, memberValue, path: path, tier: .stateful, group: group, app: app))
                }
                groups.append(.init(name: group, members: members.map { $0.key.scalar?.string ?? "" }))
            }
        }
        guard !nodes.isEmpty else {
            throw reader.error("the topology has no nodes: give at least one of 'stateless', 'partitioner', 'stateful'", at: root)
        }
        if let witnessNode {
            guard let host = nodes.first(where: { $0.id == witnessNode }), host.tier != .stateful else {
                throw reader.error("'stateful.witness' names '\(witnessNode)', which is not a stateless or partitioner node "
                                   + "(or give { listen: HOST:PORT } for a `sluice witness` process)", at: witnessAt)
            }
        }
        return Topology(name: name, nodes: nodes, groups: groups, heartbeatInterval: heartbeatInterval,
                        heartbeatMaxRetry: heartbeatMaxRetry, witness: witness, witnessNode: witnessNode, replication: replication)
    }

    /// A non-empty mapping whose keys are names (node ids, group names), in the file's order.
    func entries(_ n: Yams.Node?, _ path: String, in parent: Yams.Node) throws(ConfigError) -> [(key: Yams.Node, value: Yams.Node)] {
        guard let n, !reader.isNull(n) else { throw reader.error("'\(path)' is required", at: parent) }
        guard let mapping = n.mapping, !mapping.isEmpty else {
            throw reader.error("'\(path)' must be a non-empty mapping of names to entries", at: n)
        }
        return Array(mapping)
    }

    mutating func node(_ key: Yams.Node, _ value: Yams.Node, path: String, tier: Topology.Tier, group: String?,
                       app: String) throws(ConfigError) -> Topology.NodeSpec {
        let id = key.scalar?.string ?? ""
        try checkName(id, "\(path) key", at: key)
        guard ids.insert(id).inserted else { throw reader.error("node id '\(id)' is used twice", at: key) }
        let nodePath = "\(path).\(id)"
        let e = try reader.mapping(value, path: nodePath, allowed: ["listen", "admin", "dataDir", "logDir"])
        let listen = try address(e["listen"], "\(nodePath).listen", in: value, what: "the binary protocol")
        let admin = try address(e["admin"], "\(nodePath).admin", in: value, what: "the admin HTTP port")
        return .init(id: id, tier: tier, group: group, listen: listen, admin: admin,
                     dataDir: try reader.string(e["dataDir"], "\(nodePath).dataDir", in: value).map(reader.resolve),
                     logDir: try reader.string(e["logDir"], "\(nodePath).logDir", in: value).map(reader.resolve),
                     app: app)
    }

    /// A fixed, unused HOST:PORT: other nodes and tools must know it before the node starts.
    mutating func address(_ n: Yams.Node?, _ path: String, in parent: Yams.Node, what: String) throws(ConfigError) -> HostPort {
        guard let value = try reader.hostPort(n, path, in: parent) else {
            throw reader.error("'\(path)' is required (HOST:PORT for \(what))", at: parent)
        }
        if value.port == 0 { throw reader.error("'\(path)' needs a fixed port, not 0: other nodes connect to it", at: n) }
        if let first = addresses[value] { throw reader.error("'\(path)' \(value) is already '\(first)'", at: n) }
        addresses[value] = path
        return value
    }

    /// Exactly one app per node for now, as in the node config.
    func app(_ n: Yams.Node?, _ path: String, in parent: Yams.Node) throws(ConfigError) -> String {
        guard let n, !reader.isNull(n) else { throw reader.error("'\(path)' is required: the tier's app (.siddhi)", at: parent) }
        let items = n.sequence.map { Array($0) } ?? [n]
        guard items.count == 1 else {
            throw reader.error("'\(path)' lists \(items.count) apps, but a node runs exactly one app for now", at: n)
        }
        let text = try reader.required(items[0], path, in: n)
        let resolved = reader.resolve(text)
        guard reader.fileExists(resolved) else {
            throw reader.error("'\(path)': no such file '\(text)' (looked at \(resolved))", at: items[0])
        }
        return resolved
    }

    /// Names become folder names under the run directory.
    func checkName(_ name: String, _ path: String, at node: Yams.Node?) throws(ConfigError) {
        let allowed = name.unicodeScalars.allSatisfy { $0.isASCII && (CharacterSet.alphanumerics.contains($0) || "-_.".unicodeScalars.contains($0)) }
        guard !name.isEmpty, allowed, !name.hasPrefix(".") else {
            throw reader.error("'\(path)' must be letters, digits, '-', '_' or '.' (it names a folder), got '\(name)'", at: node)
        }
    }
}
