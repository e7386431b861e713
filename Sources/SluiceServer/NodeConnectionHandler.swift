import Logging
import NIOCore
import SluiceCluster
import SluiceCore
import SluiceTransport
import SluiceWire

/// Carries out a connection's protocol actions: decodes batches on the event loop, hands them to
/// the engine, writes acks and output batches. All protocol decisions live in the state machine.
final class NodeConnectionHandler: ChannelInboundHandler {
    typealias InboundIn = Frame
    typealias OutboundOut = Frame

    private var machine: ConnectionStateMachine
    private let engine: EngineLoop
    private let limits: WireLimits
    private let logger: Logger
    private var decoder: BatchDecoder
    private var context: ChannelHandlerContext?
    /// Batches the engine could not take yet (its ring was full); reading pauses meanwhile.
    private var backlog: [EngineCommand] = []
    private var subscription: Subscription?
    private let subscriberID: UInt64
    /// Set on a node of an HA group: input goes through the group's log, and clients leave when
    /// the node stops leading.
    private let driver: GroupDriver?
    /// Set when this node is also a witness: cluster messages of other groups go to it.
    private let witness: WitnessService?
    private var clusterDecoder = ClusterFrameDecoder()

    /// A subscriber's flow state: frames wait here while it has no credit.
    struct Subscription {
        var stream: String
        var credit: Int
        var queued: [(frame: Frame, sequence: UInt64)] = []
        /// Output sequences written and not yet paid back with credit (HA).
        var unconfirmed: [UInt64] = []
        var unconfirmedHead = 0
        var confirmed: UInt64 = 0
        static let maxQueued = 4096
    }

    init(machine: ConnectionStateMachine, engine: EngineLoop, limits: WireLimits, subscriberID: UInt64,
         driver: GroupDriver? = nil, witness: WitnessService? = nil, logger: Logger) {
        self.witness = witness
        self.machine = machine
        self.engine = engine
        self.limits = limits
        self.decoder = BatchDecoder(limits: limits)
        self.subscriberID = subscriberID
        self.driver = driver
        self.logger = logger
    }

    func handlerAdded(context: ChannelHandlerContext) {
        self.context = context
    }

    func channelInactive(context: ChannelHandlerContext) {
        driver?.unregister(self)
        witness?.closed(context.channel)
        if let s = subscription {
            _ = engine.submit(.unsubscribe(stream: s.stream, id: subscriberID))
            subscription = nil
        }
        context.fireChannelInactive()
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        let frame = unwrapInboundIn(data)
        let action: ConnectionStateMachine.Action
        do {
            switch frame.kind {
            case .hello: action = machine.helloReceived(try frame.message(as: Sluice_V1_Hello.self),
                                                        leadership: driver?.leadership ?? .standalone)
            case let kind where ClusterFrameDecoder.isClusterFrame(kind): action = machine.clusterFrameReceived()
            case .eventBatch: action = machine.batchReceived(streamID: try BatchPeek.streamID(frame.payload))
            case .subscribe: action = machine.subscribeReceived(try frame.message(as: Sluice_V1_Subscribe.self))
            case .credit: action = machine.creditReceived(try frame.message(as: Sluice_V1_Credit.self))
            default: action = machine.protocolError(.unexpectedFrame, "a \(frame.kind) frame is not expected from a client")
            }
        } catch let error as WireError {
            action = machine.protocolError(ControlMessage.code(of: error), error.message)
        } catch {
            action = machine.protocolError(.malformedMessage, "\(error)")
        }
        perform(action, frame: frame, context: context)
    }

    private func perform(_ action: ConnectionStateMachine.Action, frame: Frame, context: ChannelHandlerContext) {
        switch action {
        case .send(let welcome):
            context.writeAndFlush(wrapOutboundOut(ControlMessage.welcome(welcome)), promise: nil)
            driver?.register(self)
        case .acceptPeer(let nodeID, let welcome):
            logger.info("peer link accepted", metadata: ["from": "\(nodeID)"])
            witness?.connected(nodeID, on: context.channel)
            context.writeAndFlush(wrapOutboundOut(ControlMessage.welcome(welcome)), promise: nil)
        case .cluster(let sender):
            do {
                if let (group, message) = try clusterDecoder.decode(frame) {
                    // Another group's message is for the witness this node may be.
                    if let witness, driver?.settings.group.groupID != group {
                        witness.received(message, group: group, from: sender)
                    } else {
                        driver?.received(message, group: group, from: sender)
                    }
                }
            } catch let error as WireError {
                fail(ControlMessage.code(of: error), error.message, context: context)
            } catch {
                fail(.malformedMessage, "\(error)", context: context)
            }
        case .submit(let stream):
            submit(frame, stream: stream, context: context)
        case .startSubscription(let stream, let credit, let includeExpired, let resumeAfter):
            var welcome = Sluice_V1_Welcome()
            welcome.protocolVersion = ControlMessage.protocolVersion
            var binding = Sluice_V1_StreamBinding()
            binding.streamID = 1
            binding.schema = WireSchema.message(name: stream.name, attributes: stream.attributes.map { ($0.name, $0.type) })
            welcome.streams = [binding]
            context.writeAndFlush(wrapOutboundOut(ControlMessage.welcome(welcome)), promise: nil)
            subscription = Subscription(stream: stream.name, credit: credit)
            let subscriber = ChannelSubscriber(id: subscriberID, includeExpired: includeExpired,
                                               handler: NIOLoopBound(self, eventLoop: context.eventLoop),
                                               eventLoop: context.eventLoop)
            driver?.register(self)
            if !engine.submit(.subscribe(stream: stream.name, subscriber: subscriber, resumeAfter: resumeAfter)) {
                fail(.shuttingDown, "the node is overloaded; try again", context: context)
            }
        case .grantSubscriberCredit(let n):
            subscription?.credit += n
            confirm(n)
            flushSubscription(context: context)
        case .fail(let code, let message):
            fail(code, message, context: context)
        case .ignore:
            break
        }
    }

    private func fail(_ code: Sluice_V1_ErrorCode, _ message: String, context: ChannelHandlerContext) {
        logger.info("closing connection: \(message)", metadata: ["code": "\(code)"])
        let channel = context.channel
        context.writeAndFlush(wrapOutboundOut(ControlMessage.error(code, message))).whenComplete { _ in
            channel.close(promise: nil)
        }
    }

    func errorCaught(context: ChannelHandlerContext, error: Error) {
        // Frame-level errors (oversized frame, bomb, unknown kind) come from the decoder.
        let action: ConnectionStateMachine.Action
        if let wire = error as? WireError {
            action = machine.protocolError(ControlMessage.code(of: wire), wire.message)
        } else if error is ByteToMessageDecoderError.PayloadTooLargeError {
            action = machine.protocolError(.frameTooLarge, "a frame exceeds the limit of \(limits.maxFrameBytes) bytes")
        } else {
            context.close(promise: nil)
            return
        }
        if case .fail(let code, let message) = action { fail(code, message, context: context) }
    }

    // MARK: Producing

    private func submit(_ frame: Frame, stream: ConnectionStateMachine.StreamEntry, context: ChannelHandlerContext) {
        let decoded: (header: BatchHeader, batch: EventBatch)
        let skip = engine.decoding.skip(for: stream.name)
        do {
            decoded = try decoder.decode(frame.payload, schema: stream.attributes.map(\.type), skip: skip)
        } catch let error as WireError {
            fail(ControlMessage.code(of: error), error.message, context: context)
            return
        } catch {
            fail(.malformedMessage, "\(error)", context: context)
            return
        }
        let reply = ChannelReply(handler: NIOLoopBound(self, eventLoop: context.eventLoop), eventLoop: context.eventLoop)
        if let driver {
            guard driver.accept(frame: frame, stream: stream.name, batch: decoded.batch, partial: skip != nil,
                                producer: decoded.header.producerID, sequence: decoded.header.sequence, origin: decoded.header.origin,
                                reply: reply) else {
                fail(.notLeader, "this node does not lead HA group '\(driver.settings.group.groupID)'", context: context)
                return
            }
            return
        }
        let command = EngineCommand.batch(stream: stream.name, batch: decoded.batch, producer: decoded.header.producerID,
                                          sequence: decoded.header.sequence, reply: reply, origin: decoded.header.origin,
                                          partial: skip != nil)
        if backlog.isEmpty && engine.submit(command) { return }
        backlog.append(command)
        if backlog.count == 1 {
            context.channel.setOption(ChannelOptions.autoRead, value: false).whenComplete { _ in }
            retryBacklog(context: context)
        }
    }

    /// The engine is full: retry shortly, reading nothing meanwhile (back-pressure).
    private func retryBacklog(context: ChannelHandlerContext) {
        let bound = NIOLoopBound(self, eventLoop: context.eventLoop)
        let ctx = NIOLoopBound(context, eventLoop: context.eventLoop)
        context.eventLoop.scheduleTask(in: .microseconds(200)) {
            let handler = bound.value
            while let first = handler.backlog.first, handler.engine.submit(first) { handler.backlog.removeFirst() }
            if handler.backlog.isEmpty {
                ctx.value.channel.setOption(ChannelOptions.autoRead, value: true).whenComplete { _ in }
                ctx.value.read()
            } else {
                handler.retryBacklog(context: ctx.value)
            }
        }
    }

    /// On the event loop: the engine applied (or refused) a batch.
    func settled(producer: UInt64, sequence: UInt64, refusal: String?) {
        guard let context else { return }
        machine.batchSettled()
        if let refusal {
            context.writeAndFlush(wrapOutboundOut(ControlMessage.nack(producer: producer, sequence: sequence, code: .schemaMismatch,
                                                                       reason: refusal, retryable: false)), promise: nil)
        } else {
            context.writeAndFlush(wrapOutboundOut(ControlMessage.ack(producer: producer, sequence: sequence)), promise: nil)
        }
    }

    // MARK: Subscribing

    /// On the event loop: an output batch for this subscriber (`sequence` is 0 off HA groups).
    func output(_ frame: Frame, sequence: UInt64) {
        guard let context, subscription != nil else { return }
        if subscription!.queued.count >= Subscription.maxQueued {
            fail(.shuttingDown, "the subscriber fell more than \(Subscription.maxQueued) batches behind", context: context)
            subscription = nil
            return
        }
        subscription!.queued.append((frame, sequence))
        flushSubscription(context: context)
    }

    private func flushSubscription(context: ChannelHandlerContext) {
        guard var s = subscription else { return }
        var wrote = false
        while s.credit > 0, !s.queued.isEmpty {
            let (frame, sequence) = s.queued.removeFirst()
            context.write(wrapOutboundOut(frame), promise: nil)
            if driver != nil { s.unconfirmed.append(sequence) }
            s.credit -= 1
            wrote = true
        }
        subscription = s
        if wrote { context.flush() }
    }

    /// Credit comes back as the subscriber takes batches: the oldest `n` written are delivered.
    private func confirm(_ n: Int) {
        guard driver != nil, var s = subscription else { return }
        let take = min(n, s.unconfirmed.count - s.unconfirmedHead)
        if take > 0 {
            s.confirmed = max(s.confirmed, s.unconfirmed[s.unconfirmedHead + take - 1])
            s.unconfirmedHead += take
            if s.unconfirmedHead > 1024 {
                s.unconfirmed.removeFirst(s.unconfirmedHead)
                s.unconfirmedHead = 0
            }
        }
        subscription = s
    }
}

extension NodeConnectionHandler: GroupDriver.Client {
    func leadershipLost(group: String) {
        guard let context else { return }
        if case .fail(let code, let message) = machine.leadershipLost(group: group) { fail(code, message, context: context) }
    }

    var confirmedOutput: UInt64? { subscription.map(\.confirmed) }

    /// Ends a subscription the engine cannot serve (an Error frame, then the connection closes).
    func failSubscription(_ code: Sluice_V1_ErrorCode, _ message: String) {
        guard let context else { return }
        fail(code, message, context: context)
    }
}

/// Reports a batch's fate back to its connection's event loop.
struct ChannelReply: BatchReply {
    let handler: NIOLoopBound<NodeConnectionHandler>
    let eventLoop: EventLoop

    func applied(producer: UInt64, sequence: UInt64, duplicate: Bool) {
        let handler = self.handler
        eventLoop.execute { handler.value.settled(producer: producer, sequence: sequence, refusal: nil) }
    }

    func refused(producer: UInt64, sequence: UInt64, reason: String) {
        let handler = self.handler
        eventLoop.execute { handler.value.settled(producer: producer, sequence: sequence, refusal: reason) }
    }
}

/// Encodes a stream's output on the engine thread and hands the frame to the subscriber's loop.
struct ChannelSubscriber: OutputSubscriber {
    let id: UInt64
    var resumesItself: Bool { true }
    let includeExpired: Bool
    let handler: NIOLoopBound<NodeConnectionHandler>
    let eventLoop: EventLoop

    func deliver(_ batch: EventBatch, stamp: OutputOrigin?) {
        var rows = batch
        if !includeExpired || batch.kinds.contains(.reset) {
            let keep = (0..<batch.count).filter { batch.kinds[$0] == .current || (includeExpired && batch.kinds[$0] == .expired) }
            if keep.count != batch.count { rows = batch.gather(keep) }
        }
        guard !rows.isEmpty else { return }
        var payload = ByteBuffer()
        let header = BatchHeader(streamID: 1, producerID: 0, sequence: stamp?.sequence ?? 0,
                                 outputGroup: stamp?.group ?? "", outputTerm: stamp?.term ?? 0)
        guard (try? BatchCodec.encode(rows, header: header, into: &payload)) != nil else { return }
        let frame = Frame(kind: .eventBatch, payload: payload)
        let handler = self.handler, sequence = stamp?.sequence ?? 0
        eventLoop.execute { handler.value.output(frame, sequence: sequence) }
    }

    func missed(_ reason: String) {
        let handler = self.handler
        eventLoop.execute { handler.value.failSubscription(.outputsNotRetained, reason) }
    }
}
