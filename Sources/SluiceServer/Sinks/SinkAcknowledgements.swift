import NIOConcurrencyHelpers

/// The shell of `DeliveryLedger` on a node outside HA groups: the engine thread holds and applies,
/// the sinks settle from their completions, and whoever completes a batch sends its
/// acknowledgements (outside the lock).
final class SinkAcknowledgements: Sendable {
    struct Pending: Sendable {
        let reply: any BatchReply
        let producer: UInt64
        let sequence: UInt64
        let duplicate: Bool
    }

    private let ledger = NIOLockedValueBox(DeliveryLedger<Pending>())

    /// Batches whose acknowledgement still waits for a sink.
    var waiting: Int { ledger.withLockedValue { $0.waiting } }

    func hold(_ root: UInt64, events: Int) {
        ledger.withLockedValue { $0.hold(root, events: events) }
    }

    func settle(_ root: UInt64, events: Int) {
        send(ledger.withLockedValue { $0.settle(root, events: events) })
    }

    func forget(_ root: UInt64) {
        ledger.withLockedValue { $0.forget(root) }
    }

    func applied(_ root: UInt64, _ pending: Pending) {
        send(ledger.withLockedValue { $0.applied(root, ack: pending) })
    }

    private func send(_ due: [Pending]) {
        for p in due { p.reply.applied(producer: p.producer, sequence: p.sequence, duplicate: p.duplicate) }
    }
}
