import NIOConcurrencyHelpers
import Prometheus

/// The node's Prometheus metrics, brought up to date from `NodeStatus` at each scrape.
/// Its own registry: a library must not touch the process-wide `MetricsSystem`.
final class NodeMetrics: Sendable {
    private let registry = PrometheusCollectorRegistry()
    private let eventsIn: Counter
    private let eventsOut: Counter
    private let batchesIn: Counter
    private let storeWriteFailures: Counter
    private let connections: Gauge
    private let haTerm: Gauge
    private let haLeader: Gauge
    private let haDegraded: Gauge
    private let haFollowerLag: Gauge
    private let haCommitIndex: Gauge
    private let haElectionsWon: Gauge
    private let haLastLeadChange: Gauge
    /// Totals already added to the counters; a scrape adds only the difference.
    private let seen = NIOLockedValueBox((eventsIn: 0, eventsOut: 0, batchesIn: 0, storeWriteFailures: 0))

    init(nodeID: String, app: String) {
        let labels = [("node", nodeID), ("app", app)]
        eventsIn = registry.makeCounter(name: "sluice_events_in_total", labels: labels,
                                        help: "Events the engine has applied.")
        eventsOut = registry.makeCounter(name: "sluice_events_out_total", labels: labels,
                                         help: "Events the app's queries have emitted.")
        batchesIn = registry.makeCounter(name: "sluice_batches_in_total", labels: labels,
                                         help: "Event batches the engine has applied.")
        storeWriteFailures = registry.makeCounter(name: "sluice_store_write_failures_total", labels: labels,
                                                  help: "Writes to @store tables that their database refused (retried ones included).")
        connections = registry.makeGauge(name: "sluice_connections", labels: labels,
                                         help: "Open client connections (producers and subscribers).")
        haTerm = registry.makeGauge(name: "sluice_ha_term", labels: labels, help: "HA: the group's current term as this node knows it.")
        haLeader = registry.makeGauge(name: "sluice_ha_leader", labels: labels, help: "HA: 1 while this node leads its group.")
        haDegraded = registry.makeGauge(name: "sluice_ha_degraded", labels: labels,
                                        help: "HA: 1 while this node leads without its follower (on the witness's vote).")
        haFollowerLag = registry.makeGauge(name: "sluice_ha_follower_lag_entries", labels: labels,
                                           help: "HA leader: log entries the follower does not hold yet.")
        haCommitIndex = registry.makeGauge(name: "sluice_ha_commit_index", labels: labels, help: "HA: the last committed log index.")
        haElectionsWon = registry.makeGauge(name: "sluice_ha_elections_won", labels: labels,
                                            help: "HA: times this node took the lead since it started.")
        haLastLeadChange = registry.makeGauge(name: "sluice_ha_last_leadership_change_timestamp_seconds", labels: labels,
                                              help: "HA: when this node last took or left the lead (Unix time; 0: never).")
    }

    /// The exposition text for `status`.
    func render(_ status: NodeStatus) -> String {
        // One lock around update and emit, so concurrent scrapes never double-count.
        seen.withLockedValue { seen in
            eventsIn.increment(by: Int64(max(0, status.eventsIn - seen.eventsIn)))
            eventsOut.increment(by: Int64(max(0, status.eventsOut - seen.eventsOut)))
            batchesIn.increment(by: Int64(max(0, status.batchesIn - seen.batchesIn)))
            let failures = status.storeWriteFailures ?? 0
            storeWriteFailures.increment(by: Int64(max(0, failures - seen.storeWriteFailures)))
            seen = (max(seen.eventsIn, status.eventsIn), max(seen.eventsOut, status.eventsOut),
                    max(seen.batchesIn, status.batchesIn), max(seen.storeWriteFailures, failures))
            connections.set(Int64(status.connections))
            if let ha = status.ha {
                haTerm.set(Int64(clamping: ha.term))
                haLeader.set(Int64(ha.role.hasPrefix("leader") ? 1 : 0))
                haDegraded.set(Int64(ha.degraded ? 1 : 0))
                haFollowerLag.set(Int64(clamping: ha.followerLag ?? 0))
                haCommitIndex.set(Int64(clamping: ha.commitIndex))
                haElectionsWon.set(Int64(ha.electionsWon))
                haLastLeadChange.set(ha.lastLeadChangeUnixSeconds ?? 0)
            }
            return registry.emitToString()
        }
    }
}
