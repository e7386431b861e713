import SluiceCore
import ArgumentParser
import Foundation
import SluiceServer

struct StatusCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "status",
        abstract: "Show the cluster as a table: role, tier, group, term/leader, events in/out per second, lag, health.",
        discussion: """
        Samples every node's admin GET /status twice, --interval apart, and differences the counters. \
        LAG is the commands (batches, ticks) a node has taken but not yet applied. Until HA groups elect \
        leaders, a group's leader is its first healthy member and TERM is '-'.
        """
    )

    @Option(help: "The topology (topology.yaml): ask each of its nodes.") var topology: String?
    @Option(name: .customLong("node"), help: "An admin address HOST:PORT to ask (repeatable).") var nodes: [String] = []
    @Option(help: "Time between the two samples: 1s, 500ms, or seconds.") var interval: String = "1s"
    @Flag(help: "Print JSON for scripts instead of the table.") var json = false

    func validate() throws {
        if topology == nil, nodes.isEmpty { throw ValidationError("give --topology topology.yaml, or --node HOST:PORT") }
        if Self.seconds(interval) == nil { throw ValidationError("--interval must be like 1s, 500ms or 2, got '\(interval)'") }
    }

    func run() async throws {
        var targets: [ClusterStatus.Target] = []
        if let topology {
            targets = loadTopology(topology).nodes.map {
                ClusterStatus.Target(id: $0.id, admin: $0.admin, tier: $0.tier.rawValue, group: $0.group)
            }
        }
        for text in nodes {
            guard let address = HostPort(text) else { fail("--node must be an admin HOST:PORT, got '\(text)'") }
            targets.append(.init(admin: address))
        }
        let client = AdminClient(timeout: .seconds(2))
        let seconds = Self.seconds(interval)!
        let started = ContinuousClock.now
        let first = await ClusterStatus.sample(targets, client: client)
        try await Task.sleep(for: .milliseconds(Int(seconds * 1000)))
        let second = await ClusterStatus.sample(targets, client: client)
        // The measured span, not the nominal one: sampling itself takes time.
        let elapsed = ContinuousClock.now - started
        let span = Double(elapsed.components.seconds) + Double(elapsed.components.attoseconds) / 1e18
        let rows = ClusterStatus.rows(targets, first: first, second: second, seconds: max(seconds, span))
        print(json ? try ClusterStatus.json(rows, seconds: seconds) : ClusterStatus.table(rows))
    }

    static func seconds(_ text: String) -> Double? {
        let value: Double?
        if text.hasSuffix("ms") { value = Double(text.dropLast(2)).map { $0 / 1000 } }
        else if text.hasSuffix("s") { value = Double(text.dropLast()) }
        else { value = Double(text) }
        guard let value, value > 0, value <= 600 else { return nil }
        return value
    }
}
