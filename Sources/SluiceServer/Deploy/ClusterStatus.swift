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

        public init(nodeID: String, eventsIn: Int, eventsOut: Int, backlog: Int? = nil, tier: String? = nil,
                    group: String? = nil, role: String? = nil, term: Int? = nil, listen: String? = nil) {
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

        enum Keys: String, CodingKey {
            case node, tier, group, role, term, leader, eventsInPerSecond, eventsOutPerSecond, lag, health, admin, listen,
                 eventsIn, eventsOut
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

    /// Rates are the counters' difference over `seconds`. Until HA reports roles, a group's leader
    /// is its first healthy member in target order.
    public static func rows(_ targets: [Target], first: [Sample], second: [Sample], seconds: Double) -> [Row] {
        var rows = zip(targets, zip(first, second)).map { target, samples in
            let (before, after) = samples
            let report = after.report
            func rate(_ counter: (Report) -> Int) -> Double? {
                guard let a = before.report.map(counter), let b = report.map(counter), seconds > 0 else { return nil }
                return (Double(max(0, b - a)) / seconds * 10).rounded() / 10
            }
            return Row(node: report?.nodeID ?? target.id ?? target.admin.description,
                       tier: report?.tier ?? target.tier, group: report?.group ?? target.group, role: report?.role,
                       term: report?.term, leader: nil, eventsInPerSecond: rate(\.eventsIn),
                       eventsOutPerSecond: rate(\.eventsOut), lag: report?.backlog, health: after.health,
                       admin: target.admin.description, listen: report?.listen, eventsIn: report?.eventsIn,
                       eventsOut: report?.eventsOut)
        }
        var groupLeaders: [String: String] = [:]
        for row in rows {
            guard let group = row.group, row.health == "ok" else { continue }
            // A node that knows it leads (HA) wins over the first-healthy rule.
            if row.role == "leader" || groupLeaders[group] == nil { groupLeaders[group] = row.node }
        }
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
        let header = ["NODE", "TIER", "GROUP", "ROLE", "TERM", "LEADER", "IN/s", "OUT/s", "LAG", "HEALTH", "ADMIN"]
        let cells = rows.map { row in
            [row.node, row.tier ?? "-", row.group ?? "-", row.role ?? "-", row.term.map(String.init) ?? "-",
             row.leader ?? "-", format(row.eventsInPerSecond), format(row.eventsOutPerSecond),
             row.lag.map(String.init) ?? "-", row.health, row.admin]
        }
        return TextTable.render(header: header, rows: cells, rightAligned: [6, 7, 8])
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
