import NIOCore
import Testing
@testable import SluiceWire

@Suite struct FrameCodecTests {
    let codec = FrameCodec()

    func payload(_ count: Int, compressible: Bool = true) -> ByteBuffer {
        var rng = SplitMix64(seed: UInt64(count))
        var buffer = ByteBuffer()
        for i in 0..<count { buffer.writeInteger(compressible ? UInt8(i % 7) : UInt8(truncatingIfNeeded: rng.next())) }
        return buffer
    }

    func encoded(_ kind: FrameKind, _ payload: ByteBuffer, codec: FrameCodec? = nil) throws -> ByteBuffer {
        var out = ByteBuffer()
        try (codec ?? self.codec).encode(kind: kind, payload: payload, into: &out)
        return out
    }

    /// A header by hand: `[u32 length][u8 kind][u8 flags]`.
    func header(length: UInt32, kind: UInt8, flags: UInt8 = 0) -> ByteBuffer {
        var b = ByteBuffer()
        b.writeInteger(length)
        b.writeInteger(kind)
        b.writeInteger(flags)
        return b
    }

    func code(_ buffer: ByteBuffer, codec: FrameCodec? = nil) -> WireError.Code? {
        var b = buffer
        do {
            _ = try (codec ?? self.codec).decode(from: &b)
            return nil
        } catch let error as WireError {
            return error.code
        } catch {
            return nil
        }
    }

    @Test func smallFramesStayRaw() throws {
        var out = try encoded(.ack, payload(100))
        #expect(out.readableBytes == FrameCodec.headerBytes + 100)
        #expect(out.getInteger(at: 0, as: UInt32.self) == 100)
        #expect(out.getInteger(at: 4, as: UInt8.self) == FrameKind.ack.rawValue)
        #expect(out.getInteger(at: 5, as: UInt8.self) == 0)
        let frame = try codec.decode(from: &out)
        #expect(frame == Frame(kind: .ack, payload: payload(100)))
        #expect(out.readableBytes == 0)
    }

    @Test func largeFramesAreCompressedAndComeBackWhole() throws {
        var out = try encoded(.eventBatch, payload(100_000))
        #expect(out.getInteger(at: 5, as: UInt8.self) == FrameFlags.lz4.rawValue)
        #expect(out.getInteger(at: 6, as: UInt32.self) == 100_000)
        #expect(out.readableBytes < 2_000)
        #expect(try codec.decode(from: &out) == Frame(kind: .eventBatch, payload: payload(100_000)))
    }

    @Test func aCompressedFrameKeepsItsLZ4PayloadForForwarding() throws {
        var out = try encoded(.eventBatch, payload(100_000))
        let wire = out.getSlice(at: FrameCodec.headerBytes, length: out.readableBytes - FrameCodec.headerBytes)!
        let frame = try #require(try codec.decode(from: &out))
        #expect(frame.compressedPayload == wire)
        #expect(try codec.decompress(lz4Payload: wire, kind: .eventBatch) == payload(100_000))
        // Raw frames have nothing to forward.
        var raw = try encoded(.eventBatch, payload(100))
        #expect(try codec.decode(from: &raw)?.compressedPayload == nil)
    }

    @Test func aForwardedLZ4PayloadIsHeldToTheReceiversLimits() throws {
        var out = try encoded(.eventBatch, payload(100_000))
        let wire = out.getSlice(at: FrameCodec.headerBytes, length: out.readableBytes - FrameCodec.headerBytes)!
        func code(_ payload: ByteBuffer, _ codec: FrameCodec) -> WireError.Code? {
            do {
                _ = try codec.decompress(lz4Payload: payload, kind: .eventBatch)
                return nil
            } catch {
                return (error as? WireError)?.code
            }
        }
        var strict = WireLimits.default
        strict.maxDecompressedBytes = 50_000
        #expect(code(wire, FrameCodec(limits: strict)) == .decompressedTooLarge)
        strict = .default
        strict.maxCompressionRatio = 2
        #expect(code(wire, FrameCodec(limits: strict)) == .compressionRatio)
        var bomb = ByteBuffer()
        bomb.writeInteger(UInt32(65 << 20))
        bomb.writeRepeatingByte(0, count: 10)
        #expect(code(bomb, codec) == .decompressedTooLarge)
        #expect(code(ByteBuffer(bytes: [0, 0, 1, 0]), codec) == .corruptCompression)
        var corrupt = wire
        corrupt.setInteger(UInt32(100_001), at: corrupt.readerIndex)
        #expect(code(corrupt, codec) == .corruptCompression)
    }

    @Test func aFrameMarkedIncompressibleIsSentRaw() throws {
        var out = ByteBuffer()
        try FrameEncoder(codec: codec).encode(data: Frame(kind: .eventBatch, payload: payload(100_000), isCompressible: false), out: &out)
        #expect(out.getInteger(at: 5, as: UInt8.self) == 0)
        #expect(try codec.decode(from: &out)?.payload == payload(100_000))
    }

    @Test func incompressiblePayloadsAreSentRaw() throws {
        var out = try encoded(.eventBatch, payload(4_096, compressible: false))
        #expect(out.getInteger(at: 5, as: UInt8.self) == 0)
        #expect(try codec.decode(from: &out)?.payload == payload(4_096, compressible: false))
    }

    @Test func aPartialFrameWaitsAndConsumesNothing() throws {
        let whole = try encoded(.credit, payload(2_000))
        for length in 0..<whole.readableBytes {
            var part = whole.getSlice(at: 0, length: length)!
            #expect(try codec.decode(from: &part) == nil)
            #expect(part.readerIndex == 0)
        }
    }

    @Test func framesFollowEachOtherInOneBuffer() throws {
        var out = ByteBuffer()
        for (i, kind) in FrameKind.allCases.enumerated() {
            try codec.encode(kind: kind, payload: payload(i * 150), into: &out)
        }
        for (i, kind) in FrameKind.allCases.enumerated() {
            #expect(try codec.decode(from: &out) == Frame(kind: kind, payload: payload(i * 150)))
        }
        #expect(try codec.decode(from: &out) == nil)
    }

    @Test func anOversizedLengthIsRefusedFromTheHeaderAlone() {
        let small = FrameCodec(limits: WireLimits(maxFrameBytes: 1_000))
        var b = ByteBuffer()
        b.writeInteger(UInt32(1_001))
        // Four bytes are enough: no kind, no body yet.
        #expect(code(b, codec: small) == .frameTooLarge)
        #expect(code(header(length: UInt32.max, kind: 3)) == .frameTooLarge)
    }

    @Test func theEncoderRefusesWhatTheDecoderWould() {
        let small = FrameCodec(limits: WireLimits(maxFrameBytes: 1_000))
        #expect(throws: WireError.self) { try encoded(.eventBatch, payload(5_000, compressible: false), codec: small) }
    }

    @Test func unknownKindsAndFlagsAreRefused() {
        #expect(code(header(length: 0, kind: 0)) == .unknownFrameKind)
        #expect(code(header(length: 0, kind: 200)) == .unknownFrameKind)
        #expect(code(header(length: 0, kind: 3, flags: 0b10)) == .unknownFlags)
    }

    @Test func decompressionClaimsAreCheckedBeforeAllocating() {
        func lz4(claim: UInt32, blockBytes: Int) -> ByteBuffer {
            var b = header(length: UInt32(4 + blockBytes), kind: 3, flags: 1)
            b.writeInteger(claim)
            b.writeRepeatingByte(0, count: blockBytes)
            return b
        }
        #expect(code(lz4(claim: 65 << 20, blockBytes: 1 << 20)) == .decompressedTooLarge)
        // A 10-byte block cannot expand to 1 MiB: a bomb, refused by the ratio cap.
        #expect(code(lz4(claim: 1 << 20, blockBytes: 10)) == .compressionRatio)
        #expect(code(lz4(claim: 0, blockBytes: 10)) == .corruptCompression)
        #expect(code(header(length: 4, kind: 3, flags: 1)) == .corruptCompression)
        // Only the header and the claim have arrived: refused already.
        var early = header(length: 100_000, kind: 3, flags: 1)
        early.writeInteger(UInt32(64 << 20))
        #expect(code(early) == .compressionRatio)
    }

    @Test func aCorruptBlockIsRefused() throws {
        var out = try encoded(.eventBatch, payload(10_000))
        // Claim one byte more than the block expands to.
        out.setInteger(UInt32(10_001), at: 6)
        #expect(code(out) == .corruptCompression)
        var garbage = header(length: 4 + 64, kind: 3, flags: 1)
        garbage.writeInteger(UInt32(1_000))
        garbage.writeRepeatingByte(0xFF, count: 64)
        #expect(code(garbage) == .corruptCompression)
    }

    @Test func theThresholdIsConfigurable() throws {
        let never = FrameCodec(compressionThreshold: .max)
        #expect(try encoded(.eventBatch, payload(100_000), codec: never).getInteger(at: 5, as: UInt8.self) == 0)
        let always = FrameCodec(compressionThreshold: 0)
        #expect(try encoded(.eventBatch, payload(64), codec: always).getInteger(at: 5, as: UInt8.self) == 1)
    }
}
