import SluiceCore
import Foundation
import SluiceServer
import Testing

@Suite struct ConfigTests {
    /// Parses with every app path existing, unless `missing` names it.
    func parse(_ yaml: String, missing: Set<String> = []) throws(ConfigError) -> NodeConfigFile {
        try NodeConfigFile.parse(yaml: yaml, file: "node.yaml", baseDirectory: "/etc/sluice") { !missing.contains($0) }
    }

    func error(_ yaml: String, missing: Set<String> = []) -> ConfigError? {
        do {
            _ = try parse(yaml, missing: missing)
            return nil
        } catch {
            return error
        }
    }

    static let full = """
    node: { id: a1, listen: 127.0.0.1:7701, admin: 127.0.0.1:9701, dataDir: ./data/a1 }
    cluster:
      enabled: true
      groupId: g1
      peer: 127.0.0.1:7702
      witness: 127.0.0.1:7600
      heartbeatInterval: 100ms
      heartbeatMaxRetry: 3
    auth: { token: secret }
    flow: { credit: 16 }
    apps: [ ./apps/tenant-stats.siddhi ]
    """

    @Test func theDesignExampleParses() throws {
        let config = try parse(Self.full)
        #expect(config.node.id == "a1")
        #expect(config.node.listen == HostPort(host: "127.0.0.1", port: 7701))
        #expect(config.node.admin == HostPort(host: "127.0.0.1", port: 9701))
        #expect(config.node.dataDir == "/etc/sluice/data/a1")
        #expect(config.app == "/etc/sluice/apps/tenant-stats.siddhi")
        #expect(config.authToken == "secret")
        #expect(config.credit == 16)
        let cluster = try #require(config.cluster)
        #expect(cluster.enabled && cluster.groupId == "g1" && cluster.heartbeatMaxRetry == 3)
        #expect(cluster.peer == HostPort(host: "127.0.0.1", port: 7702))
        #expect(cluster.witness == HostPort(host: "127.0.0.1", port: 7600))
        #expect(cluster.heartbeatInterval == .milliseconds(100))

        let runtime = config.nodeConfiguration(appSource: "define stream S (a int);")
        #expect(runtime.nodeID == "a1" && runtime.host == "127.0.0.1" && runtime.port == 7701)
        #expect(runtime.authToken == "secret" && runtime.credit == 16)
    }

    @Test func groupsListTheirMembers() throws {
        let config = try parse("""
        node: { id: p1, listen: 127.0.0.1:7701 }
        groups:
          g1: [127.0.0.1:7711, 127.0.0.1:7712]
          g2: ["[::1]:7721"]
        apps: [ app.siddhi ]
        """)
        #expect(config.groups["g1"] == [HostPort(host: "127.0.0.1", port: 7711), HostPort(host: "127.0.0.1", port: 7712)])
        #expect(config.groups["g2"] == [HostPort(host: "::1", port: 7721)])
        #expect(config.nodeConfiguration(appSource: "").groups == config.groups)
        #expect(try parse("node: { id: n, listen: 127.0.0.1:1 }\napps: [a]").groups.isEmpty)

        let empty = error("node: { id: n, listen: 127.0.0.1:1 }\ngroups: { g1: [] }\napps: [a]")
        #expect(empty?.description.contains("'groups.g1' must be a non-empty list") == true)
        let bad = error("node: { id: n, listen: 127.0.0.1:1 }\ngroups: { g1: [nohost] }\napps: [a]")
        #expect(bad?.description.contains("groups.g1[0]") == true)
        let twice = error("node: { id: n, listen: 127.0.0.1:1 }\ngroups: { g1: [a:1, a:1] }\napps: [a]")
        #expect(twice?.description.contains("twice") == true)
    }

    @Test func optionalSectionsDefault() throws {
        let config = try parse("""
        node:
          id: n
          listen: "[::1]:0"
        apps: /abs/app.siddhi
        """)
        #expect(config.node.listen == HostPort(host: "::1", port: 0))
        #expect(config.node.listen.description == "[::1]:0")
        #expect(config.node.admin == nil && config.node.dataDir == nil)
        #expect(config.cluster == nil && config.authToken == nil)
        #expect(config.credit == NodeConfigFile.defaultCredit)
        #expect(config.app == "/abs/app.siddhi")
    }

    @Test(arguments: [("100ms", Duration.milliseconds(100)), ("5s", .seconds(5)), ("5000", .milliseconds(5000)),
                      ("2m", .seconds(120))])
    func durations(text: String, expected: Duration) throws {
        let config = try parse("""
        node: { id: a, listen: 127.0.0.1:1 }
        cluster: { heartbeatInterval: \(text) }
        apps: [a.siddhi]
        """)
        #expect(config.cluster?.heartbeatInterval == expected)
        #expect(config.cluster?.enabled == false)
    }

    @Test func aDisabledClusterNeedsNoPeer() throws {
        let config = try parse("node: { id: a, listen: 127.0.0.1:1 }\ncluster: { enabled: false }\napps: [a.siddhi]")
        #expect(config.cluster?.enabled == false && config.cluster?.peer == nil)
    }

    @Test func unknownKeysNameTheirPathAndLine() {
        let e = error("""
        node: { id: a1, listen: 127.0.0.1:7701 }
        cluster:
          enabled: true
          hearbeatInterval: 100ms
        apps: [a.siddhi]
        """)
        #expect(e?.line == 4)
        #expect(e?.message.hasPrefix("unknown key 'cluster.hearbeatInterval'") == true)
        #expect(e?.description.hasPrefix("node.yaml:4:3: unknown key 'cluster.hearbeatInterval'") == true)

        #expect(error("node: { id: a, listen: 127.0.0.1:1, port: 3 }\napps: [a]")?.message.hasPrefix("unknown key 'node.port'") == true)
        #expect(error("node: { id: a, listen: 127.0.0.1:1 }\napps: [a]\nextra: 1")?.message.hasPrefix("unknown key 'extra'") == true)
    }

    @Test func aTierAndAGroupsMapAreAccepted() throws {
        let config = try parse("""
        node: { id: p1, listen: 127.0.0.1:1, tier: partitioner }
        groups: { g1: [127.0.0.1:7711, 127.0.0.1:7712] }
        apps: [a.siddhi]
        """)
        #expect(config.node.tier == "partitioner")
    }

    @Test func moreThanOneAppIsRefused() {
        let e = error("node: { id: a, listen: 127.0.0.1:1 }\napps: [a.siddhi, b.siddhi]")
        #expect(e?.message == "'apps' lists 2 apps, but a node runs exactly one app for now")
        #expect(e?.line == 2)
    }

    @Test(arguments: [
        // (yaml, what the message says)
        ("", "the file is empty"),
        ("- a\n- b", "the file must be a mapping"),
        ("apps: [a]", "the 'node' section is required"),
        ("node: { id: a }\napps: [a]", "'node.listen' is required"),
        ("node: { listen: 127.0.0.1:1 }\napps: [a]", "'node.id' is required"),
        ("node: { id: a, listen: localhost }\napps: [a]", "'node.listen' must be HOST:PORT (port 0-65535), got 'localhost'"),
        ("node: { id: a, listen: h:70000 }\napps: [a]", "'node.listen' must be HOST:PORT"),
        ("node: { id: a, listen: h:1, admin: h:1 }\napps: [a]", "'node.admin' and 'node.listen' are the same address"),
        ("node: { id: [a, b], listen: h:1 }\napps: [a]", "'node.id' must be a single value"),
        ("node: { id: a, listen: h:1 }", "'apps' is required"),
        ("node: { id: a, listen: h:1 }\napps: []", "'apps' is empty"),
        ("node: { id: a, listen: h:1 }\napps: [gone.siddhi]", "'apps[0]': no such file 'gone.siddhi'"),
        ("node: { id: a, listen: h:1 }\nauth: {}\napps: [a]", "'auth.token' is required"),
        ("node: { id: a, listen: h:1 }\nflow: { credit: 0 }\napps: [a]", "'flow.credit' must be a whole number ≥ 1, got '0'"),
        ("node: { id: a, listen: h:1 }\nflow: { credit: lots }\napps: [a]", "'flow.credit' must be a whole number"),
        ("node: { id: a, listen: h:1 }\ncluster: { enabled: maybe }\napps: [a]", "'cluster.enabled' must be true or false"),
        ("node: { id: a, listen: h:1 }\ncluster: { enabled: true, peer: h:2 }\napps: [a]", "'cluster.groupId' is required"),
        ("node: { id: a, listen: h:1 }\ncluster: { enabled: true, groupId: g }\napps: [a]", "'cluster.peer' is required"),
        ("node: { id: a, listen: h:1 }\ncluster: { enabled: true, groupId: g, peer: h:1 }\napps: [a]", "'cluster.peer' is this node's own"),
        ("node: { id: a, listen: h:1 }\ncluster: { heartbeatInterval: 10h }\napps: [a]", "'cluster.heartbeatInterval' must be a positive duration"),
        ("node: { id: a, listen: h:1 }\ncluster: { heartbeatInterval: 0ms }\napps: [a]", "'cluster.heartbeatInterval' must be a positive duration"),
        ("node: { id: a, listen: h:1 }\ncluster: { heartbeatMaxRetry: 0 }\napps: [a]", "'cluster.heartbeatMaxRetry' must be a whole number ≥ 1"),
        ("node: { id: a, listen: h:1 }\nnode: { id: b, listen: h:2 }\napps: [a]", "duplicate key 'node'"),
        ("node: { id: a, listen: h:1\napps: [a]", "invalid YAML"),
    ])
    func errors(yaml: String, message: String) {
        let e = error(yaml, missing: ["/etc/sluice/gone.siddhi"])
        #expect(e != nil, "expected an error for \(yaml)")
        #expect(e?.message.hasPrefix(message) == true, "got \(e.map(\.description) ?? "no error")")
        #expect(e?.description.hasPrefix("node.yaml:") == true)
    }

    @Test func loadReadsTheFileAndResolvesAgainstItsFolder() throws {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("sluice-config-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: dir.appendingPathComponent("apps"), withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: dir) }
        try "define stream S (a int);".write(to: dir.appendingPathComponent("apps/x.siddhi"), atomically: true, encoding: .utf8)
        let path = dir.appendingPathComponent("node.yaml").path
        try "node: { id: a, listen: 127.0.0.1:0 }\napps: [ ./apps/x.siddhi ]\n".write(toFile: path, atomically: true, encoding: .utf8)
        let config = try NodeConfigFile.load(path: path)
        #expect(config.app == dir.appendingPathComponent("apps/x.siddhi").standardizedFileURL.path)

        #expect(throws: ConfigError(file: dir.path + "/nope.yaml", message: "cannot read the file")) {
            try NodeConfigFile.load(path: dir.path + "/nope.yaml")
        }
    }
}
