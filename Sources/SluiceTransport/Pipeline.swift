import NIOCore
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
}
