import NIOCore
import NIOPosix
import SluiceCore
import SluiceWire

/// Follows one output stream of an HA group across failovers. It subscribes to whichever member
/// leads (followers refuse subscribers), and when that connection ends it tries the members in
/// turn, resuming after the last output it received: the new leader resends what it retained
/// after that point, and repeats or a deposed leader's batches are dropped, so the sequence has
/// every output once, in order.
///
///     let outputs = FollowingSubscriber(endpoints: [a, b], stream: "TenantStats")
///     for try await batch in outputs { … }
public final class FollowingSubscriber: AsyncSequence, Sendable {
    public typealias Element = EventBatch

    public let endpoints: [Endpoint]
    public let stream: String
    private let state: State

    /// - Parameter giveUpAfter: how long no member may accept the subscription before the
    ///   sequence ends with an error.
    public init(endpoints: [Endpoint], stream: String, includeExpired: Bool = false, credit: Int = 64, authToken: String? = nil,
                clientName: String = "sluice-subscriber", giveUpAfter: Duration = .seconds(30)) {
        precondition(!endpoints.isEmpty, "a following subscriber needs at least one endpoint")
        self.endpoints = endpoints
        self.stream = stream
        state = State(endpoints: endpoints, stream: stream, includeExpired: includeExpired, credit: credit,
                      authToken: authToken, clientName: clientName, giveUpAfter: giveUpAfter)
    }

    public func makeAsyncIterator() -> Iterator { Iterator(state: state) }

    /// Ends the sequence.
    public func close() async { await state.close() }

    /// The last output received, and how many times the subscription moved to another member.
    public var position: OutputIdentity? { get async { await state.position } }
    public var switches: Int { get async { await state.switches } }

    public struct Iterator: AsyncIteratorProtocol {
        let state: State
        public mutating func next() async throws -> EventBatch? { try await state.next() }
    }

    actor State {
        let endpoints: [Endpoint]
        let stream: String
        let includeExpired: Bool
        let credit: Int
        let authToken: String?
        let clientName: String
        let giveUpAfter: Duration
        private var current: (subscriber: Subscriber, iterator: Subscriber.Iterator)?
        private var index = 0
        private(set) var position: OutputIdentity?
        private(set) var switches = 0
        private var closed = false
        private var lastError: (any Error)?

        init(endpoints: [Endpoint], stream: String, includeExpired: Bool, credit: Int, authToken: String?, clientName: String,
             giveUpAfter: Duration) {
            self.endpoints = endpoints
            self.stream = stream
            self.includeExpired = includeExpired
            self.credit = credit
            self.authToken = authToken
            self.clientName = clientName
            self.giveUpAfter = giveUpAfter
        }

        func next() async throws -> EventBatch? {
            let clock = ContinuousClock()
            var downSince: ContinuousClock.Instant?
            var failedInRound = 0
            while !closed {
                do {
                    if current == nil {
                        let subscriber = Subscriber(endpoint: endpoints[index], stream: stream, includeExpired: includeExpired,
                                                    credit: credit, authToken: authToken, clientName: clientName, resumeAfter: position)
                        current = (subscriber, subscriber.makeAsyncIterator())
                        // Subscribed: whatever failed before is over, however long the stream then stays quiet.
                        try await subscriber.connect()
                        downSince = nil
                        failedInRound = 0
                    }
                    var iterator = current!.iterator
                    let batch = try await iterator.next()
                    current?.iterator = iterator
                    guard let batch else { return nil }
                    if let p = await current?.subscriber.position { position = p }
                    return batch
                } catch {
                    // Another member cannot have what this one no longer retains either.
                    if (error as? ClientError)?.code == .outputsNotRetained {
                        await current?.subscriber.close()
                        current = nil
                        throw error
                    }
                    // Refused (a follower) or cut off (the leader died): try the next member.
                    lastError = error
                    if let p = await current?.subscriber.position { position = p }
                    await current?.subscriber.close()
                    current = nil
                    index = (index + 1) % endpoints.count
                    switches += 1
                    failedInRound += 1
                    let now = clock.now
                    if downSince == nil { downSince = now }
                    if now - downSince! > giveUpAfter {
                        throw ClientError(.connectionFailed, "no member of \(endpoints.map(\.description)) accepted '\(stream)' for \(giveUpAfter): \(error)")
                    }
                    // A whole round refused: wait for an election before the next one.
                    if failedInRound >= endpoints.count {
                        failedInRound = 0
                        try? await Task.sleep(for: .milliseconds(50))
                    }
                }
            }
            return nil
        }

        func close() async {
            closed = true
            await current?.subscriber.close()
            current = nil
        }
    }
}
