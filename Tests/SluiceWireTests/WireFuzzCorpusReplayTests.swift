import Foundation
import NIOCore
import SluiceCore
import Testing
@testable import SluiceWire

/// Replays the wire fuzzers' corpus (Tests/FuzzCorpus/wire-frame, wire-batch and their saved
/// crashes; see tools/fuzz/README.md) without sanitizers, with the same checks as the harnesses in
/// tools/fuzz/Sources/FuzzWireSupport: bad input throws a WireError, whatever decodes survives an
/// encode/decode round trip unchanged, and a kept decoder agrees with a fresh one.
@Suite struct WireFuzzCorpusReplayTests {
    static let corpus = URL(fileURLWithPath: #filePath)
        .deletingLastPathComponent().deletingLastPathComponent()
        .appendingPathComponent("FuzzCorpus")

    /// The harnesses' limits and schemas (FuzzWireSupport/WireFuzzing.swift).
    static let limits = WireLimits(maxFrameBytes: 1 << 16, maxDecompressedBytes: 1 << 20,
                                   maxCompressionRatio: 255, maxEventsPerBatch: 4_096)
    static let schemas: [[AttributeType]] = [
        [.string, .int, .long, .float, .double, .bool],
        TestBatches.requestSchema,
        [],
        [.string],
        [.long, .long],
        [.int, .float, .bool],
    ]

    static func inputs(_ target: String) -> [String] {
        [target, "crashes/" + target].flatMap { dir in
            let names = (try? FileManager.default.contentsOfDirectory(atPath: corpus.appendingPathComponent(dir).path)) ?? []
            return names.filter { !$0.hasPrefix(".") }.map { dir + "/" + $0 }
        }.sorted()
    }

    static func bytes(_ file: String) throws -> ByteBuffer {
        ByteBuffer(bytes: try Data(contentsOf: corpus.appendingPathComponent(file)))
    }

    /// Whatever decodes encodes again to the same events.
    static func checkBatch(_ payload: ByteBuffer, schema: [AttributeType]) throws {
        let decoded: (header: BatchHeader, batch: EventBatch)
        do {
            decoded = try BatchCodec.decode(payload, schema: schema, limits: limits)
        } catch is WireError {
            return
        }
        var again = ByteBuffer()
        try BatchCodec.encode(decoded.batch, header: decoded.header, into: &again)
        let back = try BatchCodec.decode(again, schema: schema, limits: limits)
        #expect(back.header == decoded.header)
        #expect(sameEvents(back.batch, decoded.batch))
    }

    @Test func corpusIsThere() {
        #expect(Self.inputs("wire-frame").count >= 10, "no wire-frame seeds under \(Self.corpus.path)")
        #expect(Self.inputs("wire-batch").count >= 10, "no wire-batch seeds under \(Self.corpus.path)")
    }

    @Test(arguments: inputs("wire-frame"))
    func wireFrame(_ file: String) throws {
        let codec = FrameCodec(limits: Self.limits, compressionThreshold: 64)
        var buffer = try Self.bytes(file)
        var frames = 0
        while true {
            let frame: Frame
            do {
                guard let next = try codec.decode(from: &buffer) else { break }
                frame = next
            } catch is WireError {
                #expect(file.contains("bad-") || file.hasPrefix("crashes/"), "a valid seed was refused")
                return
            }
            frames += 1
            if frame.kind == .eventBatch { try Self.checkBatch(frame.payload, schema: Self.schemas[0]) }
            var again = ByteBuffer()
            try codec.encode(kind: frame.kind, payload: frame.payload, into: &again)
            #expect(try codec.decode(from: &again) == frame)
        }
        if file.contains("valid-") { #expect(frames > 0 && buffer.readableBytes == 0) }
    }

    /// As the harnesses do, one decoder and one batch kept across all inputs must decode each one
    /// as a fresh decoder does, whatever the inputs before it left behind.
    @Test func aKeptDecoderAgreesWithFreshOnes() throws {
        var decoder = BatchDecoder(limits: Self.limits)
        var batch = EventBatch(types: [])
        for file in Self.inputs("wire-batch") + Self.inputs("wire-batch").reversed() {
            let bytes = try Self.bytes(file)
            guard let first = bytes.getInteger(at: 0, as: UInt8.self) else { continue }
            let schema = Self.schemas[Int(first) % Self.schemas.count]
            let payload = bytes.getSlice(at: 1, length: bytes.readableBytes - 1)!
            let fresh = try? BatchCodec.decode(payload, schema: schema, limits: Self.limits)
            let kept = try? decoder.decode(payload, schema: schema, into: &batch)
            #expect((fresh == nil) == (kept == nil), "\(file)")
            if let fresh { #expect(kept == fresh.header && sameEvents(batch, fresh.batch), "\(file)") }
        }
    }

    @Test(arguments: inputs("wire-batch"))
    func wireBatch(_ file: String) throws {
        let bytes = try Self.bytes(file)
        guard let first = bytes.getInteger(at: 0, as: UInt8.self) else { return }
        let schema = Self.schemas[Int(first) % Self.schemas.count]
        let payload = bytes.getSlice(at: 1, length: bytes.readableBytes - 1)!
        if file.contains("valid-") {
            #expect(throws: Never.self) { try BatchCodec.decode(payload, schema: schema, limits: Self.limits) }
        } else if file.contains("bad-") {
            #expect(throws: WireError.self) { try BatchCodec.decode(payload, schema: schema, limits: Self.limits) }
        }
        try Self.checkBatch(payload, schema: schema)
    }
}
