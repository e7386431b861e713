import ArgumentParser
import Foundation
import SluiceServer

struct ClusterCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "cluster",
        abstract: "Start or stop a whole topology (topology.yaml) as node processes on this machine.",
        subcommands: [ClusterUp.self, ClusterDown.self]
    )
}

struct ClusterUp: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "up",
        abstract: "Start every node of a topology, wait until all are healthy, and print where each listens.",
        discussion: """
        Each node runs as `sluice node --config DIR/<node>/node.yaml` in its own session, so it keeps running \
        after this command returns; its output goes to DIR/<node>/node.log. DIR/cluster.json records the \
        processes for `sluice cluster down`.
        """
    )

    @Argument(help: "The topology (topology.yaml).") var topology: String
    @Option(help: "The run directory (default .sluice/<topology name>).") var dir: String?
    @Option(help: "Seconds to wait for every node's GET /health.") var timeout: Int = 30

    func run() async throws {
        let loaded = loadTopology(topology)
        let cluster = LocalCluster(topology: loaded, topologyFile: absolutePath(topology),
                                   directory: runDirectory(dir, topology: loaded), executable: currentExecutable())
        let state: ClusterRunState
        do {
            state = try await cluster.up(healthTimeout: .seconds(timeout)) { note in printError(note) }
        } catch {
            fail(error.description)
        }
        let rows = state.nodes.map { node in
            [node.id, node.tier.rawValue, node.group ?? "-", node.listen, node.admin, String(node.pid), relative(node.log)]
        }
        print(TextTable.render(header: ["NODE", "TIER", "GROUP", "LISTEN", "ADMIN", "PID", "LOG"], rows: rows))
        print("cluster '\(state.name)': \(state.nodes.count) nodes healthy; stop with "
              + "`sluice cluster down --dir \(relative(cluster.directory))`")
    }
}

struct ClusterDown: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "down",
        abstract: "Stop the nodes `sluice cluster up` started (SIGTERM, then SIGKILL after the grace period).",
        discussion: "Give the topology (its run directory is .sluice/<name>) or --dir. The logs stay."
    )

    @Argument(help: "The topology (topology.yaml).") var topology: String?
    @Option(help: "The run directory.") var dir: String?
    @Option(help: "Seconds a node has to stop after SIGTERM before SIGKILL.") var grace: Int = 10

    func validate() throws {
        if topology == nil, dir == nil { throw ValidationError("give the topology.yaml, or --dir DIR") }
    }

    func run() async throws {
        let directory = dir.map(absolutePath) ?? runDirectory(nil, topology: loadTopology(topology!))
        let results: [(node: ClusterRunState.NodeProcess, stop: DetachedProcess.Stop)]?
        do {
            results = try await LocalCluster.down(directory: directory, grace: .seconds(grace))
        } catch {
            fail("\(error)")
        }
        guard let results else {
            print("nothing to stop: no \(ClusterRunState.fileName) in \(relative(directory))")
            return
        }
        for (node, stop) in results {
            let how = switch stop {
            case .alreadyStopped: "was not running"
            case .terminated: "stopped"
            case .killed: "killed (did not stop within \(grace)s of SIGTERM)"
            }
            print("\(node.id) (pid \(node.pid)): \(how)")
        }
    }
}

func loadTopology(_ path: String) -> Topology {
    do {
        return try Topology.load(path: path)
    } catch {
        FileHandle.standardError.write(Data((error.description + "\n").utf8))
        Foundation.exit(1)
    }
}

func runDirectory(_ option: String?, topology: Topology) -> String {
    option.map(absolutePath) ?? LocalCluster.defaultDirectory(for: topology.name)
}

func printError(_ line: String) {
    FileHandle.standardError.write(Data((line + "\n").utf8))
}

/// This binary, so the nodes run the same build as the command that starts them.
func currentExecutable() -> String {
    #if os(Linux)
    if let path = try? FileManager.default.destinationOfSymbolicLink(atPath: "/proc/self/exe") { return path }
    #endif
    return Bundle.main.executablePath ?? absolutePath(CommandLine.arguments[0])
}

/// `path` relative to the current directory when it lies under it: shorter table cells.
func relative(_ path: String) -> String {
    let here = FileManager.default.currentDirectoryPath + "/"
    return path.hasPrefix(here) ? String(path.dropFirst(here.count)) : path
}

func absolutePath(_ path: String) -> String {
    let joined = path.hasPrefix("/") ? path : FileManager.default.currentDirectoryPath + "/" + path
    return (joined as NSString).standardizingPath
}
