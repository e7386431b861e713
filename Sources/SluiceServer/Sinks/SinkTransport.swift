import SluiceCore
import SluiceWire

/// Carries chunks to the members of destinations.
protocol SinkTransport: Sendable {
    /// Chunks one destination may have out at once. Above 1 only for a transport that delivers
    /// them in the order `start` was called (one binary connection does; concurrent HTTP posts do not).
    var maxInFlight: Int { get }
    /// Starts sending one chunk and calls `completion` once with nil (taken) or the error.
    /// `DistributedSink` calls it in chunk order under its lock, so it must not block.
    /// `origin` names an HA group's output (see `SinkChunk`); a transport that cannot carry it
    /// delivers at least once.
    func start(_ batch: EventBatch, origin: OutputOrigin?, destination: Int, member: Int,
               completion: @escaping @Sendable (SinkSendError?) -> Void)
    func shutdown() async
}

/// Why a send failed. Not `retryable` when the destination refused the events themselves.
struct SinkSendError: Error, Sendable, CustomStringConvertible {
    var retryable: Bool
    var description: String
}
