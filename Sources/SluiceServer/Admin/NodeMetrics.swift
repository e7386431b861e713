import NIOConcurrencyHelpers
import Prometheus

/// The node's Prometheus metrics, brought up to date from `NodeStatus` at each scrape.
/// Its own registry: a library must not touch the process-wide `MetricsSystem`.
final class NodeMetrics: Sendable {
    private let registry = PrometheusCollectorRegistry()
    private let eventsIn: Counter
    private let eventsOut: Counter
    private let batchesIn: Counter
    private let connections: Gauge
    /// Totals already added to the counters; a scrape adds only the difference.
    private let seen = NIOLockedValueBox((eventsIn: 0, eventsOut: 0, batchesIn: 0))

    init(nodeID: String, app: String) {
        let labels = [("node", nodeID), ("app", app)]
        eventsIn = registry.makeCounter(name: "sluice_events_in_total", labels: labels,
                                        help: "Events the engine has applied.")
        eventsOut = registry.makeCounter(name: "sluice_events_out_total", labels: labels,
                                         help: "Events the app's queries have emitted.")
        batchesIn = registry.makeCounter(name: "sluice_batches_in_total", labels: labels,
                                         help: "Event batches the engine has applied.")
        connections = registry.makeGauge(name: "sluice_connections", labels: labels,
                                         help: "Open client connections (producers and subscribers).")
    }

    /// The exposition text for `status`.
    func render(_ status: NodeStatus) -> String {
        // One lock around update and emit, so concurrent scrapes never double-count.
        seen.withLockedValue { seen in
            eventsIn.increment(by: Int64(max(0, status.eventsIn - seen.eventsIn)))
            eventsOut.increment(by: Int64(max(0, status.eventsOut - seen.eventsOut)))
            batchesIn.increment(by: Int64(max(0, status.batchesIn - seen.batchesIn)))
            seen = (max(seen.eventsIn, status.eventsIn), max(seen.eventsOut, status.eventsOut),
                    max(seen.batchesIn, status.batchesIn))
            connections.set(Int64(status.connections))
            return registry.emitToString()
        }
    }
}
