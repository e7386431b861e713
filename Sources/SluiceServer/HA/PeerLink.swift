import Logging
import NIOCore
import NIOPosix
import SluiceCluster
import SluiceCore
import SluiceTransport
import SluiceWire

/// This node's connection to one other party of its HA group (the peer or the witness): it
/// dials, says Hello as a node, and reconnects after any loss. Messages to that party go out on
/// it; whatever comes back on it is handed to `received`. Sending while the link is down drops
/// the message: the protocol repeats what matters on the next heartbeat.
final class PeerLink: @unchecked Sendable {
    let targetID: NodeID
    let address: HostPort
    private let selfID: NodeID
    private let authToken: String?
    private let loop: EventLoop
    private let codec: FrameCodec
    private let logger: Logger
    private let received: (_ group: String, _ message: ClusterMessage, _ from: NodeID) -> Void
    private let reconnectDelay: TimeAmount
    private var channel: Channel?
    private(set) var isReady = false
    private var stopped = false
    private var decoder = ClusterFrameDecoder()

    /// On `loop` only.
    init(targetID: NodeID, address: HostPort, selfID: NodeID, authToken: String?, loop: EventLoop, codec: FrameCodec,
         reconnectDelay: TimeAmount, logger: Logger,
         received: @escaping (_ group: String, _ message: ClusterMessage, _ from: NodeID) -> Void) {
        self.targetID = targetID
        self.address = address
        self.selfID = selfID
        self.authToken = authToken
        self.loop = loop
        self.codec = codec
        self.reconnectDelay = reconnectDelay
        self.logger = logger
        self.received = received
    }

    func start() {
        loop.preconditionInEventLoop()
        connect()
    }

    func stop() {
        stopped = true
        channel?.close(promise: nil)
        channel = nil
    }

    /// Writes `frames` if the link is up. Appends (`droppable`) are skipped while the socket is
    /// backed up, so a slow peer costs a resend later, not unbounded memory now.
    func send(_ frames: [Frame], droppable: Bool) {
        guard isReady, let channel else { return }
        if droppable, !channel.isWritable { return }
        for frame in frames { channel.write(frame, promise: nil) }
        channel.flush()
    }

    private func connect() {
        guard !stopped else { return }
        let link = NIOLoopBound(self, eventLoop: loop)
        let codec = self.codec
        FramePipeline.connect(host: address.host, port: address.port, on: loop, codec: codec, timeout: .milliseconds(500)) { _ in
            PeerLinkHandler(link: link.value)
        }
            .whenComplete { result in
                let link = link.value
                switch result {
                case .success(let channel):
                    guard !link.stopped else { channel.close(promise: nil); return }
                    link.channel = channel
                    var hello = Sluice_V1_Hello()
                    hello.protocolVersion = ControlMessage.protocolVersion
                    hello.role = .node
                    hello.clientName = link.selfID
                    if let token = link.authToken { hello.authToken = token }
                    channel.writeAndFlush(ControlMessage.hello(hello), promise: nil)
                    // A party that accepts the connection but never answers (a relay to a dead
                    // node, a hung process) must not hold the link forever.
                    channel.eventLoop.scheduleTask(in: .seconds(1)) {
                        if link.channel === channel, !link.isReady { channel.close(promise: nil) }
                    }
                case .failure:
                    link.scheduleReconnect()
                }
            }
    }

    private func scheduleReconnect() {
        guard !stopped else { return }
        let link = NIOLoopBound(self, eventLoop: loop)
        loop.scheduleTask(in: reconnectDelay) { link.value.connect() }
    }

    // MARK: From the handler

    fileprivate func frame(_ frame: Frame, on channel: Channel) {
        guard channel === self.channel else { return }
        switch frame.kind {
        case .welcome:
            if !isReady { logger.info("peer link up", metadata: ["to": "\(targetID)"]) }
            isReady = true
        case .error:
            let message = (try? frame.message(as: Sluice_V1_Error.self))?.message ?? "unreadable error"
            logger.warning("peer link refused", metadata: ["to": "\(targetID)", "reason": "\(message)"])
            channel.close(promise: nil)
        default:
            do {
                if let (group, message) = try decoder.decode(frame) { received(group, message, targetID) }
            } catch {
                logger.warning("bad frame on the peer link", metadata: ["from": "\(targetID)", "error": "\(error)"])
                channel.close(promise: nil)
            }
        }
    }

    fileprivate func inactive(_ channel: Channel) {
        guard channel === self.channel else { return }
        if isReady { logger.info("peer link down", metadata: ["to": "\(targetID)"]) }
        self.channel = nil
        isReady = false
        decoder = ClusterFrameDecoder()
        scheduleReconnect()
    }
}

private final class PeerLinkHandler: ChannelInboundHandler {
    typealias InboundIn = Frame
    let link: PeerLink

    init(link: PeerLink) { self.link = link }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        link.frame(unwrapInboundIn(data), on: context.channel)
    }

    func channelInactive(context: ChannelHandlerContext) {
        link.inactive(context.channel)
        context.fireChannelInactive()
    }

    func errorCaught(context: ChannelHandlerContext, error: Error) {
        context.close(promise: nil)
    }
}
