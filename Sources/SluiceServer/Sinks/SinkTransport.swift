import SluiceCore

/// Carries one chunk to one member of one destination. `DistributedSink` calls it with at most
/// one chunk in flight per destination.
protocol SinkTransport: Sendable {
    /// Returns once the destination has taken the events; throws `SinkSendError` otherwise.
    func send(_ batch: EventBatch, destination: Int, member: Int) async throws(SinkSendError)
    func shutdown() async
}

/// Why a send failed. Not `retryable` when the destination refused the events themselves.
struct SinkSendError: Error, Sendable, CustomStringConvertible {
    var retryable: Bool
    var description: String
}
