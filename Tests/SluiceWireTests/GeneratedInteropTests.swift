import NIOCore
import SluiceCore
import SwiftProtobuf
import Testing
@testable import SluiceWire

/// The hand-written batch codec and swift-protobuf's generated `Sluice_V1_EventBatch` agree on
/// the bytes, both ways.
@Suite struct GeneratedInteropTests {
    static let seeds = Array(0..<30)

    static func randomCase(_ seed: Int) -> (schema: [AttributeType], batch: EventBatch, header: BatchHeader) {
        var rng = SplitMix64(seed: UInt64(seed) &* 7919)
        let schema = seed == 0 ? TestBatches.requestSchema : TestBatches.schema(arity: Int.random(in: 0...10, using: &rng), using: &rng)
        let count = seed == 1 ? 0 : [1, 5, 64, 333, 1024].randomElement(using: &rng)!
        let batch = TestBatches.batch(schema, count: count, nullRate: seed % 4 == 0 ? 0 : 0.2, kinds: seed % 5 == 0, using: &rng)
        let header = BatchHeader(streamID: UInt32.random(in: 0...UInt32.max, using: &rng),
                                 producerID: seed % 2 == 0 ? 0 : rng.next(), sequence: rng.next() >> (rng.next() % 64))
        return (schema, batch, header)
    }

    @Test(arguments: seeds)
    func generatedTypesReadTheHandWrittenEncoding(seed: Int) throws {
        let (_, batch, header) = Self.randomCase(seed)
        var buffer = ByteBuffer()
        try BatchCodec.encode(batch, header: header, into: &buffer)
        let bytes = Array(buffer.readableBytesView)

        let message = try Sluice_V1_EventBatch(serializedBytes: bytes)
        let (decodedHeader, decoded) = try Reference.batch(message)
        #expect(decodedHeader == header)
        #expect(sameEvents(decoded, batch))
        // Field order and defaults match too: swift-protobuf writes the same bytes back.
        #expect(try message.serializedBytes() == bytes)
    }

    @Test(arguments: seeds)
    func handWrittenDecoderReadsTheGeneratedEncoding(seed: Int) throws {
        let (schema, batch, header) = Self.randomCase(seed)
        for (deltaLongs, dictionary) in [(false, false), (true, true)] {
            let bytes: [UInt8] = try Reference.message(batch, header: header, deltaLongs: deltaLongs,
                                                       dictionaryStrings: dictionary).serializedBytes()
            let (decodedHeader, decoded) = try BatchCodec.decode(ByteBuffer(bytes: bytes), schema: schema)
            #expect(decodedHeader == header)
            #expect(sameEvents(decoded, batch))
        }
    }

    /// Protobuf lets a repeated scalar arrive unpacked, one tag per value; a decoder must take it.
    @Test func unpackedRepeatedFieldsAreRead() throws {
        var w = [UInt8]()
        func varint(_ v: UInt64) { var v = v; while v >= 0x80 { w.append(UInt8(v & 0x7F) | 0x80); v >>= 7 }; w.append(UInt8(v)) }
        varint(4 << 3); varint(2)                  // event_count = 2
        varint(5 << 3); varint(zigzag(10))          // timestamp_deltas, unpacked
        varint(5 << 3); varint(zigzag(5))
        var column = [UInt8]()
        swap(&w, &column)
        varint(1 << 3); varint(3)                  // type = long
        varint(2 << 3); varint(zigzag(-7))          // longs, unpacked
        varint(2 << 3); varint(zigzag(8))
        swap(&w, &column)
        varint(6 << 3 | 2); varint(UInt64(column.count)); w += column
        let decoded = try BatchCodec.decode(ByteBuffer(bytes: w), schema: [.long]).batch
        #expect(decoded.timestamps == [10, 15])
        #expect(decoded.columns[0].longs == [-7, 8])

        let message = try Sluice_V1_EventBatch(serializedBytes: w)
        #expect(message.timestampDeltas == [10, 5] && message.columns[0].longs == [-7, 8])
    }

    @Test func frameKindsMatchTheProto() {
        for kind in FrameKind.allCases {
            let proto = Sluice_V1_FrameKind(rawValue: Int(kind.rawValue))
            #expect(proto != nil && proto != .unspecified)
            if case .UNRECOGNIZED = proto! { Issue.record("\(kind) has no FrameKind in frame.proto") }
        }
        #expect(FrameKind.allCases.count == Sluice_V1_FrameKind.allCases.count - 1)
    }

    @Test func errorCodesMatchTheProto() {
        for code in WireError.Code.allCases {
            if case .UNRECOGNIZED = Sluice_V1_ErrorCode(rawValue: code.rawValue)! {
                Issue.record("\(code) has no ErrorCode in error.proto")
            }
        }
        #expect(WireError.Code.allCases.count == Sluice_V1_ErrorCode.allCases.count - 1)
    }

    @Test func attributeTypesMapBothWays() {
        for type in TestBatches.allTypes {
            #expect(AttributeType(wireValue: type.wireValue!) == type)
        }
        #expect(AttributeType.object.wireValue == nil)
        #expect(AttributeType(wireValue: .unspecified) == nil)
    }
}
