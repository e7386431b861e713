import NIOCore

/// Writes outbound `Frame`s, compressing large payloads (see `FrameCodec`).
public struct FrameEncoder: MessageToByteEncoder {
    public typealias OutboundIn = Frame

    public var codec: FrameCodec

    public init(codec: FrameCodec = FrameCodec()) {
        self.codec = codec
    }

    public func encode(data: Frame, out: inout ByteBuffer) throws {
        try codec.encode(kind: data.kind, payload: data.payload, mayCompress: data.isCompressible, into: &out)
    }
}
