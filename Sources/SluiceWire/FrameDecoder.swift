import NIOCore

/// Turns inbound bytes into `Frame`s, one at a time. Wrap it in
/// `ByteToMessageHandler(FrameDecoder(), maximumBufferSize:)` with a cap a little over
/// `maxFrameBytes`, so a peer cannot make the handler buffer more than one frame's worth.
/// A thrown `WireError` means the connection must answer with an Error frame and close.
public struct FrameDecoder: NIOSingleStepByteToMessageDecoder {
    public typealias InboundOut = Frame

    public var codec: FrameCodec

    public init(codec: FrameCodec = FrameCodec()) {
        self.codec = codec
    }

    public mutating func decode(buffer: inout ByteBuffer) throws -> Frame? {
        try codec.decode(from: &buffer)
    }

    public mutating func decodeLast(buffer: inout ByteBuffer, seenEOF: Bool) throws -> Frame? {
        try codec.decode(from: &buffer)
    }
}
