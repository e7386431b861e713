import NIOCore

/// One decoded frame: its kind and its payload, already decompressed. The payload of a raw frame
/// is a slice of the receive buffer (no copy).
public struct Frame: Sendable, Hashable {
    public var kind: FrameKind
    public var payload: ByteBuffer
    /// For a frame that arrived compressed, its LZ4 payload as received (the uncompressed size,
    /// then the block): a node that passes the message on (an HA leader's log) forwards these
    /// bytes instead of compressing the payload again.
    public var compressedPayload: ByteBuffer?
    /// False when the payload is known not to shrink (it carries LZ4 blocks already), so the
    /// encoder does not spend a pass finding that out.
    public var isCompressible: Bool

    public init(kind: FrameKind, payload: ByteBuffer, compressedPayload: ByteBuffer? = nil, isCompressible: Bool = true) {
        self.kind = kind
        self.payload = payload
        self.compressedPayload = compressedPayload
        self.isCompressible = isCompressible
    }

    /// Two frames are the same message when kind and payload match; how it travelled is not part of it.
    public static func == (a: Frame, b: Frame) -> Bool { a.kind == b.kind && a.payload == b.payload }

    public func hash(into hasher: inout Hasher) {
        hasher.combine(kind)
        hasher.combine(payload)
    }
}
