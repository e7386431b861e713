import NIOCore
import NIOPosix
import SluiceCore
import SluiceTransport
import SluiceWire

/// Receives the batches of one output stream of a node (docs/protocol.md, "Subscribing").
///
///     let subscriber = try Subscriber(endpoint: "127.0.0.1:7070", stream: "Alerts")
///     for try await batch in subscriber { … }        // EventBatch, in the node's order
///     for try await event in subscriber.events { … } // one row at a time
///
/// It connects on `connect()` or on the first `next()`. The node sends at most `credit` batches
/// ahead of the consumer; taking a batch returns its credit, so a slow consumer slows the node
/// rather than growing a buffer. Iterate once: all iterators share one subscription. The
/// sequence ends with an error when the connection fails, and normally after `close()`.
public final class Subscriber: AsyncSequence, Sendable {
    public typealias Element = EventBatch

    public let endpoint: Endpoint
    public let stream: String
    private let loop: any EventLoop
    private let box: NIOLoopBoundBox<SubscriberDriver>

    public init(endpoint: Endpoint, stream: String, includeExpired: Bool = false, credit: Int = 64,
                authToken: String? = nil, clientName: String = "sluice-subscriber", limits: WireLimits = .default,
                resumeAfter: OutputIdentity? = nil, group: any EventLoopGroup = MultiThreadedEventLoopGroup.singleton) {
        self.endpoint = endpoint
        self.stream = stream
        let loop = group.next()
        self.loop = loop
        let configuration = SubscriberStateMachine.Configuration(
            endpoint: endpoint.description, stream: stream, includeExpired: includeExpired, credit: credit,
            authToken: authToken, clientName: clientName, limits: limits, resumeAfter: resumeAfter)
        let driver = SubscriberDriver(loop: loop, endpoint: endpoint, codec: FrameCodec(limits: limits),
                                      machine: SubscriberStateMachine(configuration: configuration))
        box = NIOLoopBoundBox.makeBoxSendingValue(driver, eventLoop: loop)
    }

    /// `endpoint` as `host:port`.
    public convenience init(endpoint: String, stream: String, includeExpired: Bool = false, credit: Int = 64,
                            authToken: String? = nil) throws(ClientError) {
        self.init(endpoint: try Endpoint(parsing: endpoint), stream: stream, includeExpired: includeExpired,
                  credit: credit, authToken: authToken)
    }

    deinit {
        let box = self.box
        loop.execute { box.value.close() }
    }

    /// Connects and subscribes; returns the stream's schema as the node bound it. Throws
    /// `.schemaMismatch` for a stream the node does not have, `.authFailed`, `.connectionFailed`.
    @discardableResult
    public func connect() async throws -> EventSchema {
        let box = self.box
        return try await loop.flatSubmit { box.value.waitUntilBound() }.get()
    }

    /// Ends the subscription; the sequence then ends.
    public func close() async {
        let box = self.box
        try? await loop.submit { box.value.close() }.get()
    }

    /// Batches received and events in them so far.
    public var received: (batches: Int, events: Int) {
        get async {
            let box = self.box
            return (try? await loop.submit { (box.value.machine.receivedBatches, box.value.machine.receivedEvents) }.get()) ?? (0, 0)
        }
    }

    /// The last HA output received (nil off HA groups): where a new subscription resumes.
    public var position: OutputIdentity? {
        get async {
            let box = self.box
            return try? await loop.submit { box.value.machine.position }.get()
        }
    }

    public struct Iterator: AsyncIteratorProtocol, Sendable {
        let subscriber: Subscriber

        public mutating func next() async throws -> EventBatch? {
            let box = subscriber.box
            return try await subscriber.loop.flatSubmit { box.value.next() }.get()
        }
    }

    public func makeAsyncIterator() -> Iterator { Iterator(subscriber: self) }

    /// The rows of the batches, one at a time.
    public var events: Events { Events(subscriber: self) }

    public struct Events: AsyncSequence, Sendable {
        public typealias Element = SubscribedEvent
        let subscriber: Subscriber

        public struct Iterator: AsyncIteratorProtocol {
            var batches: Subscriber.Iterator
            var current: EventBatch?
            var row = 0
            let stream: String

            public mutating func next() async throws -> SubscribedEvent? {
                while true {
                    if let batch = current, row < batch.count {
                        defer { row += 1 }
                        return SubscribedEvent(stream: stream, timestamp: batch.timestamps[row], values: batch.values(at: row),
                                               expired: batch.kinds[row] == .expired)
                    }
                    guard let next = try await batches.next() else { return nil }
                    current = next
                    row = 0
                }
            }
        }

        public func makeAsyncIterator() -> Iterator {
            Iterator(batches: subscriber.makeAsyncIterator(), stream: subscriber.stream)
        }
    }
}

/// One row of a subscribed stream.
public struct SubscribedEvent: Sendable, Hashable {
    public var stream: String
    public var timestamp: Int64
    public var values: [Value]
    /// A row leaving a window (only with `includeExpired`).
    public var expired: Bool

    public init(stream: String, timestamp: Int64, values: [Value], expired: Bool) {
        self.stream = stream
        self.timestamp = timestamp
        self.values = values
        self.expired = expired
    }
}

/// Carries out the subscriber machine's actions on its event loop.
final class SubscriberDriver {
    typealias Action = SubscriberStateMachine.Action

    let loop: any EventLoop
    let endpoint: Endpoint
    let codec: FrameCodec
    var machine: SubscriberStateMachine
    private var channel: (any Channel)?
    private var consumer: EventLoopPromise<EventBatch?>?
    private var boundWaiters: [EventLoopPromise<EventSchema>] = []
    private var ended: ClientError?

    init(loop: any EventLoop, endpoint: Endpoint, codec: FrameCodec, machine: SubscriberStateMachine) {
        self.loop = loop
        self.endpoint = endpoint
        self.codec = codec
        self.machine = machine
    }

    func waitUntilBound() -> EventLoopFuture<EventSchema> {
        if let schema = machine.schema { return loop.makeSucceededFuture(schema) }
        if let ended { return loop.makeFailedFuture(ended) }
        let p = loop.makePromise(of: EventSchema.self)
        boundWaiters.append(p)
        run(machine.start())
        return p.futureResult
    }

    func next() -> EventLoopFuture<EventBatch?> {
        guard consumer == nil else {
            return loop.makeFailedFuture(ClientError(.protocolError, "a subscriber has one consumer at a time"))
        }
        let p = loop.makePromise(of: EventBatch?.self)
        consumer = p
        run(machine.demand())
        return p.futureResult
    }

    func close() {
        run(machine.close())
    }

    func channelActive(_ channel: any Channel) {
        self.channel = channel
        run(machine.channelActive())
    }

    func received(_ frame: Frame) {
        run(machine.received(frame))
    }

    func channelInactive(reason: String?) {
        channel = nil
        run(machine.channelInactive(reason: reason))
    }

    private func run(_ actions: [Action]) {
        var written = false
        for action in actions {
            switch action {
            case .connect:
                connect()
            case .write(let frame):
                channel?.write(frame, promise: nil)
                written = true
            case .close:
                channel?.close(promise: nil)
                channel = nil
            case .bound(let schema):
                let waiters = boundWaiters
                boundWaiters = []
                for w in waiters { w.succeed(schema) }
            case .deliver(let batch):
                let c = consumer
                consumer = nil
                c?.succeed(batch)
            case .finish(let error):
                let c = consumer
                consumer = nil
                if let error { c?.fail(error) } else { c?.succeed(nil) }
            case .terminated(let error):
                ended = error
                let waiters = boundWaiters
                boundWaiters = []
                for w in waiters { w.fail(error) }
            }
        }
        if written { channel?.flush() }
    }

    private func connect() {
        let bound = NIOLoopBound(self, eventLoop: loop)
        let codec = self.codec
        let endpoint = self.endpoint
        FramePipeline.connect(host: endpoint.host, port: endpoint.port, on: loop, codec: codec, timeout: .seconds(5)) { _ in
            SubscriberConnectionHandler(driver: bound.value)
        }
            .assumeIsolated()
            .whenFailure { error in
                self.run(self.machine.channelInactive(reason: "cannot connect to \(endpoint): \(error)"))
            }
    }
}

final class SubscriberConnectionHandler: ChannelInboundHandler {
    typealias InboundIn = Frame

    let driver: SubscriberDriver
    private var reason: String?

    init(driver: SubscriberDriver) {
        self.driver = driver
    }

    func channelActive(context: ChannelHandlerContext) {
        driver.channelActive(context.channel)
        context.fireChannelActive()
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        driver.received(unwrapInboundIn(data))
    }

    func channelInactive(context: ChannelHandlerContext) {
        driver.channelInactive(reason: reason)
        context.fireChannelInactive()
    }

    func errorCaught(context: ChannelHandlerContext, error: any Error) {
        if reason == nil { reason = "subscription connection: \(error)" }
        context.close(promise: nil)
    }
}
