import SluiceCore
import ArgumentParser
import Foundation
import Logging
import ServiceLifecycle
import SluiceServer

struct NodeCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "node",
        abstract: "Run a server node: one app, the binary protocol on its listen address, an optional admin HTTP port.",
        discussion: """
        Either --config node.yaml (the YAML of DESIGN.md), or the quick form: --app APP.siddhi --listen HOST:PORT \
        [--admin HOST:PORT]. SIGTERM or SIGINT shuts the node down gracefully.
        """
    )

    @Option(help: "The node's YAML configuration.") var config: String?
    @Option(help: "The Siddhi app (.siddhi) the node runs (quick form).") var app: String?
    @Option(help: "HOST:PORT to listen on (quick form; default 127.0.0.1:7701).") var listen: String?
    @Option(help: "HOST:PORT for the admin HTTP server: /health, /status, /metrics (quick form).") var admin: String?
    @Option(help: "The node's id in logs and status (quick form; default node).") var id: String?
    @Option(help: "A token clients must present (quick form).") var token: String?
    @Option(help: "Batches a producer may have in flight (quick form; default 32).") var credit: Int?

    func validate() throws {
        if config == nil, app == nil { throw ValidationError("give --config node.yaml, or --app APP.siddhi") }
        guard config != nil else { return }
        let quick = [("--app", app != nil), ("--listen", listen != nil), ("--admin", admin != nil), ("--id", id != nil),
                     ("--token", token != nil), ("--credit", credit != nil)].filter(\.1).map(\.0)
        if !quick.isEmpty {
            throw ValidationError("\(quick.joined(separator: ", ")) \(quick.count == 1 ? "is" : "are") for the quick form; "
                                  + "with --config, set it in the YAML")
        }
    }

    func run() async throws {
        LoggingSystem.bootstrap { label in
            var handler = StreamLogHandler.standardError(label: label)
            handler.logLevel = .info
            return handler
        }
        let logger = Logger(label: "sluice.node")
        let plan = config.map { loadConfig($0, logger: logger) } ?? quickForm()
        let source = readApp(plan.appPath)
        let node: Node
        do {
            node = try Node(configuration: plan.make(source), logger: logger)
        } catch {
            fail(error, file: plan.appPath)
        }
        var services: [any Service] = [node]
        if let admin = plan.admin {
            // After the node: graceful shutdown runs in reverse, so the admin port closes first.
            services.append(AdminServer(node: node, configuration: AdminConfiguration(
                host: admin.host, port: admin.port, listenAddress: plan.listen.description, placement: plan.placement),
                logger: Logger(label: "sluice.admin")))
        }
        let group = ServiceGroup(services: services, gracefulShutdownSignals: [.sigterm, .sigint], logger: logger)
        try await group.run()
    }

    /// What to run, from either form.
    struct Plan {
        var appPath: String
        var listen: HostPort
        var admin: HostPort?
        var placement = NodePlacement()
        var make: (String) -> NodeConfiguration
    }

    func quickForm() -> Plan {
        let listen = listen ?? "127.0.0.1:7701"
        guard let listenAddress = HostPort(listen, allowingPortZero: true) else { fail("--listen must be HOST:PORT, got '\(listen)'") }
        var adminAddress: HostPort?
        if let admin {
            guard let parsed = HostPort(admin, allowingPortZero: true) else { fail("--admin must be HOST:PORT, got '\(admin)'") }
            adminAddress = parsed
        }
        let (id, token, credit) = (id ?? "node", token, credit ?? 32)
        return Plan(appPath: app!, listen: listenAddress, admin: adminAddress) { source in
            NodeConfiguration(nodeID: id, host: listenAddress.host, port: listenAddress.port, appSource: source,
                              authToken: token, credit: credit)
        }
    }

    func loadConfig(_ path: String, logger: Logger) -> Plan {
        let file: NodeConfigFile
        do {
            file = try NodeConfigFile.load(path: path)
        } catch {
            FileHandle.standardError.write(Data((error.description + "\n").utf8))
            Foundation.exit(1)
        }
        return Plan(appPath: file.app, listen: file.node.listen, admin: file.node.admin,
                    placement: NodePlacement(config: file), make: file.nodeConfiguration)
    }
}
