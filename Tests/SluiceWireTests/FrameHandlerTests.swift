import NIOCore
import NIOEmbedded
import NIOTestUtils
import Testing
@testable import SluiceWire

@Suite struct FrameHandlerTests {
    static func frames() throws -> [Frame] {
        var rng = SplitMix64(seed: 5)
        var batchPayload = ByteBuffer()
        let batch = TestBatches.batch(TestBatches.requestSchema.map { $0 }, count: 64, using: &rng)
        try BatchCodec.encode(batch, header: BatchHeader(streamID: 1, producerID: 2, sequence: 3), into: &batchPayload)
        var hello = Sluice_V1_Hello()
        hello.protocolVersion = 1
        hello.role = .producer
        hello.authToken = "secret"
        return [
            Frame(kind: .eventBatch, payload: batchPayload),
            try Frame(hello),
            Frame(kind: .credit, payload: ByteBuffer()),
            Frame(kind: .snapshotChunk, payload: ByteBuffer(repeating: 0x5A, count: 3_000)),
        ]
    }

    @Test func decoderPassesTheVerifier() throws {
        let frames = try Self.frames()
        let encoder = FrameCodec()
        let pairs: [(ByteBuffer, [Frame])] = try frames.map { frame in
            var bytes = ByteBuffer()
            try encoder.encode(kind: frame.kind, payload: frame.payload, into: &bytes)
            return (bytes, [frame])
        }
        #expect(pairs[0].0.getInteger(at: 5, as: UInt8.self) == FrameFlags.lz4.rawValue)
        try ByteToMessageDecoderVerifier.verifyDecoder(inputOutputPairs: pairs) { FrameDecoder() }
    }

    @Test func encoderAndDecoderMeetOnAChannel() throws {
        let channel = EmbeddedChannel()
        try channel.pipeline.syncOperations.addHandlers([
            ByteToMessageHandler(FrameDecoder(), maximumBufferSize: 16 << 20),
            MessageToByteHandler(FrameEncoder()),
        ])
        let frames = try Self.frames()
        for frame in frames { try channel.writeOutbound(frame) }
        while let bytes = try channel.readOutbound(as: ByteBuffer.self) { try channel.writeInbound(bytes) }
        for frame in frames { #expect(try channel.readInbound(as: Frame.self) == frame) }
        #expect(try channel.finish().isClean)
    }

    @Test func aBadHeaderFailsTheChannelWithTheWireError() throws {
        let channel = EmbeddedChannel(handler: ByteToMessageHandler(FrameDecoder()))
        var bytes = ByteBuffer()
        bytes.writeInteger(UInt32(0))
        bytes.writeInteger(UInt8(99))
        bytes.writeInteger(UInt8(0))
        #expect(throws: WireError(.unknownFrameKind, "unknown frame kind 99")) { try channel.writeInbound(bytes) }
        _ = try? channel.finish()
    }

    @Test func messagesTravelAsTheirKind() throws {
        var ack = Sluice_V1_Ack()
        ack.producerID = 9
        ack.sequence = 10
        let frame = try Frame(ack)
        #expect(frame.kind == .ack)
        #expect(try frame.message(as: Sluice_V1_Ack.self) == ack)
        #expect(throws: WireError.self) { try frame.message(as: Sluice_V1_Nack.self) }
        let garbage = Frame(kind: .hello, payload: ByteBuffer(bytes: [0xFF, 0xFF, 0xFF]))
        #expect(throws: WireError.self) { try garbage.message(as: Sluice_V1_Hello.self) }
    }

    @Test func errorsTravelWithTheirCode() throws {
        let error = WireError(.schemaMismatch, "attribute 2 of 3 (long): the batch's column is string")
        let back = WireError(try Frame(error.proto).message(as: Sluice_V1_Error.self))
        #expect(back == error)
    }
}
