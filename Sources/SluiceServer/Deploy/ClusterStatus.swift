import SluiceCore
import Foundation

/// `sluice status`: every node's `/status` sampled twice, turned into one row per node.
public enum ClusterStatus {
    /// A node to ask, and what the topology says about it (nodes asked by address know nothing).
    public struct Target: Sendable, Hashable {
        public var id: String?
        public var admin: HostPort
        public var tier: String?
        public var group: String?

        public init(id: String? = nil, admin: HostPort, tier: String? = nil, group: String? = nil) {
            self.id = id
            self.admin = admin
            self.tier = tier
            self.group = group
        }
    }

    /// The part of `/status` the table uses.
    public struct Report: Sendable, Hashable, Decodable {
        public var nodeID: String
        public var eventsIn: Int
        public var eventsOut: Int
        public var backlog: Int?
        public var tier: String?
        public var group: String?
        public var role: String?
        public var term: Int?
        public var listen: String?
        /// An HA data node's view of its group.
        public var ha: HAStatus?

        public init(nodeID: String, eventsIn: Int, eventsOut: Int, backlog: Int? = nil, tier: String? = nil,
                    group: String? = nil, role: String? = nil, term: Int? = nil, listen: String? = nil, ha: HAStatus? = nil) {
            self.ha = ha
            self.nodeID = nodeID
            self.eventsIn = eventsIn
            self.eventsOut = eventsOut
            self.backlog = backlog
            self.tier = tier
            self.group = group
            self.role = role
            self.term = term
            self.listen = listen
        }
    }

    public struct Sample: Sendable, Hashable {
        /// `ok`, `stopping` or `down`.
        public var health: String
        public var report: Report?

        public init(health: String, report: Report?) {
            self.health = health
            self.report = report
        }
    }

    public struct Row: Sendable, Hashable, Encodable {
        public var node: String
        public var tier: String?
        public var group: String?
        public var role: String?
        public var term: Int?
        public var leader: String?
        public var eventsInPerSecond: Double?
        public var eventsOutPerSecond: Double?
        public var lag: Int?
        public var health: String
        public var admin: String
        public var listen: String?
        /// The counters at the second sample: totals for scripts that report progress.
        public var eventsIn: Int? = nil
        public var eventsOut: Int? = nil
        /// HA leader: log entries the follower does not hold yet.
        public var followerLag: Int? = nil
        public var degraded: Bool? = nil
        /// When this node last took or left the lead.
        public var lastLeadChange: String? = nil

        enum Keys: String, CodingKey {
            case node, tier, group, role, term, leader, eventsInPerSecond, eventsOutPerSecond, lag, health, admin, listen,
                 eventsIn, eventsOut, followerLag, degraded, lastLeadChange
        }

        /// Every key always, null when unknown, so scripts need not test for presence.
        public func encode(to encoder: any Encoder) throws {
            var c = encoder.container(keyedBy: Keys.self)
            try c.encode(node, forKey: .node)
            try c.encode(tier, forKey: .tier)
            try c.encode(group, forKey: .group)
            try c.encode(role, forKey: .role)
            try c.encode(term, forKey: .term)
            try c.encode(leader, forKey: .leader)
            try c.encode(eventsInPerSecond, forKey: .eventsInPerSecond)
            try c.encode(eventsOutPerSecond, forKey: .eventsOutPerSecond)
            try c.encode(lag, forKey: .lag)
            try c.encode(health, forKey: .health)
            try c.encode(admin, forKey: .admin)
            try c.encode(listen, forKey: .listen)
            try c.encode(eventsIn, forKey: .eventsIn)
            try c.encode(eventsOut, forKey: .eventsOut)
            try c.encode(followerLag, forKey: .followerLag)
            try c.encode(degraded, forKey: .degraded)
            try c.encode(lastLeadChange, forKey: .lastLeadChange)
        }
    }

    /// Asks every target for `/health` and `/status` at once.
    public static func sample(_ targets: [Target], client: AdminClient) async -> [Sample] {
        await withTaskGroup(of: (Int, Sample).self) { tasks in
            for (index, target) in targets.enumerated() {
                tasks.addTask {
                    let health = await client.health(target.admin)
                    guard health != "down", let response = try? await client.get(target.admin, path: "/status"),
                          response.status == 200 else { return (index, Sample(health: health, report: nil)) }
                    let report = try? JSONDecoder().decode(Report.self, from: Data(response.body.utf8))
                    return (index, Sample(health: health, report: report))
                }
            }
            var samples = [Sample?](repeating: nil, count: targets.count)
            for await (index, sample) in tasks { samples[index] = sample }
            return samples.map { $0! }
        }
    }

    /// Rates are the counters' difference over `seconds`. HA nodes report their role, term and
    /// leader; a group whose nodes do not (no `cluster:` section) shows its first healthy member.
    public static func rows(_ targets: [Target], first: [Sample], second: [Sample], seconds: Double) -> [Row] {
        var rows = zip(targets, zip(first, second)).map { target, samples in
            let (before, after) = samples
            let report = after.report
            func rate(_ counter: (Report) -> Int) -> Double? {
                guard let a = before.report.map(counter), let b = report.map(counter), seconds > 0 else { return nil }
                return (Double(max(0, b - a)) / seconds * 10).rounded() / 10
            }
            let ha = report?.ha
            var row = Row(node: report?.nodeID ?? target.id ?? target.admin.description,
                          tier: report?.tier ?? target.tier, group: report?.group ?? ha?.group ?? target.group,
                          role: ha.map { $0.degraded ? "leader" : $0.role } ?? report?.role,
                          term: ha.map { Int($0.term) } ?? report?.term, leader: nil, eventsInPerSecond: rate(\.eventsIn),
                          eventsOutPerSecond: rate(\.eventsOut), lag: report?.backlog, health: after.health,
                          admin: target.admin.description, listen: report?.listen, eventsIn: report?.eventsIn,
                          eventsOut: report?.eventsOut)
            row.followerLag = ha?.followerLag.map { Int($0) }
            row.degraded = ha?.degraded
            row.lastLeadChange = ha?.lastLeadChange
            return row
        }
        // HA nodes name their leader by its listen address.
        let byListen = Dictionary(rows.compactMap { r in r.listen.map { ($0, r.node) } }, uniquingKeysWith: { a, _ in a })
        var reportedLeaders: [String: String] = [:]
        for (row, sample) in zip(rows, second) {
            if let group = row.group, row.health == "ok", let leader = sample.report?.ha?.leader {
                reportedLeaders[group] = byListen[leader] ?? leader
            }
        }
        var groupLeaders: [String: String] = [:]
        for row in rows {
            guard let group = row.group, row.health == "ok" else { continue }
            // A node that knows it leads (HA) wins over the first-healthy rule.
            if row.role == "leader" || groupLeaders[group] == nil { groupLeaders[group] = row.node }
        }
        groupLeaders.merge(reportedLeaders) { _, reported in reported }
        for index in rows.indices {
            guard let group = rows[index].group else { continue }
            let leader = groupLeaders[group]
            rows[index].leader = leader
            if rows[index].role == nil || rows[index].role == NodePlacement.member {
                rows[index].role = rows[index].health != "ok" ? nil : leader == rows[index].node ? "leader" : "follower"
            }
        }
        return rows
    }

    public static func table(_ rows: [Row]) -> String {
        let header = ["NODE", "TIER", "GROUP", "ROLE", "TERM", "LEADER", "IN/s", "OUT/s", "LAG", "REPL LAG", "HEALTH", "ADMIN"]
        let cells = rows.map { row in
            [row.node, row.tier ?? "-", row.group ?? "-", (row.role ?? "-") + (row.degraded == true ? " (degraded)" : ""),
             row.term.map(String.init) ?? "-", row.leader ?? "-", format(row.eventsInPerSecond), format(row.eventsOutPerSecond),
             row.lag.map(String.init) ?? "-", row.followerLag.map(String.init) ?? "-", row.health, row.admin]
        }
        var text = TextTable.render(header: header, rows: cells, rightAligned: [6, 7, 8, 9])
        // Per group, when its leader last changed (the newest change any member reports).
        var changes: [String: String] = [:]
        for row in rows {
            guard let group = row.group, let at = row.lastLeadChange else { continue }
            if changes[group].map({ at > $0 }) ?? true { changes[group] = at }
        }
        for group in changes.keys.sorted() { text += "\ngroup \(group): last leadership change \(changes[group]!)" }
        return text
    }

    public static func json(_ rows: [Row], seconds: Double) throws -> String {
        struct Document: Encodable {
            var intervalSeconds: Double
            var nodes: [Row]
        }
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys]
        return String(decoding: try encoder.encode(Document(intervalSeconds: seconds, nodes: rows)), as: UTF8.self)
    }

    private static func format(_ rate: Double?) -> String {
        guard let rate else { return "-" }
        return rate >= 100 || rate == rate.rounded() ? String(Int(rate.rounded())) : String(format: "%.1f", rate)
    }
}
