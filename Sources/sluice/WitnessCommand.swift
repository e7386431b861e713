import ArgumentParser
import Foundation
import Logging
import ServiceLifecycle
import SluiceCore
import SluiceServer

struct WitnessCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "witness",
        abstract: "Run an HA witness: the third voter of any number of two-node groups. It holds no data.",
        discussion: """
        Data nodes name it in their config (cluster.witness: HOST:PORT). It keeps, per group, the term, its vote \
        and the furthest log position a leader confirmed with it, in --data-dir, written before it answers. \
        Use the groups' heartbeat settings, so that it judges a leader alive the same way they do.
        """
    )

    @Option(help: "HOST:PORT to listen on.") var listen: String
    @Option(help: "Where the witness keeps its per-group state.") var dataDir: String
    @Option(help: "A token data nodes must present.") var token: String?
    @Option(help: "The groups' heartbeat interval in milliseconds.") var heartbeatInterval: Int = 100
    @Option(help: "The groups' heartbeatMaxRetry.") var heartbeatMaxRetry: Int = 3

    func run() async throws {
        LoggingSystem.bootstrap { label in
            var handler = StreamLogHandler.standardError(label: label)
            handler.logLevel = .info
            return handler
        }
        guard let address = HostPort(listen, allowingPortZero: true) else { fail("--listen must be HOST:PORT, got '\(listen)'") }
        guard heartbeatInterval > 0, heartbeatMaxRetry > 0 else { fail("--heartbeat-interval and --heartbeat-max-retry must be positive") }
        let logger = Logger(label: "sluice.witness")
        let witness = try WitnessServer(configuration: .init(
            listen: address, dataDirectory: dataDir, authToken: token,
            failureTimeout: .milliseconds(heartbeatInterval * heartbeatMaxRetry)), logger: logger)
        let group = ServiceGroup(services: [witness], gracefulShutdownSignals: [.sigterm, .sigint], logger: logger)
        try await group.run()
    }
}
