import ArgumentParser
import Foundation
import Logging
import ServiceLifecycle
import SluiceServer

struct NodeCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "node",
        abstract: "Run a server node: one app, the binary protocol on --listen. SIGTERM shuts it down gracefully."
    )

    @Option(help: "The Siddhi app (.siddhi) the node runs.") var app: String
    @Option(help: "HOST:PORT to listen on.") var listen: String = "127.0.0.1:7701"
    @Option(help: "The node's id in logs and status.") var id: String = "node"
    @Option(help: "A token clients must present.") var token: String?
    @Option(help: "Batches a producer may have in flight.") var credit: Int = 32

    func run() async throws {
        LoggingSystem.bootstrap { label in
            var handler = StreamLogHandler.standardError(label: label)
            handler.logLevel = .info
            return handler
        }
        let logger = Logger(label: "sluice.node")
        guard let colon = listen.lastIndex(of: ":"), let port = Int(listen[listen.index(after: colon)...]) else {
            fail("--listen must be HOST:PORT, got '\(listen)'")
        }
        let host = String(listen[..<colon])
        let source = readApp(app)
        let node: Node
        do {
            node = try Node(configuration: NodeConfiguration(nodeID: id, host: host, port: port, appSource: source,
                                                             authToken: token, credit: credit), logger: logger)
        } catch {
            fail(error, file: app)
        }
        let group = ServiceGroup(services: [node], gracefulShutdownSignals: [.sigterm, .sigint], logger: logger)
        try await group.run()
    }
}
