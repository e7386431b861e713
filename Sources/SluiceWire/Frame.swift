import NIOCore

/// One decoded frame: its kind and its payload, already decompressed. The payload of a raw frame
/// is a slice of the receive buffer (no copy).
public struct Frame: Sendable, Hashable {
    public var kind: FrameKind
    public var payload: ByteBuffer

    public init(kind: FrameKind, payload: ByteBuffer) {
        self.kind = kind
        self.payload = payload
    }
}
