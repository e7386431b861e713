import Foundation

/// What `sluice cluster up` started, kept in `<run dir>/cluster.json` so that `cluster down` and
/// `status` find the processes again from another shell.
public struct ClusterRunState: Sendable, Hashable, Codable {
    public struct NodeProcess: Sendable, Hashable, Codable {
        public var id: String
        public var tier: Topology.Tier
        public var group: String?
        public var pid: Int32
        public var listen: String
        public var admin: String
        public var config: String
        public var log: String

        public init(id: String, tier: Topology.Tier, group: String?, pid: Int32, listen: String, admin: String,
                    config: String, log: String) {
            self.id = id
            self.tier = tier
            self.group = group
            self.pid = pid
            self.listen = listen
            self.admin = admin
            self.config = config
            self.log = log
        }
    }

    public var name: String
    public var topology: String
    public var startedAt: Date
    /// In start order: downstream tiers first.
    public var nodes: [NodeProcess]
    /// The groups' witness process (its `config` is its data directory), when there is one.
    public var witness: NodeProcess?

    public init(name: String, topology: String, startedAt: Date, nodes: [NodeProcess] = []) {
        self.name = name
        self.topology = topology
        self.startedAt = startedAt
        self.nodes = nodes
    }

    public static let fileName = "cluster.json"

    public static func path(in directory: String) -> String { (directory as NSString).appendingPathComponent(fileName) }

    /// nil when there is no state file; throws when there is one that cannot be read.
    public static func load(from directory: String) throws -> ClusterRunState? {
        let path = path(in: directory)
        guard let data = FileManager.default.contents(atPath: path) else { return nil }
        do {
            return try decoder.decode(ClusterRunState.self, from: data)
        } catch {
            throw ClusterError("\(path): not a cluster state file (\(error)); remove it if no node of it runs")
        }
    }

    /// Written whole to a temporary file and renamed, so a reader never sees half of it.
    public func save(to directory: String) throws {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys]
        encoder.dateEncodingStrategy = .iso8601
        let path = Self.path(in: directory)
        try encoder.encode(self).write(to: URL(fileURLWithPath: path), options: .atomic)
    }

    public static func remove(from directory: String) {
        try? FileManager.default.removeItem(atPath: path(in: directory))
    }

    /// Is `node`'s process still the node we started? A recycled pid running something else is not.
    public static func isAlive(_ node: NodeProcess) -> Bool {
        guard DetachedProcess.isRunning(node.pid) else { return false }
        guard let arguments = DetachedProcess.commandLine(node.pid) else { return true }
        return arguments.contains(node.config)
    }

    private static var decoder: JSONDecoder {
        let decoder = JSONDecoder()
        decoder.dateDecodingStrategy = .iso8601
        return decoder
    }
}

/// A failure of `sluice cluster` that the user can act on; prints as its message.
public struct ClusterError: Error, Sendable, CustomStringConvertible {
    public var description: String
    public init(_ description: String) { self.description = description }
}
