import NIOCore
import NIOPosix
import SluiceCore
import SluiceTransport
import SluiceWire

/// Sends events to one or more Sluice nodes (docs/protocol.md, "Producing").
///
/// Events are batched per stream, by size (`batchSize`) and by time (`linger`); whole batches go
/// as they are. Batches are numbered 1, 2, … for this producer id, spread round-robin over the
/// endpoints that are up, and never more in flight than the nodes' credit and `maxInFlight`
/// allow, so a slow node slows `send`. When a connection dies its unacknowledged batches go to
/// the other endpoints under the same sequence (a node that applied one only acks it again) and
/// the endpoint is retried with exponential backoff.
///
/// The producer starts connecting when it is made. Call `close()` when done (after `flush()`,
/// which waits for every acknowledgement).
public final class Producer: Sendable {
    public let producerID: UInt64
    public let endpoints: [Endpoint]
    public let streams: [EventSchema]
    private let schemas: [String: EventSchema]
    private let limits: WireLimits
    private let loop: any EventLoop
    private let box: NIOLoopBoundBox<ProducerDriver>

    /// - Parameters:
    ///   - streams: the schemas of the streams this producer sends to; Hello declares them and
    ///     the node refuses a mismatch (`ClientError.Code.schemaMismatch`).
    ///   - producerID: the identity acks and deduplication key on; keep it stable to resend
    ///     after a restart. Zero is not a valid id.
    ///   - batchSize: events per batch for `send(stream:values:timestamp:)`.
    ///   - linger: how long an incomplete batch waits for more events.
    ///   - maxInFlight: unacknowledged batches across all connections.
    ///   - maxQueued: batches waiting for credit before `enqueue` waits (default `maxInFlight`).
    ///   - compressionThreshold: frames this big or bigger are LZ4-compressed.
    public init(endpoints: [Endpoint], streams: [EventSchema], producerID: UInt64 = .random(in: 1...UInt64.max),
                authToken: String? = nil, clientName: String = "sluice-producer", batchSize: Int = 1024,
                linger: Duration = .milliseconds(5), maxInFlight: Int = 64, maxQueued: Int? = nil,
                compressionThreshold: Int = 512, limits: WireLimits = .default, backoff: Backoff = Backoff(),
                group: any EventLoopGroup = MultiThreadedEventLoopGroup.singleton) throws(ClientError) {
        guard !endpoints.isEmpty else { throw ClientError(.connectionFailed, "a producer needs at least one endpoint") }
        guard producerID != 0 else { throw ClientError(.invalidEvent, "producer id 0 is reserved") }
        var schemas: [String: EventSchema] = [:]
        for s in streams {
            guard schemas[s.name] == nil else { throw ClientError(.invalidEvent, "stream '\(s.name)' is declared twice") }
            if let bad = s.attributes.first(where: { $0.type == .object }) {
                throw ClientError(.invalidEvent, "attribute '\(bad.name)' of '\(s.name)' has type object, which cannot be sent")
            }
            schemas[s.name] = s
        }
        self.producerID = producerID
        self.endpoints = endpoints
        self.streams = streams
        self.schemas = schemas
        self.limits = limits
        let loop = group.next()
        self.loop = loop
        let configuration = ProducerStateMachine.Configuration(
            endpoints: endpoints.map(\.description), streams: streams, producerID: producerID, authToken: authToken,
            clientName: clientName, batchSize: batchSize, maxInFlight: maxInFlight, maxQueued: maxQueued, backoff: backoff)
        let driver = ProducerDriver(loop: loop, endpoints: endpoints, machine: ProducerStateMachine(configuration: configuration),
                                    linger: linger.timeAmount, codec: FrameCodec(limits: limits, compressionThreshold: compressionThreshold))
        box = NIOLoopBoundBox.makeBoxSendingValue(driver, eventLoop: loop)
        let box = self.box
        loop.execute { box.value.start() }
    }

    /// Endpoints as `host:port` strings.
    public convenience init(endpoints: [String], streams: [EventSchema], producerID: UInt64 = .random(in: 1...UInt64.max),
                            authToken: String? = nil, batchSize: Int = 1024, linger: Duration = .milliseconds(5),
                            maxInFlight: Int = 64) throws(ClientError) {
        var parsed: [Endpoint] = []
        for e in endpoints { parsed.append(try Endpoint(parsing: e)) }
        try self.init(endpoints: parsed, streams: streams, producerID: producerID, authToken: authToken,
                      batchSize: batchSize, linger: linger, maxInFlight: maxInFlight)
    }

    deinit {
        let box = self.box
        loop.execute { _ = box.value.close() }
    }

    /// Waits until some endpoint has welcomed this producer. Throws `.authFailed` or
    /// `.schemaMismatch` when the nodes refuse it, `.connectionFailed` when every endpoint was
    /// tried once and none answered (the producer keeps retrying in the background).
    public func connect() async throws {
        let box = self.box
        try await loop.flatSubmit { box.value.waitUntilReady() }.get()
    }

    /// Sends one event and returns once the batch it went out in is acknowledged.
    public func send(stream: String, values: [Value], timestamp: Int64) async throws {
        try schema(stream).check(values)
        let box = self.box
        try await loop.flatSubmit { box.value.append(stream: stream, timestamp: timestamp, values: values, awaitAck: true) }.get()
    }

    /// Sends one event given as Swift values (checked against the schema).
    public func send<each V: AttributeConvertible>(stream: String, timestamp: Int64, _ values: repeat each V) async throws {
        var builder = BatchBuilder(schema: try schema(stream), capacity: 1)
        try builder.append(timestamp: timestamp, repeat each values)
        try await send(stream: stream, values: builder.batch.values(at: 0), timestamp: timestamp)
    }

    /// Sends one batch and returns once it is acknowledged. A batch beyond what a node accepts in
    /// one frame (`WireLimits`) goes as several consecutive batches.
    public func send(stream: String, batch: EventBatch) async throws {
        try schema(stream).check(batch)
        let box = self.box
        let parts = BatchSplitter.parts(of: batch, limits: limits)
        try await loop.flatSubmit {
            EventLoopFuture.andAllSucceed(parts.map { box.value.submit(stream: stream, batch: $0, awaitAck: true) }, on: box.value.loop)
        }.get()
    }

    /// Queues one batch and returns a future that completes when it is acknowledged. Batches
    /// submitted from one thread (or under one lock) go out in that order, so a caller can keep
    /// several in flight without losing their order.
    ///
    /// `origin` is for relaying an HA group's output (a sink on a group's node): the batch carries
    /// that identity, and the receiving node applies each (group, sequence, part) once.
    public func submit(stream: String, batch: EventBatch, origin: OutputOrigin? = nil) -> EventLoopFuture<Void> {
        do {
            try schema(stream).check(batch)
        } catch {
            return loop.makeFailedFuture(error)
        }
        let box = self.box
        let parts = BatchSplitter.parts(of: batch, limits: limits)
        if origin != nil, parts.count > 1 {
            // One identity cannot name two batches; the sink cuts its chunks below the limits.
            return loop.makeFailedFuture(ClientError(.invalidEvent, "a relayed output batch must fit one frame"))
        }
        return loop.flatSubmit {
            EventLoopFuture.andAllSucceed(parts.map { box.value.submit(stream: stream, batch: $0, awaitAck: true, origin: origin) },
                                          on: box.value.loop)
        }
    }

    /// Adds one event to its stream's batch and returns once it is queued, waiting only while
    /// the queue is full (back-pressure). `flush()` waits for the acknowledgement.
    public func enqueue(stream: String, values: [Value], timestamp: Int64) async throws {
        try schema(stream).check(values)
        let box = self.box
        try await loop.flatSubmit { box.value.append(stream: stream, timestamp: timestamp, values: values, awaitAck: false) }.get()
    }

    /// Queues one batch and returns once the queue has room for it, without waiting for the
    /// acknowledgement (`flush()` does).
    public func enqueue(stream: String, batch: EventBatch) async throws {
        try schema(stream).check(batch)
        let box = self.box
        for part in BatchSplitter.parts(of: batch, limits: limits) {
            try await loop.flatSubmit { box.value.submit(stream: stream, batch: part, awaitAck: false) }.get()
        }
    }

    /// Sends every incomplete batch now and waits until all batches so far are acknowledged.
    /// Throws the first failure among them (each is reported by one flush).
    public func flush() async throws {
        let box = self.box
        try await loop.flatSubmit { box.value.flush() }.get()
    }

    /// Closes the connections. Calls still waiting fail with `.closed`; `flush()` first to wait
    /// for acknowledgements.
    public func close() async {
        let box = self.box
        try? await loop.flatSubmit { box.value.close() }.get()
    }

    /// Whether some endpoint has welcomed this producer and the connection is up.
    public func isConnected() -> EventLoopFuture<Bool> {
        let box = self.box
        return loop.submit { box.value.machine.isReady }
    }

    public var statistics: ProducerStatistics {
        get async {
            let box = self.box
            return (try? await loop.submit { box.value.machine.statistics }.get()) ?? ProducerStatistics()
        }
    }

    public func schema(_ stream: String) throws(ClientError) -> EventSchema {
        guard let s = schemas[stream] else {
            throw ClientError(.unknownStream, "stream '\(stream)' was not declared to this producer")
        }
        return s
    }
}

/// Carries out the state machine's actions. Lives on the producer's event loop, with every
/// connection, so the machine is only ever touched from that thread.
final class ProducerDriver {
    typealias Action = ProducerStateMachine.Action

    let loop: any EventLoop
    let endpoints: [Endpoint]
    let linger: TimeAmount
    let codec: FrameCodec
    var machine: ProducerStateMachine
    private var channels: [ConnectionID: any Channel] = [:]
    /// Sealed batches by sequence, until settled.
    private var batches: [UInt64: EventBatch] = [:]
    /// The HA output identity a relayed batch carries, by sequence.
    private var origins: [UInt64: OutputOrigin] = [:]
    /// Events appended per stream, not sealed yet.
    private var open: [String: EventBatch] = [:]
    private var promises: [ProducerStateMachine.Waiter: EventLoopPromise<Void>] = [:]
    private var nextWaiter: ProducerStateMachine.Waiter = 1
    private var encoder = BatchEncoder()
    private let types: [String: [AttributeType]]

    init(loop: any EventLoop, endpoints: [Endpoint], machine: ProducerStateMachine, linger: TimeAmount, codec: FrameCodec) {
        self.loop = loop
        self.endpoints = endpoints
        self.machine = machine
        self.linger = linger
        self.codec = codec
        var types: [String: [AttributeType]] = [:]
        for s in machine.configuration.streams { types[s.name] = s.types }
        self.types = types
    }

    func start() {
        run(machine.start())
    }

    private func makeWaiter() -> (ProducerStateMachine.Waiter, EventLoopFuture<Void>) {
        let w = nextWaiter
        nextWaiter += 1
        let p = loop.makePromise(of: Void.self)
        promises[w] = p
        return (w, p.futureResult)
    }

    func waitUntilReady() -> EventLoopFuture<Void> {
        let (w, f) = makeWaiter()
        run(machine.waitUntilReady(w))
        return f
    }

    func append(stream: String, timestamp: Int64, values: [Value], awaitAck: Bool) -> EventLoopFuture<Void> {
        if let error = machine.terminalError { return loop.makeFailedFuture(error) }
        let (w, f) = makeWaiter()
        if open[stream] == nil, let t = types[stream] {
            open[stream] = EventBatch(types: t, capacity: machine.configuration.batchSize)
        }
        open[stream]?.append(timestamp: timestamp, values: values)
        run(machine.append(stream: stream, waiter: awaitAck ? w : nil, admission: awaitAck ? nil : w))
        return f
    }

    func submit(stream: String, batch: EventBatch, awaitAck: Bool, origin: OutputOrigin? = nil) -> EventLoopFuture<Void> {
        let (w, f) = makeWaiter()
        let (sequence, actions) = machine.submit(stream: stream, events: batch.count, waiter: awaitAck ? w : nil,
                                                 admission: awaitAck ? nil : w)
        if let sequence {
            batches[sequence] = batch
            if let origin { origins[sequence] = origin }
        }
        run(actions)
        return f
    }

    func flush() -> EventLoopFuture<Void> {
        let (w, f) = makeWaiter()
        run(machine.flush(w))
        return f
    }

    func close() -> EventLoopFuture<Void> {
        let closing = channels.values.map(\.closeFuture)
        run(machine.close())
        return EventLoopFuture.andAllComplete(closing, on: loop)
    }

    // MARK: Connection events

    func channelActive(_ id: ConnectionID, channel: any Channel) {
        channels[id] = channel
        run(machine.channelActive(id))
    }

    func received(_ frame: Frame, on id: ConnectionID) {
        run(machine.received(frame, on: id))
    }

    func channelInactive(_ id: ConnectionID, reason: String?) {
        channels.removeValue(forKey: id)
        run(machine.channelInactive(id, reason: reason))
    }

    // MARK: Actions

    private func run(_ actions: [Action]) {
        var written: [ConnectionID] = []
        for action in actions {
            switch action {
            case .connect(let id):
                connect(id)
            case .write(let id, let frame):
                guard let channel = channels[id] else { continue }
                channel.write(frame, promise: nil)
                if !written.contains(id) { written.append(id) }
            case .sendBatch(let id, let sequence, let streamID):
                guard let channel = channels[id], let batch = batches[sequence] else { continue }
                var payload = channel.allocator.buffer(capacity: 64 + batch.count * 16 * max(1, batch.columns.count))
                let origin = origins[sequence]
                let header = BatchHeader(streamID: streamID, producerID: machine.configuration.producerID, sequence: sequence,
                                         outputGroup: origin?.group ?? "", outputTerm: origin?.term ?? 0,
                                         outputSequence: origin?.sequence ?? 0, outputPart: origin?.part ?? 0)
                do {
                    try encoder.encode(batch, header: header, into: &payload)
                } catch {
                    run(machine.abandon(sequence, on: id, error: ClientError(.invalidEvent, "batch \(sequence) cannot be encoded: \(error)")))
                    continue
                }
                channel.write(Frame(kind: .eventBatch, payload: payload), promise: nil)
                if !written.contains(id) { written.append(id) }
            case .close(let id):
                channels.removeValue(forKey: id)?.close(promise: nil)
            case .scheduleReconnect(let endpoint, let delay):
                loop.assumeIsolated().scheduleTask(in: delay.timeAmount) {
                    self.run(self.machine.reconnectDue(endpoint: endpoint))
                }
            case .armLinger(let stream, let generation):
                loop.assumeIsolated().scheduleTask(in: linger) {
                    self.run(self.machine.lingerExpired(stream: stream, generation: generation))
                }
            case .seal(let stream, let sequence):
                batches[sequence] = open.removeValue(forKey: stream)
            case .succeed(let waiters):
                for w in waiters { promises.removeValue(forKey: w)?.succeed() }
            case .fail(let waiters, let error):
                for w in waiters { promises.removeValue(forKey: w)?.fail(error) }
            case .release(let sequences):
                for s in sequences {
                    batches.removeValue(forKey: s)
                    origins.removeValue(forKey: s)
                }
            }
        }
        for id in written { channels[id]?.flush() }
    }

    private func connect(_ id: ConnectionID) {
        let endpoint = endpoints[id.endpoint]
        let bound = NIOLoopBound(self, eventLoop: loop)
        let codec = self.codec
        FramePipeline.connect(host: endpoint.host, port: endpoint.port, on: loop, codec: codec, timeout: .seconds(5)) { _ in
            ProducerConnectionHandler(id: id, driver: bound.value)
        }
            .assumeIsolated()
            .whenFailure { error in
                self.run(self.machine.channelInactive(id, reason: "cannot connect to \(endpoint): \(error)"))
            }
    }
}

/// Feeds one connection's events to the driver.
final class ProducerConnectionHandler: ChannelInboundHandler {
    typealias InboundIn = Frame

    let id: ConnectionID
    let driver: ProducerDriver
    private var reason: String?

    init(id: ConnectionID, driver: ProducerDriver) {
        self.id = id
        self.driver = driver
    }

    func channelActive(context: ChannelHandlerContext) {
        driver.channelActive(id, channel: context.channel)
        context.fireChannelActive()
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        driver.received(unwrapInboundIn(data), on: id)
    }

    func channelInactive(context: ChannelHandlerContext) {
        driver.channelInactive(id, reason: reason)
        context.fireChannelInactive()
    }

    func errorCaught(context: ChannelHandlerContext, error: any Error) {
        if reason == nil { reason = "connection \(id.serial) to endpoint \(id.endpoint): \(error)" }
        context.close(promise: nil)
    }
}
