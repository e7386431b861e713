@testable import SluiceClient
import SluiceCore
import NIOCore
import SluiceWire
import Testing

@Suite struct BatchSplitterTests {
    func batch(_ n: Int, text: String = "x") -> EventBatch {
        var b = EventBatch(types: [.long, .string])
        for i in 0..<n { b.append(timestamp: Int64(i), values: [.long(Int64(i)), .string(text)]) }
        return b
    }

    @Test func keepsABatchThatFits() {
        let parts = BatchSplitter.parts(of: batch(1_000), limits: .default)
        #expect(parts.count == 1 && parts[0].count == 1_000)
    }

    @Test func cutsByEventCountInOrder() {
        let limits = WireLimits(maxEventsPerBatch: 300)
        let parts = BatchSplitter.parts(of: batch(1_000), limits: limits)
        #expect(parts.allSatisfy { $0.count <= 300 })
        #expect(parts.reduce(0) { $0 + $1.count } == 1_000)
        #expect(parts.flatMap { p in (0..<p.count).map { p.columns[0].longs[$0] } } == (0..<1_000).map(Int64.init))
    }

    @Test func cutsByBytesSoEachPartFitsAFrame() {
        let text = String(repeating: "y", count: 1_000)
        let limits = WireLimits(maxFrameBytes: 64 << 10, maxDecompressedBytes: 64 << 10)
        let parts = BatchSplitter.parts(of: batch(500, text: text), limits: limits)
        #expect(parts.count > 1)
        for part in parts {
            var out = ByteBuffer()
            #expect(throws: Never.self) { try BatchCodec.encode(part, header: BatchHeader(streamID: 1, producerID: 1, sequence: 1), into: &out) }
            #expect(out.readableBytes <= limits.maxDecompressedBytes)
        }
        #expect(parts.reduce(0) { $0 + $1.count } == 500)
    }

    /// A string column in dictionary form is estimated from its values and references without
    /// walking its rows; distinct long values still make parts that each fit.
    @Test func cutsDictionaryFormColumnsSoEachPartFits() {
        let values = StringLane((0..<400).map { "value-\($0)-" + String(repeating: "z", count: 600) })
        var b = EventBatch(types: [.long, .string])
        let codes = (0..<800).map { UInt32(($0 * 7) % 400) }
        b.timestamps = (0..<800).map(Int64.init)
        b.kinds = Array(repeating: .current, count: 800)
        b.columns = [Column(longs: (0..<800).map(Int64.init)), Column(strings: StringLane(values: values, codes: codes))]
        let limits = WireLimits(maxFrameBytes: 64 << 10, maxDecompressedBytes: 64 << 10)
        let parts = BatchSplitter.parts(of: b, limits: limits)
        #expect(parts.count > 1)
        for part in parts {
            var out = ByteBuffer()
            #expect(throws: Never.self) { try BatchCodec.encode(part, header: BatchHeader(streamID: 1, producerID: 1, sequence: 1), into: &out) }
            #expect(out.readableBytes <= limits.maxDecompressedBytes)
        }
        #expect(parts.flatMap { Array($0.columns[1].strings) } == Array(b.columns[1].strings))
    }
}
