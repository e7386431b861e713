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
    private var channel: Channel?
    /// Lives on the group's one loop, with every connection.
    fileprivate let service: WitnessService

    public init(configuration: Configuration, logger: Logger = Logger(label: "sluice.witness")) throws {
        self.configuration = configuration
        self.logger = logger
        service = try WitnessService(selfID: configuration.listen.description, dataDirectory: configuration.dataDirectory,
                                     failureTimeout: configuration.failureTimeout, logger: logger)
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
}

/// A data node's peer link to the witness: the same handshake rules as a node's port (version,
/// token, a named node), then cluster frames for the witness service.
private final class WitnessConnectionHandler: ChannelInboundHandler {
    typealias InboundIn = Frame
    typealias OutboundOut = Frame
    let server: NIOLoopBound<WitnessServer>
    private var machine: ConnectionStateMachine
    private var decoder = ClusterFrameDecoder(maxSnapshotBytes: 0)

    init(server: NIOLoopBound<WitnessServer>) {
        self.server = server
        machine = ConnectionStateMachine(nodeID: "witness", authToken: server.value.configuration.authToken, credit: 0,
                                         inputs: [], outputs: [], acceptsPeers: true)
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        let frame = unwrapInboundIn(data)
        let action: ConnectionStateMachine.Action
        do {
            switch frame.kind {
            case .hello: action = machine.helloReceived(try frame.message(as: Sluice_V1_Hello.self), leadership: .witness)
            case let kind where ClusterFrameDecoder.isClusterFrame(kind): action = machine.clusterFrameReceived()
            default: action = machine.protocolError(.unexpectedFrame, "a \(frame.kind) frame is not expected by a witness")
            }
            switch action {
            case .acceptPeer(let nodeID, let welcome):
                server.value.service.connected(nodeID, on: context.channel)
                context.writeAndFlush(wrapOutboundOut(ControlMessage.welcome(welcome)), promise: nil)
            case .cluster(let sender):
                if let (group, message) = try decoder.decode(frame) { server.value.service.received(message, group: group, from: sender) }
            case .fail(let code, let message):
                fail(code, message, context: context)
            default:
                break
            }
        } catch {
            let wire = error as? WireError ?? WireError(.malformedMessage, "\(error)")
            fail(ControlMessage.code(of: wire), wire.message, context: context)
        }
    }

    private func fail(_ code: Sluice_V1_ErrorCode, _ message: String, context: ChannelHandlerContext) {
        let channel = context.channel
        context.writeAndFlush(wrapOutboundOut(ControlMessage.error(code, message))).whenComplete { _ in channel.close(promise: nil) }
    }

    func channelInactive(context: ChannelHandlerContext) {
        server.value.service.closed(context.channel)
        context.fireChannelInactive()
    }

    func errorCaught(context: ChannelHandlerContext, error: Error) {
        context.close(promise: nil)
    }
}
