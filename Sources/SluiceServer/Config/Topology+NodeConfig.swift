import Yams

extension Topology {
    /// The node config (the YAML `sluice node --config` reads) for node `id` of this topology.
    /// Every node gets the `groups:` map, so a partitioner can resolve `@destination(group=…)`;
    /// a stateful node also gets its `cluster:` section, with its group's other member as `peer`.
    /// `defaultDataDir` applies when the topology gives the node none.
    public func nodeConfigYAML(for id: String, source: String, defaultDataDir: String? = nil) throws -> String {
        guard let spec = node(id) else { throw ConfigError(file: source, message: "no node '\(id)' in the topology") }
        var node: [(String, Yams.Node)] = [("id", .init(spec.id)), ("listen", .init(spec.listen.description)),
                                            ("admin", .init(spec.admin.description)), ("tier", .init(spec.tier.rawValue))]
        if let dataDir = spec.dataDir ?? defaultDataDir { node.append(("dataDir", .init(dataDir))) }
        var top: [(String, Yams.Node)] = [("node", mapping(node))]
        if let group = spec.group, let members = groups.first(where: { $0.name == group })?.members {
            var cluster: [(String, Yams.Node)] = [("enabled", .init("true")), ("groupId", .init(group))]
            if let peer = members.first(where: { $0 != id }).flatMap(self.node) {
                cluster.append(("peer", .init(peer.listen.description)))
            }
            if let heartbeatInterval {
                let milliseconds = Int((heartbeatInterval / .milliseconds(1)).rounded())
                cluster.append(("heartbeatInterval", .init("\(milliseconds)ms")))
            }
            if let heartbeatMaxRetry { cluster.append(("heartbeatMaxRetry", .init(String(heartbeatMaxRetry)))) }
            if let witness { cluster.append(("witness", .init(witness.listen.description))) }
            if let host = witnessNode.flatMap(self.node) { cluster.append(("witness", .init(host.listen.description))) }
            if let replication { cluster.append(("replication", .init(replication.rawValue))) }
            top.append(("cluster", mapping(cluster)))
        }
        if witnessNode == id {
            var section: [(String, Yams.Node)] = [("enabled", .init("true"))]
            if let heartbeatInterval {
                section.append(("heartbeatInterval", .init("\(Int((heartbeatInterval / .milliseconds(1)).rounded()))ms")))
            }
            if let heartbeatMaxRetry { section.append(("heartbeatMaxRetry", .init(String(heartbeatMaxRetry)))) }
            top.append(("witness", mapping(section)))
        }
        if !groups.isEmpty {
            top.append(("groups", mapping(groups.map { group in
                (group.name, .sequence(.init(group.members.compactMap(self.node).map { .init($0.listen.description) })))
            })))
        }
        top.append(("apps", .sequence(.init([.init(spec.app)]))))
        return "# Generated from \(source) by `sluice cluster up`; it is rewritten on every start.\n"
            + (try Yams.serialize(node: mapping(top)))
    }

    private func mapping(_ pairs: [(String, Yams.Node)]) -> Yams.Node {
        .mapping(.init(pairs.map { (Yams.Node($0.0), $0.1) }))
    }
}
