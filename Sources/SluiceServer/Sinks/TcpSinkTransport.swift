import NIOConcurrencyHelpers
import SluiceClient
import SluiceCore
import SluiceRuntime

/// Sends chunks over the binary protocol through the SDK's `Producer`, one per member, several
/// in flight per destination in order. A member that refuses the connection, or does not
/// acknowledge within `ackTimeout`, fails the send.
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
    private let producers = NIOLockedValueBox<[Int: Producer]>([:])

    init(targets: [[Target]], schema: StreamSchema, ackTimeout: Duration = .seconds(5), maxInFlight: Int = 16) {
        self.targets = targets
        self.schema = schema
        self.ackTimeout = ackTimeout
        self.maxInFlight = max(1, maxInFlight)
    }

    /// One connection per member keeps batches in order, so a destination may pipeline.
    let maxInFlight: Int

    func start(_ batch: EventBatch, destination: Int, member: Int,
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
        let acknowledged = producer.submit(stream: target.stream, batch: batch)
        // A group's producer resends by itself across a failover; giving up on it early would
        // send the batch again under a new identity, which the group could not recognise.
        let timeout = target.endpoints.count > 1 ? max(ackTimeout, .seconds(60)) : ackTimeout
        let timer = acknowledged.eventLoop.scheduleTask(in: timeout.timeAmount) {
            finish(SinkSendError(retryable: true, description: "tcp sink to \(target.name)/\(target.stream): no acknowledgement within \(timeout)"))
            self.discard(producer, key: key)
        }
        acknowledged.whenComplete { result in
            timer.cancel()
            switch result {
            case .success:
                finish(nil)
            case .failure(let error):
                finish(SinkSendError(retryable: true, description: "tcp sink to \(target.name)/\(target.stream): \(error)"))
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
