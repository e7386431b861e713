/// Bounds a decoder enforces before it allocates anything for a frame.
public struct WireLimits: Sendable, Hashable {
    /// Largest payload on the wire (the header's length field).
    public var maxFrameBytes: Int
    /// Largest payload after decompression.
    public var maxDecompressedBytes: Int
    /// Largest uncompressed/compressed ratio a frame may claim. An LZ4 block costs at least one
    /// byte per 255 bytes it expands to, so a higher claim is a bomb or corruption, refused before
    /// the output buffer is allocated. A lower cap also refuses real, very repetitive payloads: the
    /// encoder then sends them raw if they fit in a frame.
    public var maxCompressionRatio: Int
    /// Most events one batch may carry; the decoder reserves column storage up to this.
    public var maxEventsPerBatch: Int

    public init(maxFrameBytes: Int = 16 << 20, maxDecompressedBytes: Int = 64 << 20,
                maxCompressionRatio: Int = 255, maxEventsPerBatch: Int = 1 << 18) {
        self.maxFrameBytes = maxFrameBytes
        self.maxDecompressedBytes = maxDecompressedBytes
        self.maxCompressionRatio = maxCompressionRatio
        self.maxEventsPerBatch = maxEventsPerBatch
    }

    public static let `default` = WireLimits()
}
