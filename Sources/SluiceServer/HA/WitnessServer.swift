import Logging
import NIOCore
import NIOPosix
import ServiceLifecycle
import SluiceCluster
import SluiceCore
import SluiceTransport
import SluiceWire

/// The third voter of HA groups (`sluice witness`): it holds no data, only per group its term,
/// its vote and the furthest log position a leader showed it, persisted before it answers. One
/// witness serves any number of groups. Data nodes dial it; it answers on their connection.
public final class WitnessServer: Service, @unchecked Sendable {
    public struct Configuration: Sendable {
        public var listen: HostPort
        public var dataDirectory: String
        public var authToken: String?
        /// A leader heard from within this long is alive (heartbeatInterval × heartbeatMaxRetry).
        public var failureTimeout: Duration

        public init(listen: HostPort, dataDirectory: String, authToken: String? = nil, failureTimeout: Duration = .milliseconds(300)) {
            self.listen = listen
            self.dataDirectory = dataDirectory
            self.authToken = authToken
            self.failureTimeout = failureTimeout
        }
    }

    public let configuration: Configuration
    private let logger: Logger
    private let group = MultiThreadedEventLoopGroup(numberOfThreads: 1)
    private let store: HAStateStore
    private var channel: Channel?
    // Loop state.
    private var witnesses: [String: Witness] = [:]
    private var connections: [NodeID: Channel] = [:]

    public init(configuration: Configuration, logger: Logger = Logger(label: "sluice.witness")) throws {
        self.configuration = configuration
        self.logger = logger
        store = try HAStateStore(directory: configuration.dataDirectory)
    }

    /// Listens; returns the bound port.
    @discardableResult
    public func start() async throws -> Int {
        let codec = FrameCodec()
        // One thread: every connection shares the loop the witnesses live on.
        let server = self
        let channel = try await ServerBootstrap(group: group)
            .serverChannelOption(ChannelOptions.socketOption(.so_reuseaddr), value: 1)
            .childChannelOption(ChannelOptions.socketOption(.tcp_nodelay), value: 1)
            .childChannelInitializer { channel in
                FramePipeline.configure(channel, codec: codec).flatMapThrowing {
                    try channel.pipeline.syncOperations.addHandler(WitnessConnectionHandler(server: NIOLoopBound(server, eventLoop: channel.eventLoop)))
                }
            }
            .bind(host: configuration.listen.host, port: configuration.listen.port).get()
        self.channel = channel
        let port = channel.localAddress?.port ?? configuration.listen.port
        logger.info("witness listening", metadata: ["address": "\(configuration.listen.host):\(port)"])
        return port
    }

    public func run() async throws {
        try await start()
        try? await gracefulShutdown()
        try? await channel?.close()
        try await group.shutdownGracefully()
    }

    // MARK: On the loop

    fileprivate func hello(_ hello: Sluice_V1_Hello, on channel: Channel) -> Frame {
        guard hello.protocolVersion == ControlMessage.protocolVersion else {
            return ControlMessage.error(.unsupportedVersion, "protocol version \(hello.protocolVersion) is not supported")
        }
        if let token = configuration.authToken, hello.authToken != token {
            return ControlMessage.error(.authFailed, "authentication failed: the token does not match this witness's")
        }
        guard hello.role == .node, !hello.clientName.isEmpty else {
            return ControlMessage.error(.unexpectedFrame, "a witness only takes peer links from HA data nodes")
        }
        connections[hello.clientName] = channel
        var welcome = Sluice_V1_Welcome()
        welcome.protocolVersion = ControlMessage.protocolVersion
        welcome.nodeID = "witness"
        return ControlMessage.welcome(welcome)
    }

    fileprivate func received(_ message: ClusterMessage, group: String, from sender: NodeID) {
        var witness: Witness
        if let known = witnesses[group] {
            witness = known
        } else {
            do {
                witness = Witness(selfID: configuration.listen.description, persisted: try store.loadWitness(group: group),
                                  failureTimeout: configuration.failureTimeout)
            } catch {
                logger.error("cannot read the witness state", metadata: ["group": "\(group)", "error": "\(error)"])
                return
            }
        }
        var actions = witness.received(message, from: sender, now: GroupDriver.now())
        while !actions.isEmpty {
            var next: [Witness.Action] = []
            for action in actions {
                switch action {
                case .persist(let state):
                    do {
                        try store.save(state, group: group)
                    } catch {
                        logger.critical("cannot persist the witness state", metadata: ["error": "\(error)"])
                        fatalError("cannot persist the witness state: \(error)")
                    }
                    next += witness.persisted(state)
                case .send(let to, let reply):
                    guard let channel = connections[to] else { continue }
                    for frame in reply.frames(group: group) { channel.write(frame, promise: nil) }
                    channel.flush()
                }
            }
            actions = next
        }
        witnesses[group] = witness
    }

    fileprivate func closed(_ channel: Channel) {
        connections = connections.filter { $0.value !== channel }
    }
}

private final class WitnessConnectionHandler: ChannelInboundHandler {
    typealias InboundIn = Frame
    typealias OutboundOut = Frame
    let server: NIOLoopBound<WitnessServer>
    private var peer: NodeID?
    private var decoder = ClusterFrameDecoder(maxSnapshotBytes: 0)

    init(server: NIOLoopBound<WitnessServer>) { self.server = server }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        let frame = unwrapInboundIn(data)
        do {
            if frame.kind == .hello, peer == nil {
                let hello = try frame.message(as: Sluice_V1_Hello.self)
                let answer = server.value.hello(hello, on: context.channel)
                context.writeAndFlush(wrapOutboundOut(answer), promise: nil)
                if answer.kind == .error { context.close(promise: nil) } else { peer = hello.clientName }
                return
            }
            guard let peer, ClusterFrameDecoder.isClusterFrame(frame.kind) else {
                throw WireError(.unexpectedFrame, "a \(frame.kind) frame is not expected by a witness")
            }
            if let (group, message) = try decoder.decode(frame) { server.value.received(message, group: group, from: peer) }
        } catch {
            let wire = error as? WireError ?? WireError(.malformedMessage, "\(error)")
            let channel = context.channel
            context.writeAndFlush(wrapOutboundOut(ControlMessage.error(ControlMessage.code(of: wire), wire.message)))
                .whenComplete { _ in channel.close(promise: nil) }
        }
    }

    func channelInactive(context: ChannelHandlerContext) {
        server.value.closed(context.channel)
        context.fireChannelInactive()
    }

    func errorCaught(context: ChannelHandlerContext, error: Error) {
        context.close(promise: nil)
    }
}
