import SluiceCore
import SluiceTransport
import SluiceWire

/// The subscriber's side of docs/protocol.md ("Subscribing") as a value:
///
///     client                         node
///     Hello(role subscriber)   ->
///                              <-    Welcome (no streams)
///     Subscribe(stream, credit) ->
///                              <-    Welcome (one StreamBinding: the stream's id and schema)
///                              <-    EventBatch … (one credit each)
///     Credit(n)                ->    as batches are consumed
///
/// It takes events (the channel came up, a frame arrived, the consumer asked for the next
/// batch) and returns actions. Received batches wait in a buffer that the node's credit bounds;
/// the credit of a batch goes back once the consumer has taken it, in grants of
/// `max(1, credit / 4)` so that a fast consumer does not cost a frame per batch.
public struct SubscriberStateMachine: Sendable {
    public struct Configuration: Sendable {
        public var endpoint: String
        public var stream: String
        public var includeExpired: Bool
        public var credit: Int
        public var authToken: String?
        public var clientName: String
        public var limits: WireLimits
        /// Where a previous subscription to the same HA group stopped: the node resends what it
        /// retained after it, and anything at or before it, or from an older term, is dropped.
        public var resumeAfter: OutputIdentity?

        public init(endpoint: String, stream: String, includeExpired: Bool = false, credit: Int = 64,
                    authToken: String? = nil, clientName: String = "sluice-subscriber", limits: WireLimits = .default,
                    resumeAfter: OutputIdentity? = nil) {
            self.resumeAfter = resumeAfter
            self.endpoint = endpoint
            self.stream = stream
            self.includeExpired = includeExpired
            self.credit = max(1, min(credit, Int(UInt32.max)))
            self.authToken = authToken
            self.clientName = clientName
            self.limits = limits
        }

        /// Consumed batches per Credit frame.
        public var grant: Int { max(1, credit / 4) }
    }

    public enum Action: Sendable {
        case connect
        case write(Frame)
        case close
        /// The node bound the stream: `connect()` callers learn its schema.
        case bound(EventSchema)
        /// The waiting consumer gets this batch.
        case deliver(EventBatch)
        /// The waiting consumer gets the end of the sequence (nil) or an error.
        case finish(ClientError?)
        /// The subscription is over (an error, or `.closed`); `connect()` callers fail with it.
        case terminated(ClientError)
    }

    enum State: Sendable {
        case idle
        case connecting
        case awaitingWelcome
        /// Subscribe is sent; `early` is a binding the first Welcome already carried.
        case awaitingBinding(early: Sluice_V1_StreamBinding?)
        case streaming(schema: EventSchema, types: [AttributeType], streamID: UInt32)
        /// Over: `error` is reported to the consumer once the buffer is drained, then nil.
        case done(error: ClientError?)
    }

    public let configuration: Configuration
    private(set) var state: State = .idle
    private var buffer: [EventBatch] = []
    private var bufferHead = 0
    private var consumerWaiting = false
    /// Batches the node may still send before it needs more credit.
    private(set) var available = 0
    private var consumedSinceGrant = 0
    private var decoder: BatchDecoder
    public private(set) var receivedBatches = 0
    public private(set) var receivedEvents = 0
    /// The newest HA output accepted: the next subscription resumes after it.
    public private(set) var position: OutputIdentity?
    /// HA output batches dropped as already received, or as sent by a deposed leader.
    public private(set) var droppedRepeats = 0

    public init(configuration: Configuration) {
        self.configuration = configuration
        decoder = BatchDecoder(limits: configuration.limits)
        position = configuration.resumeAfter
    }

    public var buffered: Int { buffer.count - bufferHead }

    public var schema: EventSchema? {
        if case .streaming(let schema, _, _) = state { return schema }
        return nil
    }

    public var isDone: Bool {
        if case .done = state { return true }
        return false
    }

    // MARK: Events

    public mutating func start() -> [Action] {
        guard case .idle = state else { return [] }
        state = .connecting
        return [.connect]
    }

    public mutating func channelActive() -> [Action] {
        guard case .connecting = state else { return [] }
        state = .awaitingWelcome
        var hello = Sluice_V1_Hello()
        hello.protocolVersion = ControlMessage.protocolVersion
        hello.role = .subscriber
        hello.authToken = configuration.authToken ?? ""
        hello.clientName = configuration.clientName
        return [.write(ControlMessage.hello(hello))]
    }

    public mutating func channelInactive(reason: String? = nil) -> [Action] {
        switch state {
        case .done, .idle:
            return []
        default:
            return end(ClientError(.connectionFailed, reason ?? "\(configuration.endpoint) closed the subscription to '\(configuration.stream)'"),
                       close: false)
        }
    }

    public mutating func received(_ frame: Frame) -> [Action] {
        switch state {
        case .idle, .connecting, .done: return []
        default: break
        }
        do throws(ClientError) {
            return try receive(frame)
        } catch {
            return end(error, close: true)
        }
    }

    private mutating func receive(_ frame: Frame) throws(ClientError) -> [Action] {
        let name = configuration.endpoint
        if frame.kind == .error {
            throw ClientError.fromWire(try decode(Sluice_V1_Error.self, frame), endpoint: name)
        }
        switch state {
        case .awaitingWelcome:
            guard frame.kind == .welcome else {
                throw ClientError(.protocolError, "\(name) sent \(frame.kind) before Welcome")
            }
            let welcome = try decode(Sluice_V1_Welcome.self, frame)
            guard welcome.protocolVersion == ControlMessage.protocolVersion else {
                throw ClientError(.protocolError, "\(name) speaks protocol version \(welcome.protocolVersion), this client \(ControlMessage.protocolVersion)")
            }
            state = .awaitingBinding(early: welcome.streams.first { $0.schema.name == configuration.stream })
            var subscribe = Sluice_V1_Subscribe()
            subscribe.stream = configuration.stream
            subscribe.initialCredit = UInt32(configuration.credit)
            subscribe.includeExpired = configuration.includeExpired
            subscribe.resumeAfter = configuration.resumeAfter?.sequence ?? 0
            available = configuration.credit
            return [.write(ControlMessage.subscribe(subscribe))]

        case .awaitingBinding(let early):
            switch frame.kind {
            case .welcome:
                let welcome = try decode(Sluice_V1_Welcome.self, frame)
                guard let binding = welcome.streams.first(where: { $0.schema.name == configuration.stream }) else {
                    throw ClientError(.schemaMismatch, "\(name) did not bind stream '\(configuration.stream)'")
                }
                return try bind(binding)
            case .eventBatch:
                // A node that bound the stream in its only Welcome goes straight to batches.
                guard let early else { throw ClientError(.protocolError, "\(name) sent a batch before binding '\(configuration.stream)'") }
                var actions = try bind(early)
                actions += try batch(frame)
                return actions
            default:
                throw ClientError(.protocolError, "\(name) sent an unexpected \(frame.kind) frame to a subscriber")
            }

        case .streaming:
            guard frame.kind == .eventBatch else {
                throw ClientError(.protocolError, "\(name) sent an unexpected \(frame.kind) frame to a subscriber")
            }
            return try batch(frame)

        case .idle, .connecting, .done:
            return []
        }
    }

    private mutating func bind(_ binding: Sluice_V1_StreamBinding) throws(ClientError) -> [Action] {
        guard let schema = EventSchema(wire: binding.schema) else {
            throw ClientError(.schemaMismatch, "\(configuration.endpoint) bound '\(configuration.stream)' with an attribute type this client does not know")
        }
        state = .streaming(schema: schema, types: schema.types, streamID: binding.streamID)
        return [.bound(schema)]
    }

    private mutating func batch(_ frame: Frame) throws(ClientError) -> [Action] {
        guard case .streaming(_, let types, let streamID) = state else { return [] }
        guard available > 0 else {
            throw ClientError(.protocolError, "\(configuration.endpoint) sent a batch beyond the subscriber's credit")
        }
        let decoded: (header: BatchHeader, batch: EventBatch)
        do {
            decoded = try decoder.decode(frame.payload, schema: types)
        } catch {
            throw ClientError(.protocolError, "\(configuration.endpoint) sent a batch of '\(configuration.stream)' that does not decode: \(error)")
        }
        guard decoded.header.streamID == streamID else {
            throw ClientError(.protocolError, "\(configuration.endpoint) sent a batch for stream id \(decoded.header.streamID), not \(streamID)")
        }
        available -= 1
        if !decoded.header.outputGroup.isEmpty {
            let stamp = OutputIdentity(group: decoded.header.outputGroup, term: decoded.header.outputTerm, sequence: decoded.header.sequence)
            if let known = position, known.group == stamp.group, stamp.term < known.term || stamp.sequence <= known.sequence {
                // A repeat after a failover, or a deposed leader's output: its credit still comes back.
                droppedRepeats += 1
                var actions: [Action] = []
                consumed(into: &actions)
                return actions
            }
            position = stamp
        }
        receivedBatches += 1
        receivedEvents += decoded.batch.count
        if consumerWaiting {
            consumerWaiting = false
            var actions: [Action] = [.deliver(decoded.batch)]
            consumed(into: &actions)
            return actions
        }
        buffer.append(decoded.batch)
        return []
    }

    private func decode<M: WireMessage>(_ type: M.Type, _ frame: Frame) throws(ClientError) -> M {
        do {
            return try frame.message(as: M.self)
        } catch {
            throw ClientError(.protocolError, "\(configuration.endpoint): \(error)")
        }
    }

    /// The consumer asks for the next batch; it gets one now, or when one arrives, or the end.
    public mutating func demand() -> [Action] {
        precondition(!consumerWaiting, "a subscriber has one consumer at a time")
        if bufferHead < buffer.count {
            let batch = buffer[bufferHead]
            bufferHead += 1
            if bufferHead == buffer.count {
                buffer.removeAll(keepingCapacity: true)
                bufferHead = 0
            }
            var actions: [Action] = [.deliver(batch)]
            consumed(into: &actions)
            return actions
        }
        if case .done(let error) = state {
            state = .done(error: nil)
            return [.finish(error)]
        }
        consumerWaiting = true
        return start()
    }

    /// Ends the subscription: the consumer gets the end of the sequence.
    public mutating func close() -> [Action] {
        if case .done = state {
            buffer = []
            bufferHead = 0
            return []
        }
        let wasIdle = if case .idle = state { true } else { false }
        var actions = end(ClientError(.closed, "the subscriber was closed"), close: !wasIdle)
        // Closing is not an error for the consumer: drop what is buffered and end the sequence.
        buffer = []
        bufferHead = 0
        state = .done(error: nil)
        actions = actions.map { if case .finish = $0 { .finish(nil) } else { $0 } }
        return actions
    }

    private mutating func consumed(into actions: inout [Action]) {
        guard case .streaming = state else { return }
        consumedSinceGrant += 1
        guard consumedSinceGrant >= configuration.grant else { return }
        actions.append(.write(ControlMessage.credit(UInt32(consumedSinceGrant))))
        available += consumedSinceGrant
        consumedSinceGrant = 0
    }

    private mutating func end(_ error: ClientError, close: Bool) -> [Action] {
        state = .done(error: error)
        var actions: [Action] = close ? [.close] : []
        actions.append(.terminated(error))
        if consumerWaiting {
            consumerWaiting = false
            state = .done(error: nil)
            actions.append(.finish(error))
        }
        return actions
    }
}
