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
}
