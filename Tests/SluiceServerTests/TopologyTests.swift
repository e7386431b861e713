import SluiceCore
import Foundation
import SluiceServer
import Testing

@Suite struct TopologyTests {
    static let seedLike = """
    name: demo
    stateless:
      apps: [ apps/intake.siddhi ]
      nodes:
        s1: { listen: 127.0.0.1:27701, admin: 127.0.0.1:27801 }
    partitioner:
      apps: apps/partition.siddhi
      nodes:
        p1: { listen: 127.0.0.1:27711, admin: 127.0.0.1:27811 }
        p2: { listen: 127.0.0.1:27712, admin: 127.0.0.1:27812, logDir: /var/log/p2 }
    stateful:
      apps: [ apps/stats.siddhi ]
      heartbeatInterval: 100ms
      heartbeatMaxRetry: 3
      groups:
        g1:
          a1: { listen: 127.0.0.1:27721, admin: 127.0.0.1:27821, dataDir: data/a1 }
          b1: { listen: 127.0.0.1:27722, admin: 127.0.0.1:27822 }
        g2:
          c1: { listen: 127.0.0.1:27731, admin: 127.0.0.1:27831 }
          d1: { listen: 127.0.0.1:27732, admin: 127.0.0.1:27832 }
    """

    func parse(_ yaml: String) throws(ConfigError) -> Topology {
        try Topology.parse(yaml: yaml, file: "topology.yaml", baseDirectory: "/srv/t") { !$0.contains("gone") }
    }

    func error(_ yaml: String) -> ConfigError? {
        do {
            _ = try parse(yaml)
            return nil
        } catch {
            return error
        }
    }

    @Test func aThreeTierTopologyParses() throws {
        let topology = try parse(Self.seedLike)
        #expect(topology.name == "demo")
        #expect(topology.nodes.map(\.id) == ["s1", "p1", "p2", "a1", "b1", "c1", "d1"])
        #expect(topology.nodes.map(\.tier) == [.stateless, .partitioner, .partitioner, .stateful, .stateful, .stateful, .stateful])
        #expect(topology.groups == [.init(name: "g1", members: ["a1", "b1"]), .init(name: "g2", members: ["c1", "d1"])])
        let a1 = try #require(topology.node("a1"))
        #expect(a1.group == "g1" && a1.app == "/srv/t/apps/stats.siddhi" && a1.dataDir == "/srv/t/data/a1")
        #expect(a1.listen == HostPort(host: "127.0.0.1", port: 27721) && a1.admin == HostPort(host: "127.0.0.1", port: 27821))
        #expect(topology.node("p2")?.logDir == "/var/log/p2")
        #expect(topology.node("p1")?.app == "/srv/t/apps/partition.siddhi" && topology.node("p1")?.group == nil)
        #expect(topology.heartbeatInterval == .milliseconds(100) && topology.heartbeatMaxRetry == 3)
    }

    /// What `cluster up` writes is what `sluice node --config` reads, with the group wiring filled in.
    @Test func eachNodesGeneratedConfigParsesBack() throws {
        let topology = try parse(Self.seedLike)
        let yaml = try topology.nodeConfigYAML(for: "b1", source: "/srv/t/topology.yaml", defaultDataDir: "/run/b1/data")
        #expect(yaml.contains("groups:"))
        let config = try NodeConfigFile.parse(yaml: yaml, file: "node.yaml", baseDirectory: "/elsewhere") { _ in true }
        #expect(config.node.id == "b1" && config.node.tier == "stateful" && config.node.dataDir == "/run/b1/data")
        #expect(config.node.listen.description == "127.0.0.1:27722" && config.node.admin?.description == "127.0.0.1:27822")
        #expect(config.app == "/srv/t/apps/stats.siddhi")
        let cluster = try #require(config.cluster)
        #expect(cluster.enabled && cluster.groupId == "g1" && cluster.peer?.description == "127.0.0.1:27721")
        #expect(cluster.heartbeatInterval == .milliseconds(100) && cluster.heartbeatMaxRetry == 3)
        #expect(NodePlacement(config: config) == NodePlacement(tier: "stateful", group: "g1", role: "member"))

        let partitioner = try topology.nodeConfigYAML(for: "p1", source: "t.yaml")
        let parsed = try NodeConfigFile.parse(yaml: partitioner, file: "node.yaml", baseDirectory: "/") { _ in true }
        #expect(parsed.cluster == nil && parsed.node.dataDir == nil && parsed.node.tier == "partitioner")
    }

    /// The `groups:` shape the distributed sink reads: name → member listen addresses, in order.
    @Test func theGroupsMapListsMembersInOrder() throws {
        let yaml = try parse(Self.seedLike).nodeConfigYAML(for: "s1", source: "t.yaml")
        let lines = yaml.split(separator: "\n").map(String.init)
        let start = try #require(lines.firstIndex(of: "groups:"))
        #expect(Array(lines[(start + 1)...].prefix(6)) == [
            "  g1:", "  - 127.0.0.1:27721", "  - 127.0.0.1:27722", "  g2:", "  - 127.0.0.1:27731", "  - 127.0.0.1:27732",
        ])
    }

    @Test func errorsCarryFileLineAndColumn() {
        let e = error("""
        name: demo
        stateless:
          apps: [a.siddhi]
          nodes:
            s1: { listen: 127.0.0.1:1, admin: 127.0.0.1:2, port: 3 }
        """)
        #expect(e?.description == "topology.yaml:5:52: unknown key 'stateless.nodes.s1.port' "
                + "(expected one of: listen, admin, dataDir, logDir)")
    }

    static let node = "{ listen: 127.0.0.1:1, admin: 127.0.0.1:2 }"

    @Test(arguments: [
        ("", "the file is empty"),
        ("stateless: { apps: [a], nodes: { s1: \(node) } }", "'name' is required"),
        ("name: a/b\nstateless: { apps: [a], nodes: { s1: \(node) } }", "'name' must be letters, digits"),
        ("name: t", "the topology has no nodes"),
        ("name: t\ntiers: {}", "unknown key 'tiers'"),
        ("name: t\nstateless: { nodes: { s1: \(node) } }", "'stateless.apps' is required"),
        ("name: t\nstateless: { apps: [a, b], nodes: { s1: \(node) } }", "'stateless.apps' lists 2 apps"),
        ("name: t\nstateless: { apps: [gone.siddhi], nodes: { s1: \(node) } }", "'stateless.apps': no such file 'gone.siddhi'"),
        ("name: t\nstateless: { apps: [a] }", "'stateless.nodes' is required"),
        ("name: t\nstateless: { apps: [a], nodes: {} }", "'stateless.nodes' must be a non-empty mapping"),
        ("name: t\nstateless: { apps: [a], nodes: { s1: { admin: 127.0.0.1:2 } } }", "'stateless.nodes.s1.listen' is required"),
        ("name: t\nstateless: { apps: [a], nodes: { s1: { listen: 127.0.0.1:1 } } }", "'stateless.nodes.s1.admin' is required"),
        ("name: t\nstateless: { apps: [a], nodes: { s1: { listen: 127.0.0.1:0, admin: 127.0.0.1:2 } } }", "'stateless.nodes.s1.listen' needs a fixed port"),
        ("name: t\nstateless: { apps: [a], nodes: { s1: { listen: nowhere, admin: 127.0.0.1:2 } } }", "'stateless.nodes.s1.listen' must be HOST:PORT"),
        ("name: t\nstateless: { apps: [a], nodes: { s1: \(node), s2: \(node) } }",
         "'stateless.nodes.s2.listen' 127.0.0.1:1 is already 'stateless.nodes.s1.listen'"),
        ("name: t\nstateless: { apps: [a], nodes: { s1: { listen: 127.0.0.1:1, admin: 127.0.0.1:1 } } }",
         "'stateless.nodes.s1.admin' 127.0.0.1:1 is already 'stateless.nodes.s1.listen'"),
        ("name: t\nstateless: { apps: [a], nodes: { s1: \(node) } }\npartitioner: { apps: [a], nodes: { s1: { listen: h:3, admin: h:4 } } }",
         "node id 's1' is used twice"),
        ("name: t\nstateful: { apps: [a], groups: { g1: { a1: \(node) } } }", "group 'g1' has 1 member(s); a group has 2 data nodes"),
        ("name: t\nstateful: { apps: [a], heartbeatInterval: soon, groups: {} }", "'stateful.heartbeatInterval' must be a positive duration"),
        ("name: t\nstateful: { apps: [a], groups: { 'g 1': {} } }", "'stateful.groups.g 1' must be letters"),
    ])
    func errors(yaml: String, message: String) {
        let e = error(yaml)
        #expect(e != nil, "expected an error for \(yaml)")
        #expect(e?.message.hasPrefix(message) == true, "got \(e.map(\.description) ?? "no error")")
        #expect(e?.description.hasPrefix("topology.yaml:") == true)
    }

    @Test func theBundledExampleParses() throws {
        let path = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
            .deletingLastPathComponent().appendingPathComponent("examples/seed-topology/topology.yaml").path
        let topology = try Topology.load(path: path)
        #expect(topology.nodes.filter { $0.tier == .stateless }.count == 2)
        #expect(topology.nodes.filter { $0.tier == .partitioner }.count == 2)
        #expect(topology.groups.map(\.members.count) == [2, 2])
    }
}
