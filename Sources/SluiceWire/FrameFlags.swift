/// The `flags` byte of a frame header. Bits without a name are reserved and must be zero, so a
/// future flag is refused by an old peer instead of misread.
public struct FrameFlags: OptionSet, Sendable, Hashable {
    public let rawValue: UInt8
    public init(rawValue: UInt8) { self.rawValue = rawValue }

    /// The payload is `[u32 uncompressed size][LZ4 block]`.
    public static let lz4 = FrameFlags(rawValue: 1 << 0)

    public static let known: FrameFlags = [.lz4]
}
