import SluiceCore
import Foundation
import SluiceServer
import Testing

@Suite struct ClusterStatusTests {
    static func target(_ id: String, _ port: Int, tier: String, group: String? = nil) -> ClusterStatus.Target {
        .init(id: id, admin: HostPort(host: "127.0.0.1", port: port), tier: tier, group: group)
    }

    static let targets = [
        target("s1", 1, tier: "stateless"), target("a1", 2, tier: "stateful", group: "g1"),
        target("b1", 3, tier: "stateful", group: "g1"),
    ]

    static func up(_ id: String, in eventsIn: Int, out eventsOut: Int, backlog: Int = 0, group: String? = nil,
                   role: String = "standalone") -> ClusterStatus.Sample {
        .init(health: "ok", report: .init(nodeID: id, eventsIn: eventsIn, eventsOut: eventsOut, backlog: backlog,
                                          group: group, role: role))
    }

    @Test func ratesAreTheCountersDifferenceOverTheInterval() {
        let rows = ClusterStatus.rows(
            Self.targets,
            first: [Self.up("s1", in: 100, out: 50), Self.up("a1", in: 0, out: 0, group: "g1", role: "member"),
                    Self.up("b1", in: 0, out: 0, group: "g1", role: "member")],
            second: [Self.up("s1", in: 2100, out: 1050, backlog: 7), Self.up("a1", in: 10, out: 3, group: "g1", role: "member"),
                     Self.up("b1", in: 0, out: 0, group: "g1", role: "member")],
            seconds: 2)
        #expect(rows.map(\.eventsInPerSecond) == [1000, 5, 0])
        #expect(rows.map(\.eventsOutPerSecond) == [500, 1.5, 0])
        #expect(rows[0].lag == 7 && rows[0].tier == "stateless" && rows[0].group == nil && rows[0].leader == nil)
        #expect(rows.map(\.role) == ["standalone", "leader", "follower"])
        #expect(rows.map(\.leader) == [nil, "a1", "a1"])
        #expect(rows.allSatisfy { $0.term == nil })
    }

    /// Until HA elects leaders, the first healthy member leads; a node that reports a role keeps it.
    @Test func theFirstHealthyMemberLeads() {
        let down = ClusterStatus.Sample(health: "down", report: nil)
        let rows = ClusterStatus.rows(Self.targets,
                                      first: [down, down, Self.up("b1", in: 0, out: 0, group: "g1", role: "member")],
                                      second: [down, down, Self.up("b1", in: 0, out: 0, group: "g1", role: "member")],
                                      seconds: 1)
        #expect(rows.map(\.node) == ["s1", "a1", "b1"])
        #expect(rows.map(\.health) == ["down", "down", "ok"])
        #expect(rows.map(\.role) == [nil, nil, "leader"])
        #expect(rows[1].leader == "b1" && rows[1].group == "g1" && rows[1].eventsInPerSecond == nil)

        let elected = ClusterStatus.rows(
            Self.targets,
            first: [down, Self.up("a1", in: 0, out: 0, group: "g1", role: "follower"), Self.up("b1", in: 0, out: 0, group: "g1", role: "leader")],
            second: [down, Self.up("a1", in: 0, out: 0, group: "g1", role: "follower"), Self.up("b1", in: 0, out: 0, group: "g1", role: "leader")],
            seconds: 1)
        #expect(elected.map(\.leader) == [nil, "b1", "b1"])
        #expect(elected.map(\.role) == [nil, "follower", "leader"])
    }

    @Test func haNodesReportTheirRoleTermAndLeaderByAddress() throws {
        func ha(_ id: String, listen: String, role: String, degraded: Bool = false, lag: UInt64? = nil) -> ClusterStatus.Sample {
            var status = HAStatus(group: "g1", nodeID: listen)
            status.role = role
            status.term = 4
            status.leader = "127.0.0.1:7702"
            status.degraded = degraded
            status.followerLag = lag
            status.lastLeadChange = role == "follower" ? nil : "2026-11-26T02:30:39Z"
            return .init(health: "ok", report: .init(nodeID: id, eventsIn: 0, eventsOut: 0, backlog: 0, group: "g1",
                                                     role: "member", listen: listen, ha: status))
        }
        let targets = [Self.target("a1", 2, tier: "stateful", group: "g1"), Self.target("b1", 3, tier: "stateful", group: "g1")]
        let samples = [ha("a1", listen: "127.0.0.1:7701", role: "follower"),
                       ha("b1", listen: "127.0.0.1:7702", role: "leader (degraded)", degraded: true, lag: 12)]
        let rows = ClusterStatus.rows(targets, first: samples, second: samples, seconds: 1)
        #expect(rows.map(\.leader) == ["b1", "b1"], "the leader's address is mapped to its node")
        #expect(rows.map(\.role) == ["follower", "leader"] && rows.map(\.term) == [4, 4])
        #expect(rows[1].degraded == true && rows[1].followerLag == 12)
        let table = ClusterStatus.table(rows)
        #expect(table.contains("leader (degraded)") && table.contains("group g1: last leadership change 2026-11-26T02:30:39Z"))
    }

    @Test func theTableAndTheJSON() throws {
        let rows = ClusterStatus.rows([Self.target("s1", 1, tier: "stateless")], first: [Self.up("s1", in: 0, out: 0)],
                                      second: [Self.up("s1", in: 1234, out: 5)], seconds: 1)
        #expect(ClusterStatus.table(rows) == """
            NODE  TIER       GROUP  ROLE        TERM  LEADER  IN/s  OUT/s  LAG  REPL LAG  HEALTH  ADMIN
            s1    stateless  -      standalone  -     -       1234      5    0         -  ok      127.0.0.1:1
            """)
        let json = try ClusterStatus.json(rows, seconds: 1)
        let object = try #require(try JSONSerialization.jsonObject(with: Data(json.utf8)) as? [String: Any])
        let node = try #require((object["nodes"] as? [[String: Any]])?.first)
        #expect(node["eventsInPerSecond"] as? Double == 1234 && node["health"] as? String == "ok")
        #expect(node["term"] is NSNull && node["group"] is NSNull)
        #expect(node["eventsIn"] as? Int == 1234 && node["eventsOut"] as? Int == 5)
    }
}
