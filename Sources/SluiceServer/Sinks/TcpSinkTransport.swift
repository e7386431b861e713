import NIOConcurrencyHelpers
import NIOCore
import SluiceClient
import SluiceCore
import SluiceWire
import SluiceRuntime

/// Sends chunks over the binary protocol through the SDK's `Producer`, one per member, several
/// in flight per destination in order. A member that is not connected `ackTimeout` after a send,
/// or connected but silent for `stallLimit`, fails the send.
final class TcpSinkTransport: SinkTransport {
    /// One destination member: a node, or an HA group's members followed as one.
    struct Target: Sendable, Equatable {
        var endpoints: [Endpoint]
        var stream: String
        var name: String { endpoints.map(\.description).joined(separator: ",") }
    }

    let targets: [[Target]]
    let schema: StreamSchema
    private let ackTimeout: Duration
    /// How long a connected destination may go without acknowledging before it counts as failed.
    private let stallLimit: Duration
    private let producers = NIOLockedValueBox<[Int: Producer]>([:])

    init(targets: [[Target]], schema: StreamSchema, ackTimeout: Duration = .seconds(5), stallLimit: Duration = .seconds(60),
         maxInFlight: Int = 16) {
        self.targets = targets
        self.schema = schema
        self.ackTimeout = ackTimeout
        self.stallLimit = stallLimit
        self.maxInFlight = max(1, maxInFlight)
    }

    /// One connection per member keeps batches in order, so a destination may pipeline.
    let maxInFlight: Int

    func start(_ batch: EventBatch, origin: OutputOrigin?, destination: Int, member: Int,
               completion: @escaping @Sendable (SinkSendError?) -> Void) {
        let target = targets[destination][member]
        let key = destination << 16 | member
        let producer: Producer
        do {
            producer = try producers.withLockedValue { producers throws(ClientError) in
                if let p = producers[key] { return p }
                let p = try Producer(endpoints: target.endpoints,
                                     streams: [EventSchema(name: target.stream, attributes: schema.attributes.map { .init($0.name, $0.type) })],
                                     clientName: "sluice-sink", maxInFlight: max(64, 2 * maxInFlight))
                producers[key] = p
                return p
            }
        } catch {
            completion(SinkSendError(retryable: false, description: "tcp sink to \(target.name): \(error)"))
            return
        }
        // The first of the acknowledgement and the timeout completes the send.
        let done = NIOLockedValueBox(false)
        let finish: @Sendable (SinkSendError?) -> Void = { error in
            guard done.withLockedValue({ d in defer { d = true }; return !d }) else { return }
            completion(error)
        }
        let acknowledged = producer.submit(stream: target.stream, batch: batch, origin: origin)
        // A destination that is connected but slow to acknowledge (its own back-pressure) is waited
        // for, up to `stallLimit`: giving up would send the chunk again under a new identity, which
        // the destination could not recognise as a repeat. One that is not connected fails after
        // `ackTimeout`, so the chunk can go elsewhere or wait for a retry.
        let timer = NIOLockedValueBox<Scheduled<Void>?>(nil)
        let name = "\(target.name)/\(target.stream)"
        let ackTimeout = self.ackTimeout, stallLimit = max(self.ackTimeout, self.stallLimit)
        // A group's producer finds the next leader itself and resends under the same identity,
        // which the group deduplicates: it is given the whole `stallLimit` even while unconnected.
        let patient = target.endpoints.count > 1
        @Sendable func arm(waited: Duration) {
            let scheduled = acknowledged.eventLoop.scheduleTask(in: ackTimeout.timeAmount) {
                producer.isConnected().whenComplete { connected in
                    let waitedNow = waited + ackTimeout
                    if patient || (try? connected.get()) == true, waitedNow < stallLimit {
                        arm(waited: waitedNow)
                        return
                    }
                    finish(SinkSendError(retryable: true, description: "tcp sink to \(name): no acknowledgement within \(waitedNow)"))
                    self.discard(producer, key: key)
                }
            }
            timer.withLockedValue { $0 = scheduled }
        }
        arm(waited: .zero)
        acknowledged.whenComplete { result in
            timer.withLockedValue { $0?.cancel() }
            switch result {
            case .success:
                finish(nil)
            case .failure(let error):
                finish(SinkSendError(retryable: true, description: "tcp sink to \(name): \(error)"))
                self.discard(producer, key: key)
            }
        }
    }

    /// A producer that failed is closed and made anew on the next send, so the state machine
    /// decides where the window goes next.
    private func discard(_ producer: Producer, key: Int) {
        producers.withLockedValue { if $0[key] === producer { $0.removeValue(forKey: key) } }
        Task { await producer.close() }
    }

    func shutdown() async {
        let all = producers.withLockedValue { p in defer { p = [:] }; return Array(p.values) }
        for p in all { await p.close() }
    }
}
