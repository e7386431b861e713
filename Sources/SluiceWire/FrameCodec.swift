import NIOCore

/// Frames on a Sluice connection. Every message travels as one frame:
///
///      0               1               2               3
///      0 1 2 3 4 5 6 7 0 1 2 3 4 5 6 7 0 1 2 3 4 5 6 7 0 1 2 3 4 5 6 7
///     +---------------------------------------------------------------+
///     |             length: payload bytes (u32, big-endian)           |
///     +---------------+---------------+-------------------------------+
///     |   kind (u8)   |  flags (u8)   |   payload (length bytes) ...  |
///     +---------------+---------------+-------------------------------+
///
///     flags:  bit 0  lz4   payload is compressed (below)
///             bits 1-7     reserved, must be 0
///
///     payload when lz4 is set:
///     +---------------------------------------------------------------+
///     |            uncompressed size (u32, big-endian)                |
///     +---------------------------------------------------------------+
///     |            LZ4 block (length - 4 bytes) ...                   |
///     +---------------------------------------------------------------+
///
/// `kind` is a `FrameKind`; the (uncompressed) payload is the protobuf message of that kind
/// (`proto/sluice/v1`). Payloads of at least `compressionThreshold` bytes are compressed when that
/// makes them smaller; small frames stay raw.
///
/// Decoding checks `WireLimits` from the header alone, before waiting for or allocating the body:
/// the length against `maxFrameBytes`, then the claimed uncompressed size against
/// `maxDecompressedBytes` and `maxCompressionRatio` times the compressed size.
public struct FrameCodec: Sendable {
    public static let headerBytes = 6
    /// The uncompressed-size prefix of an LZ4 payload.
    static let sizePrefixBytes = 4

    public var limits: WireLimits
    /// Payloads this big or bigger are compressed (when that shrinks them).
    public var compressionThreshold: Int
    /// LZ4's acceleration: 1 compresses best; higher is faster and compresses less.
    public var lz4Acceleration: Int32
    public var allocator: ByteBufferAllocator

    public init(limits: WireLimits = .default, compressionThreshold: Int = 512, lz4Acceleration: Int32 = 1,
                allocator: ByteBufferAllocator = ByteBufferAllocator()) {
        self.limits = limits
        self.compressionThreshold = compressionThreshold
        self.lz4Acceleration = lz4Acceleration
        self.allocator = allocator
    }

    // MARK: Encoding

    /// Appends one frame carrying `payload`'s readable bytes to `out`; `mayCompress` false sends
    /// it raw whatever its size.
    public func encode(kind: FrameKind, payload: ByteBuffer, mayCompress: Bool = true, into out: inout ByteBuffer) throws {
        let size = payload.readableBytes
        if mayCompress, size >= compressionThreshold, size <= limits.maxDecompressedBytes,
           tryCompressed(kind: kind, payload: payload, into: &out) {
            return
        }
        guard size <= limits.maxFrameBytes else {
            throw WireError(.frameTooLarge, "a \(kind) payload of \(size) bytes exceeds the frame limit of \(limits.maxFrameBytes) bytes")
        }
        out.reserveCapacity(minimumWritableBytes: Self.headerBytes + size)
        writeHeader(length: size, kind: kind, flags: [], into: &out)
        out.writeImmutableBuffer(payload)
    }

    /// Writes a compressed frame, or nothing and false when compression does not pay or the
    /// result would break a limit the receiver enforces.
    private func tryCompressed(kind: FrameKind, payload: ByteBuffer, into out: inout ByteBuffer) -> Bool {
        let size = payload.readableBytes
        let bound = LZ4.bound(size)
        let start = out.writerIndex
        out.reserveCapacity(minimumWritableBytes: Self.headerBytes + Self.sizePrefixBytes + bound)
        writeHeader(length: 0, kind: kind, flags: .lz4, into: &out)
        out.writeInteger(UInt32(size))
        let acceleration = lz4Acceleration
        let compressed = payload.withUnsafeReadableBytes { source in
            out.writeWithUnsafeMutableBytes(minimumWritableBytes: bound) { destination in
                LZ4.compress(source, into: destination, acceleration: acceleration) ?? 0
            }
        }
        let length = compressed + Self.sizePrefixBytes
        guard compressed > 0, length < size, length <= limits.maxFrameBytes,
              size <= compressed * limits.maxCompressionRatio else {
            out.moveWriterIndex(to: start)
            return false
        }
        out.setInteger(UInt32(length), at: start)
        return true
    }

    private func writeHeader(length: Int, kind: FrameKind, flags: FrameFlags, into out: inout ByteBuffer) {
        out.writeInteger(UInt32(length))
        out.writeInteger(kind.rawValue)
        out.writeInteger(flags.rawValue)
    }

    // MARK: Decoding

    /// Takes one whole frame off the front of `buffer`, or returns nil and leaves `buffer` as it
    /// was when the frame is not complete yet. Throws as soon as the header breaks a limit.
    public func decode(from buffer: inout ByteBuffer) throws -> Frame? {
        let start = buffer.readerIndex
        guard let rawLength = buffer.getInteger(at: start, as: UInt32.self) else { return nil }
        let length = Int(rawLength)
        guard length <= limits.maxFrameBytes else {
            throw WireError(.frameTooLarge, "frame of \(length) bytes exceeds the limit of \(limits.maxFrameBytes) bytes")
        }
        guard let kindByte = buffer.getInteger(at: start + 4, as: UInt8.self),
              let flagsByte = buffer.getInteger(at: start + 5, as: UInt8.self) else { return nil }
        guard let kind = FrameKind(rawValue: kindByte) else {
            throw WireError(.unknownFrameKind, "unknown frame kind \(kindByte)")
        }
        let flags = FrameFlags(rawValue: flagsByte)
        guard flags.isSubset(of: .known) else {
            throw WireError(.unknownFlags, "frame flags 0x\(String(flagsByte, radix: 16)) set reserved bits")
        }
        if flags.contains(.lz4) {
            guard length > Self.sizePrefixBytes else {
                throw WireError(.corruptCompression, "compressed \(kind) frame of \(length) bytes has no LZ4 block")
            }
            guard let claimed = buffer.getInteger(at: start + Self.headerBytes, as: UInt32.self) else { return nil }
            try checkClaim(Int(claimed), compressed: length - Self.sizePrefixBytes, kind: kind)
        }
        guard buffer.readableBytes >= Self.headerBytes + length else { return nil }

        buffer.moveReaderIndex(forwardBy: Self.headerBytes)
        let payload = buffer.readSlice(length: length)!
        guard flags.contains(.lz4) else { return Frame(kind: kind, payload: payload) }
        return Frame(kind: kind, payload: try decompress(lz4Payload: payload, kind: kind), compressedPayload: payload)
    }

    /// The bytes an LZ4 payload (the uncompressed size, then the block) expands to. The claimed
    /// size is checked against the limits before anything is allocated, so a payload that was
    /// forwarded (an HA log entry) is held to this node's limits, not only the sender's.
    public func decompress(lz4Payload payload: ByteBuffer, kind: FrameKind) throws -> ByteBuffer {
        var block = payload
        guard block.readableBytes > Self.sizePrefixBytes, let claimed = block.readInteger(as: UInt32.self) else {
            throw WireError(.corruptCompression, "compressed \(kind) payload of \(payload.readableBytes) bytes has no LZ4 block")
        }
        let size = Int(claimed)
        try checkClaim(size, compressed: block.readableBytes, kind: kind)
        return try decompress(block, size: size, kind: kind)
    }

    private func checkClaim(_ size: Int, compressed: Int, kind: FrameKind) throws {
        guard size > 0 else {
            throw WireError(.corruptCompression, "compressed \(kind) frame claims an empty payload")
        }
        guard size <= limits.maxDecompressedBytes else {
            throw WireError(.decompressedTooLarge, "\(kind) frame would decompress to \(size) bytes, over the limit of \(limits.maxDecompressedBytes) bytes")
        }
        guard size <= compressed * limits.maxCompressionRatio else {
            throw WireError(.compressionRatio, "\(kind) frame claims \(size) bytes from \(compressed) compressed bytes, a ratio over the limit of \(limits.maxCompressionRatio):1")
        }
    }

    private func decompress(_ block: ByteBuffer, size: Int, kind: FrameKind) throws -> ByteBuffer {
        var out = allocator.buffer(capacity: size)
        let ok = block.withUnsafeReadableBytes { source in
            out.writeWithUnsafeMutableBytes(minimumWritableBytes: size) { destination in
                LZ4.decompress(source, into: UnsafeMutableRawBufferPointer(rebasing: destination.prefix(size))) ? size : 0
            }
        }
        guard ok == size else {
            throw WireError(.corruptCompression, "\(kind) frame's LZ4 block is corrupt or does not expand to the \(size) bytes it claims")
        }
        return out
    }
}
