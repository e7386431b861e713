import Foundation
import NIOCore
import NIOPosix
import SluiceCore
import SluiceTransport
import SluiceWire
@testable import SluiceClient

/// A value behind a lock, for state the fake node's event loops and the test share.
final class Locked<Value>: @unchecked Sendable {
    private let lock = NSLock()
    private var value: Value

    init(_ value: Value) { self.value = value }

    func withLock<R>(_ body: (inout Value) throws -> R) rethrows -> R {
        lock.lock()
        defer { lock.unlock() }
        return try body(&value)
    }

    var current: Value { withLock { $0 } }
}

/// What the fake nodes of one test applied, shared the way several stateless nodes share one
/// engine's deduplication: a batch seen again is acked and not applied.
final class Ledger: Sendable {
    struct Applied: Sendable, Hashable {
        var producer: UInt64
        var sequence: UInt64
        var events: Int
        var node: String
    }

    struct State: Sendable {
        var applied: [Applied] = []
        var seen = Set<[UInt64]>()
        var duplicatesRefused = 0
        var creditViolations = 0
        var maxOutstanding = 0
    }

    let state = Locked(State())

    /// Records the batch unless it was applied before; returns whether it was applied now.
    func apply(producer: UInt64, sequence: UInt64, events: Int, node: String) -> Bool {
        state.withLock { s in
            guard s.seen.insert([producer, sequence]).inserted else {
                s.duplicatesRefused += 1
                return false
            }
            s.applied.append(Applied(producer: producer, sequence: sequence, events: events, node: node))
            return true
        }
    }
}

struct FakeNodeConfiguration: Sendable {
    var name = "fake"
    var inputs: [EventSchema] = []
    /// Streams a subscriber may follow, with the batches it gets.
    var outputs: [String: (EventSchema, [EventBatch])] = [:]
    var token: String?
    var credit = 8
    /// Acks wait this long, so that a producer past its credit would show.
    var ackDelay: TimeAmount?
    /// On its n-th batch the node applies it and dies without acking: listener and connections close.
    var dieAfterBatches: Int?
}

/// A small node that speaks docs/protocol.md well enough to test the SDK against real sockets.
final class FakeNode: Sendable {
    let configuration: FakeNodeConfiguration
    let ledger: Ledger
    private let server = Locked<(any Channel)?>(nil)
    private let connections = Locked<[any Channel]>([])
    let batchesReceived = Locked(0)
    let creditsReceived = Locked(0)

    private let portBox = Locked(0)
    var port: Int { portBox.current }

    init(_ configuration: FakeNodeConfiguration, ledger: Ledger = Ledger()) {
        self.configuration = configuration
        self.ledger = ledger
    }

    var endpoint: Endpoint { Endpoint(host: "127.0.0.1", port: port) }

    func start() async throws -> FakeNode {
        let node = self
        let channel = try await ServerBootstrap(group: MultiThreadedEventLoopGroup.singleton)
            .serverChannelOption(.socketOption(.so_reuseaddr), value: 1)
            .childChannelInitializer { channel in
                FramePipeline.configure(channel).flatMapThrowing {
                    try channel.pipeline.syncOperations.addHandler(FakeNodeHandler(node: node))
                }
            }
            .bind(host: "127.0.0.1", port: 0)
            .get()
        server.withLock { $0 = channel }
        portBox.withLock { $0 = channel.localAddress?.port ?? 0 }
        return self
    }

    func opened(_ channel: any Channel) {
        connections.withLock { $0.append(channel) }
    }

    /// Stops listening and drops every connection at once, as SIGKILL would.
    func kill() {
        let listener = server.withLock { s in defer { s = nil }; return s }
        listener?.close(promise: nil)
        for c in connections.withLock({ c in defer { c = [] }; return c }) { c.close(promise: nil) }
    }

    func stop() async {
        let listener = server.withLock { s in defer { s = nil }; return s }
        try? await listener?.close()
        for c in connections.withLock({ c in defer { c = [] }; return c }) { try? await c.close() }
    }
}

final class FakeNodeHandler: ChannelInboundHandler {
    typealias InboundIn = Frame
    typealias OutboundOut = Frame

    let node: FakeNode
    private var window: ReceiveWindow?
    private var bindings: [UInt32: EventSchema] = [:]
    private var decoder = BatchDecoder()
    private var subscriberCredit = 0
    private var outputs: [Frame] = []
    private var dead = false

    init(node: FakeNode) {
        self.node = node
    }

    func channelActive(context: ChannelHandlerContext) {
        node.opened(context.channel)
        context.fireChannelActive()
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        guard !dead else { return }
        let frame = unwrapInboundIn(data)
        do {
            switch frame.kind {
            case .hello: try hello(try frame.message(as: Sluice_V1_Hello.self), context: context)
            case .eventBatch: try batch(frame, context: context)
            case .subscribe: try subscribe(try frame.message(as: Sluice_V1_Subscribe.self), context: context)
            case .credit:
                let n = Int(try frame.message(as: Sluice_V1_Credit.self).batches)
                node.creditsReceived.withLock { $0 += n }
                subscriberCredit += n
                flushOutputs(context: context)
            default:
                refuse(.unexpectedFrame, "a \(frame.kind) frame is not expected", context: context)
            }
        } catch {
            refuse(.malformedMessage, "\(error)", context: context)
        }
    }

    private func hello(_ hello: Sluice_V1_Hello, context: ChannelHandlerContext) throws {
        let config = node.configuration
        if let token = config.token, hello.authToken != token {
            return refuse(.authFailed, "authentication failed: the token does not match", context: context)
        }
        var welcome = Sluice_V1_Welcome()
        welcome.protocolVersion = ControlMessage.protocolVersion
        welcome.nodeID = config.name
        if hello.role == .producer {
            for declared in hello.streams {
                guard let index = config.inputs.firstIndex(where: { $0.name == declared.name }) else {
                    return refuse(.unknownStream, "stream '\(declared.name)' is not an input of \(config.name)", context: context)
                }
                let mine = config.inputs[index]
                guard let theirs = EventSchema(wire: declared), theirs == mine else {
                    return refuse(.schemaMismatch, "stream '\(mine.name)' is \(mine) here, the producer declared \(EventSchema(wire: declared)?.description ?? "unknown types")", context: context)
                }
                let id = UInt32(10 + index)
                bindings[id] = mine
                var binding = Sluice_V1_StreamBinding()
                binding.streamID = id
                binding.schema = declared
                welcome.streams.append(binding)
            }
            welcome.initialCredit = UInt32(config.credit)
            window = ReceiveWindow(capacity: config.credit)
        }
        context.writeAndFlush(wrapOutboundOut(ControlMessage.welcome(welcome)), promise: nil)
    }

    private func batch(_ frame: Frame, context: ChannelHandlerContext) throws {
        guard var window else { return refuse(.unexpectedFrame, "no producer handshake", context: context) }
        guard let schema = bindings[try BatchPeek.streamID(frame.payload)] else {
            return refuse(.unknownStream, "unbound stream id", context: context)
        }
        let (header, batch) = try decoder.decode(frame.payload, schema: schema.types)
        guard window.batchArrived() == .accept else {
            node.ledger.state.withLock { $0.creditViolations += 1 }
            return refuse(.creditExceeded, "past the credit of \(window.capacity)", context: context)
        }
        node.ledger.state.withLock { $0.maxOutstanding = max($0.maxOutstanding, window.outstanding) }
        self.window = window
        let n = node.batchesReceived.withLock { $0 += 1; return $0 }
        _ = node.ledger.apply(producer: header.producerID, sequence: header.sequence, events: batch.count,
                              node: node.configuration.name)
        if let die = node.configuration.dieAfterBatches, n >= die {
            dead = true
            node.kill()
            return
        }
        let ack = ControlMessage.ack(producer: header.producerID, sequence: header.sequence)
        if let delay = node.configuration.ackDelay {
            context.eventLoop.assumeIsolated().scheduleTask(in: delay) {
                self.settle(ack, context: context)
            }
        } else {
            settle(ack, context: context)
        }
    }

    private func settle(_ ack: Frame, context: ChannelHandlerContext) {
        guard !dead else { return }
        window?.batchSettled()
        context.writeAndFlush(wrapOutboundOut(ack), promise: nil)
    }

    private func subscribe(_ s: Sluice_V1_Subscribe, context: ChannelHandlerContext) throws {
        guard let (schema, batches) = node.configuration.outputs[s.stream] else {
            return refuse(.unknownStream, "stream '\(s.stream)' does not exist on \(node.configuration.name)", context: context)
        }
        var welcome = Sluice_V1_Welcome()
        welcome.protocolVersion = ControlMessage.protocolVersion
        var binding = Sluice_V1_StreamBinding()
        binding.streamID = 1
        binding.schema = schema.wire
        welcome.streams = [binding]
        context.write(wrapOutboundOut(ControlMessage.welcome(welcome)), promise: nil)
        subscriberCredit = Int(s.initialCredit)
        for (i, b) in batches.enumerated() {
            var payload = context.channel.allocator.buffer(capacity: 256)
            try BatchCodec.encode(b, header: BatchHeader(streamID: 1, producerID: 0, sequence: UInt64(i + 1)), into: &payload)
            outputs.append(Frame(kind: .eventBatch, payload: payload))
        }
        flushOutputs(context: context)
    }

    private func flushOutputs(context: ChannelHandlerContext) {
        while subscriberCredit > 0, !outputs.isEmpty {
            context.write(wrapOutboundOut(outputs.removeFirst()), promise: nil)
            subscriberCredit -= 1
        }
        context.flush()
    }

    private func refuse(_ code: Sluice_V1_ErrorCode, _ message: String, context: ChannelHandlerContext) {
        dead = true
        let channel = context.channel
        context.writeAndFlush(wrapOutboundOut(ControlMessage.error(code, message))).whenComplete { _ in
            channel.close(promise: nil)
        }
    }
}
