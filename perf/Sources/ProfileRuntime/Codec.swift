import NIOCore
import SluiceCore
import SluiceWire
import Workloads

/// The wire benchmark's loop (encode, LZ4 frame, decode) without the harness, for timing and callgrind.
final class CodecDriver {
    let batches = (0..<Shape.batchesPerIteration).map { RequestEvents.batch($0) }
    let codec = FrameCodec()
    var encoder = BatchEncoder()
    var decoder = BatchDecoder()
    var payload = ByteBuffer()
    var frame = ByteBuffer()
    var decoded = EventBatch(types: RequestEvents.types)
    var sequence: UInt64 = 0
    var wireBytes = 0

    func round() throws {
        for b in batches {
            payload.clear()
            frame.clear()
            sequence += 1
            try encoder.encode(b, header: BatchHeader(streamID: 1, producerID: 1, sequence: sequence), into: &payload)
            try codec.encode(kind: .eventBatch, payload: payload, into: &frame)
            wireBytes += frame.readableBytes
            guard let f = try codec.decode(from: &frame) else { fatalError("the frame did not decode") }
            _ = try decoder.decode(f.payload, schema: RequestEvents.types, into: &decoded)
        }
    }
}

@inline(never)
func codecMeasuredRounds(_ driver: CodecDriver, _ n: Int) throws {
    for _ in 0..<n { try driver.round() }
}

/// M events/s of one stage over the 100 batches, p50 of `iterations` rounds.
func stageRate(_ iterations: Int, _ body: () throws -> Void) rethrows -> Double {
    var rates: [Double] = []
    for _ in 0..<iterations {
        let t0 = ContinuousClock.now
        try body()
        let d = ContinuousClock.now - t0
        let ns = Double(d.components.seconds) * 1e9 + Double(d.components.attoseconds) / 1e9
        rates.append(Double(Shape.eventsPerIteration) / ns * 1e3)
    }
    rates.sort()
    return rates[rates.count / 2]
}

func runCodec(iterations: Int, timed: Bool) throws {
    let driver = CodecDriver()
    for _ in 0..<2 { try driver.round() }
    if !timed {
        try codecMeasuredRounds(driver, iterations)
        print("codec: \(iterations) rounds, decoded \(driver.decoded.count) events in the last batch")
        return
    }
    // The stages on their own, in the same run, and a memcpy of the same payload bytes as the floor.
    var encoder = BatchEncoder()
    var decoder = BatchDecoder()
    var payloads: [ByteBuffer] = []
    var frames: [ByteBuffer] = []
    for (i, b) in driver.batches.enumerated() {
        var p = ByteBuffer()
        try encoder.encode(b, header: BatchHeader(streamID: 1, producerID: 1, sequence: UInt64(i + 1)), into: &p)
        payloads.append(p)
        var f = ByteBuffer()
        try driver.codec.encode(kind: .eventBatch, payload: p, into: &f)
        frames.append(f)
    }
    let payloadBytes = payloads.reduce(0) { $0 + $1.readableBytes }
    let frameBytes = frames.reduce(0) { $0 + $1.readableBytes }
    var scratch = ByteBuffer()
    let encodeOnly = try stageRate(iterations) {
        for (i, b) in driver.batches.enumerated() {
            scratch.clear()
            try encoder.encode(b, header: BatchHeader(streamID: 1, producerID: 1, sequence: UInt64(i + 1)), into: &scratch)
        }
    }
    let lz4Only = try stageRate(iterations) {
        for p in payloads {
            scratch.clear()
            try driver.codec.encode(kind: .eventBatch, payload: p, into: &scratch)
            _ = try driver.codec.decode(from: &scratch)
        }
    }
    var decoded = EventBatch(types: RequestEvents.types)
    let decodeOnly = try stageRate(iterations) {
        for p in payloads { _ = try decoder.decode(p, schema: RequestEvents.types, into: &decoded) }
    }
    var sink = [UInt8](repeating: 0, count: payloads.map(\.readableBytes).max() ?? 0)
    let memcpyFloor = stageRate(iterations) {
        for p in payloads {
            p.withUnsafeReadableBytes { src in sink.withUnsafeMutableBytes { $0.copyMemory(from: src) } }
        }
    }
    let full = try stageRate(iterations) { try driver.round() }
    func f(_ x: Double) -> String { String(Double(Int(x * 100)) / 100) }
    print("codec (M events/s, p50 of \(iterations)): encode+LZ4+decode \(f(full)) | encode \(f(encodeOnly)) | LZ4 frame+unframe \(f(lz4Only)) | decode \(f(decodeOnly)) | memcpy of the payload bytes \(f(memcpyFloor))")
    print("codec bytes/event: payload \(f(Double(payloadBytes) / Double(Shape.eventsPerIteration))), on the wire (LZ4) \(f(Double(frameBytes) / Double(Shape.eventsPerIteration)))")
}
