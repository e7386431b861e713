import NIOConcurrencyHelpers
import SluiceClient
import SluiceCore
import SluiceRuntime

/// Sends chunks over the binary protocol through the SDK's `Producer`, one per member.
/// A member that refuses the connection, or does not acknowledge within `ackTimeout`, fails the
/// send; its producer is closed and made anew on the next try, so the state machine decides
/// where the chunk goes next.
final class TcpSinkTransport: SinkTransport {
    struct Target: Sendable, Equatable {
        var endpoint: Endpoint
        var stream: String
    }

    let targets: [[Target]]
    let schema: StreamSchema
    private let ackTimeout: Duration
    private let producers = NIOLockedValueBox<[Int: Producer]>([:])

    init(targets: [[Target]], schema: StreamSchema, ackTimeout: Duration = .seconds(5)) {
        self.targets = targets
        self.schema = schema
        self.ackTimeout = ackTimeout
    }

    func send(_ batch: EventBatch, destination: Int, member: Int) async throws(SinkSendError) {
        let target = targets[destination][member]
        let key = destination << 16 | member
        let producer: Producer
        do {
            producer = try producers.withLockedValue { producers throws(ClientError) in
                if let p = producers[key] { return p }
                let p = try Producer(endpoints: [target.endpoint],
                                     streams: [EventSchema(name: target.stream, attributes: schema.attributes.map { .init($0.name, $0.type) })],
                                     clientName: "sluice-sink")
                producers[key] = p
                return p
            }
        } catch {
            throw SinkSendError(retryable: false, description: "tcp sink to \(target.endpoint): \(error)")
        }
        let timeout = ackTimeout
        do {
            try await producer.connect()
            let acknowledged = try await withThrowingTaskGroup(of: Bool.self) { group in
                group.addTask { try await producer.send(stream: target.stream, batch: batch); return true }
                group.addTask { try? await Task.sleep(for: timeout); return false }
                let first = try await group.next() ?? false
                if !first { await producer.close() }   // fails the send still waiting, so the group can end
                group.cancelAll()
                return first
            }
            if !acknowledged { throw SinkSendError(retryable: true, description: "no acknowledgement within \(timeout)") }
        } catch {
            producers.withLockedValue { _ = $0.removeValue(forKey: key) }
            await producer.close()
            throw SinkSendError(retryable: true, description: "tcp sink to \(target.endpoint)/\(target.stream): \(error)")
        }
    }

    func shutdown() async {
        let all = producers.withLockedValue { p in defer { p = [:] }; return Array(p.values) }
        for p in all { await p.close() }
    }
}
