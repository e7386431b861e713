/// Bounds a decoder enforces before it allocates anything for a frame.
public struct WireLimits: Sendable, Hashable {
    /// Largest payload on the wire (the header's length field).
    public var maxFrameBytes: Int
    /// Largest payload after decompression.
    public var maxDecompressedBytes: Int
    /// Largest uncompressed/compressed ratio a frame may claim. LZ4 cannot exceed about 255:1, so
    /// a higher claim is a bomb or corruption; the default leaves headroom below that.
    public var maxCompressionRatio: Int
    /// Most events one batch may carry; the decoder reserves column storage up to this.
    public var maxEventsPerBatch: Int

    public init(maxFrameBytes: Int = 16 << 20, maxDecompressedBytes: Int = 64 << 20,
                maxCompressionRatio: Int = 250, maxEventsPerBatch: Int = 1 << 18) {
        self.maxFrameBytes = maxFrameBytes
        self.maxDecompressedBytes = maxDecompressedBytes
        self.maxCompressionRatio = maxCompressionRatio
        self.maxEventsPerBatch = maxEventsPerBatch
    }

    public static let `default` = WireLimits()
}
