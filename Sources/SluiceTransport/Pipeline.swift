import NIOCore
import NIOPosix
import SluiceWire

/// The handlers every Sluice connection starts with: frames in, frames out.
public enum FramePipeline {
    /// Adds the frame decoder (buffering at most one frame) and encoder.
    public static func configure(_ channel: Channel, codec: FrameCodec = FrameCodec()) -> EventLoopFuture<Void> {
        channel.eventLoop.makeCompletedFuture {
            try channel.pipeline.syncOperations.addHandlers([
                ByteToMessageHandler(FrameDecoder(codec: codec), maximumBufferSize: codec.limits.maxFrameBytes + 64),
                MessageToByteHandler(FrameEncoder(codec: codec)),
            ])
        }
    }

    /// Dials `host:port` from `loop` with the frame pipeline and the handler `makeHandler` builds
    /// (on the loop, for the new channel): what the SDK's producer and subscriber and a node's
    /// peer links each do.
    public static func connect(host: String, port: Int, on loop: any EventLoop, codec: FrameCodec, timeout: TimeAmount,
                               makeHandler: @escaping @Sendable (Channel) -> any ChannelHandler) -> EventLoopFuture<Channel> {
        ClientBootstrap(group: loop)
            .channelOption(.socketOption(.tcp_nodelay), value: 1)
            .connectTimeout(timeout)
            .channelInitializer { channel in
                configure(channel, codec: codec).flatMapThrowing {
                    try channel.pipeline.syncOperations.addHandler(makeHandler(channel))
                }
            }
            .connect(host: host, port: port)
    }
}
