import SluiceCore
import Foundation

/// A topology run as processes on this machine: `sluice cluster up` and `sluice cluster down`.
/// Each node gets a folder under the run directory with its generated `node.yaml` and its `node.log`;
/// `cluster.json` there records the processes.
public struct LocalCluster: Sendable {
    public var topology: Topology
    /// The topology file, absolute; generated configs name it.
    public var topologyFile: String
    /// The run directory, absolute.
    public var directory: String
    /// The `sluice` binary each node runs as `sluice node --config …`.
    public var executable: String

    public init(topology: Topology, topologyFile: String, directory: String, executable: String) {
        self.topology = topology
        self.topologyFile = topologyFile
        self.directory = directory
        self.executable = executable
    }

    /// `.sluice/<topology name>` under the current directory.
    public static func defaultDirectory(for name: String) -> String {
        NodeConfigFile.absolute(".sluice/\(name)")
    }

    /// Downstream first, so a sink finds its destination already listening.
    public static let startOrder: [Topology.Tier] = [.stateful, .partitioner, .stateless]

    public func configPath(_ node: Topology.NodeSpec) -> String { "\(directory)/\(node.id)/node.yaml" }
    public func logPath(_ node: Topology.NodeSpec) -> String { "\(node.logDir ?? "\(directory)/\(node.id)")/node.log" }

    /// Starts every node and waits until each answers `GET /health` with 200. On any failure the
    /// nodes already started are stopped again, and the error names the node and shows its log's tail.
    public func up(healthTimeout: Duration, progress: (String) -> Void = { _ in }) async throws(ClusterError) -> ClusterRunState {
        try clearStaleState(progress: progress)
        try checkAddresses()
        var state = ClusterRunState(name: topology.name, topology: topologyFile, startedAt: Date())
        do {
            try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
            if let witness = topology.witness {
                state.witness = try start(witness)
                try state.save(to: directory)
            }
            for tier in Self.startOrder {
                for node in topology.nodes where node.tier == tier {
                    state.nodes.append(try start(node))
                    try state.save(to: directory)
                }
            }
        } catch {
            await abandon(state)
            throw error as? ClusterError ?? ClusterError("cannot start the cluster in \(directory): \(error)")
        }
        do {
            try await waitUntilHealthy(state, timeout: healthTimeout)
        } catch {
            await abandon(state)
            throw error
        }
        return state
    }

    /// Stops the nodes recorded in `directory`'s state file, upstream tiers first so that what is in
    /// flight drains downstream, then removes the file. Nil when there is no state file.
    public static func down(directory: String, grace: Duration) async throws -> [(node: ClusterRunState.NodeProcess, stop: DetachedProcess.Stop)]? {
        guard let state = try ClusterRunState.load(from: directory) else { return nil }
        let results = await stop(state, grace: grace)
        ClusterRunState.remove(from: directory)
        return results
    }

    // MARK: - Steps

    /// A state file whose nodes all stopped (a reboot, a kill -9) is stale and goes; one with a
    /// live node means the cluster is already up.
    private func clearStaleState(progress: (String) -> Void) throws(ClusterError) {
        let existing: ClusterRunState?
        do {
            existing = try ClusterRunState.load(from: directory)
        } catch {
            throw error as? ClusterError ?? ClusterError("\(error)")
        }
        guard let existing else { return }
        let alive = existing.nodes.filter(ClusterRunState.isAlive)
        guard alive.isEmpty else {
            let list = alive.map { "\($0.id) (pid \($0.pid))" }.joined(separator: ", ")
            throw ClusterError("cluster '\(existing.name)' is already running from \(directory): \(list); "
                               + "stop it first with `sluice cluster down --dir \(directory)`")
        }
        ClusterRunState.remove(from: directory)
        progress("removed a stale \(ClusterRunState.path(in: directory)): none of its \(existing.nodes.count) nodes runs")
    }

    private func checkAddresses() throws(ClusterError) {
        var problems: [String] = []
        if let witness = topology.witness, let problem = PortProbe.problem(binding: witness.listen) {
            problems.append("witness listen: \(problem)")
        }
        for node in topology.nodes {
            for (what, address) in [("listen", node.listen), ("admin", node.admin)] {
                if let problem = PortProbe.problem(binding: address) { problems.append("node \(node.id) \(what): \(problem)") }
            }
        }
        guard problems.isEmpty else {
            throw ClusterError((problems + ["change the ports in \(topologyFile) or stop what holds them"])
                .joined(separator: "\n"))
        }
    }

    /// A new deployment is a new group: HA state left by an earlier run (terms, votes, the
    /// witness's log positions) would describe logs that no longer exist.
    private func start(_ witness: Topology.WitnessSpec) throws -> ClusterRunState.NodeProcess {
        let folder = "\(directory)/witness"
        let dataDir = witness.dataDir ?? "\(folder)/data"
        let log = "\(witness.logDir ?? folder)/witness.log"
        let files = FileManager.default
        try? files.removeItem(atPath: dataDir)
        try files.createDirectory(atPath: dataDir, withIntermediateDirectories: true)
        try files.createDirectory(atPath: (log as NSString).deletingLastPathComponent, withIntermediateDirectories: true)
        try? files.removeItem(atPath: log)
        var arguments = ["witness", "--listen", witness.listen.description, "--data-dir", dataDir]
        if let interval = topology.heartbeatInterval {
            arguments += ["--heartbeat-interval", String(Int((interval / .milliseconds(1)).rounded()))]
        }
        if let retries = topology.heartbeatMaxRetry { arguments += ["--heartbeat-max-retry", String(retries)] }
        let pid = try DetachedProcess.spawn(executable, arguments, log: log)
        return .init(id: "witness", tier: .stateful, group: nil, pid: pid, listen: witness.listen.description,
                     admin: "", config: dataDir, log: log)
    }

    private func start(_ node: Topology.NodeSpec) throws -> ClusterRunState.NodeProcess {
        let config = configPath(node), log = logPath(node)
        let files = FileManager.default
        try files.createDirectory(atPath: (config as NSString).deletingLastPathComponent, withIntermediateDirectories: true)
        try files.createDirectory(atPath: (log as NSString).deletingLastPathComponent, withIntermediateDirectories: true)
        let dataDir = node.dataDir ?? "\(directory)/\(node.id)/data"
        try? files.removeItem(atPath: "\(dataDir)/ha")
        try? files.removeItem(atPath: "\(dataDir)/witness")
        try files.createDirectory(atPath: dataDir, withIntermediateDirectories: true)
        try topology.nodeConfigYAML(for: node.id, source: topologyFile, defaultDataDir: dataDir)
            .write(toFile: config, atomically: true, encoding: .utf8)
        // Each start begins a fresh log, so its tail is about this run.
        try? files.removeItem(atPath: log)
        let pid = try DetachedProcess.spawn(executable, ["node", "--config", config], log: log)
        return .init(id: node.id, tier: node.tier, group: node.group, pid: pid, listen: node.listen.description,
                     admin: node.admin.description, config: config, log: log)
    }

    private func waitUntilHealthy(_ state: ClusterRunState, timeout: Duration) async throws(ClusterError) {
        let client = AdminClient(timeout: .milliseconds(500))
        let deadline = ContinuousClock.now + timeout
        if let witness = state.witness {
            while !PortProbe.accepts(HostPort(witness.listen)!) {
                if let status = DetachedProcess.exitStatus(witness.pid) {
                    throw failure(witness, "exited (\(Self.describe(exitStatus: status))) before it listened")
                }
                if ContinuousClock.now >= deadline { throw failure(witness, "did not listen on \(witness.listen) within \(timeout)") }
                try? await Task.sleep(for: .milliseconds(50))
            }
        }
        var pending = state.nodes
        while !pending.isEmpty {
            var still: [ClusterRunState.NodeProcess] = []
            for node in pending {
                if let status = DetachedProcess.exitStatus(node.pid) {
                    throw failure(node, "exited (\(Self.describe(exitStatus: status))) before it became healthy")
                }
                if await client.health(HostPort(node.admin)!) != "ok" { still.append(node) }
            }
            pending = still
            guard !pending.isEmpty else { return }
            if ContinuousClock.now >= deadline {
                throw failure(pending[0], "did not answer GET /health on \(pending[0].admin) within \(timeout)")
            }
            try? await Task.sleep(for: .milliseconds(100))
        }
    }

    private func failure(_ node: ClusterRunState.NodeProcess, _ what: String) -> ClusterError {
        let tail = Self.tail(of: node.log, lines: 15)
        return ClusterError("node \(node.id) \(what); the cluster was stopped again. Last lines of \(node.log):\n"
                            + (tail.isEmpty ? "  (empty)" : tail.map { "  " + $0 }.joined(separator: "\n")))
    }

    /// Undoes a partial start.
    private func abandon(_ state: ClusterRunState) async {
        _ = await Self.stop(state, grace: .seconds(5))
        ClusterRunState.remove(from: directory)
    }

    /// Tier by tier in reverse start order; the nodes of one tier in parallel.
    static func stop(_ state: ClusterRunState, grace: Duration) async -> [(node: ClusterRunState.NodeProcess, stop: DetachedProcess.Stop)] {
        var results: [(node: ClusterRunState.NodeProcess, stop: DetachedProcess.Stop)] = []
        for tier in startOrder.reversed() {
            let nodes = state.nodes.filter { $0.tier == tier }
            let stops = await withTaskGroup(of: (Int, DetachedProcess.Stop).self) { tasks in
                for (index, node) in nodes.enumerated() {
                    tasks.addTask {
                        // A pid that is no longer our node is never signalled.
                        guard ClusterRunState.isAlive(node) else {
                            _ = DetachedProcess.exitStatus(node.pid)
                            return (index, .alreadyStopped)
                        }
                        return (index, await DetachedProcess.stop(node.pid, grace: grace))
                    }
                }
                var stops = [DetachedProcess.Stop](repeating: .alreadyStopped, count: nodes.count)
                for await (index, stop) in tasks { stops[index] = stop }
                return stops
            }
            results += zip(nodes, stops).map { (node: $0, stop: $1) }
        }
        if let witness = state.witness {
            let stop = ClusterRunState.isAlive(witness) ? await DetachedProcess.stop(witness.pid, grace: grace) : .alreadyStopped
            results.append((witness, stop))
        }
        return results
    }

    static func tail(of path: String, lines: Int) -> [String] {
        guard let data = FileManager.default.contents(atPath: path) else { return [] }
        return String(decoding: data, as: UTF8.self).split(separator: "\n", omittingEmptySubsequences: true)
            .suffix(lines).map(String.init)
    }

    static func describe(exitStatus status: Int32) -> String {
        let signal = status & 0x7f
        return signal == 0 ? "exit status \((status >> 8) & 0xff)" : "killed by signal \(signal)"
    }
}
