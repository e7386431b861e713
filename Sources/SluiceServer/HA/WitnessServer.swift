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
        service.connected(hello.clientName, on: channel)
        var welcome = Sluice_V1_Welcome()
        welcome.protocolVersion = ControlMessage.protocolVersion
        welcome.nodeID = "witness"
        return ControlMessage.welcome(welcome)
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
            if let (group, message) = try decoder.decode(frame) { server.value.service.received(message, group: group, from: peer) }
        } catch {
            let wire = error as? WireError ?? WireError(.malformedMessage, "\(error)")
            let channel = context.channel
            context.writeAndFlush(wrapOutboundOut(ControlMessage.error(ControlMessage.code(of: wire), wire.message)))
                .whenComplete { _ in channel.close(promise: nil) }
        }
    }

    func channelInactive(context: ChannelHandlerContext) {
        server.value.service.closed(context.channel)
        context.fireChannelInactive()
    }

    func errorCaught(context: ChannelHandlerContext, error: Error) {
        context.close(promise: nil)
    }
}
