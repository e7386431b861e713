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

func runCodec(iterations: Int, timed: Bool) throws {
    let driver = CodecDriver()
    for _ in 0..<2 { try driver.round() }
    if !timed {
        try codecMeasuredRounds(driver, iterations)
        print("codec: \(iterations) rounds, decoded \(driver.decoded.count) events in the last batch")
        return
    }
    var rates: [Double] = []
    for _ in 0..<iterations {
        let t0 = ContinuousClock.now
        try driver.round()
        let d = ContinuousClock.now - t0
        let ns = Double(d.components.seconds) * 1e9 + Double(d.components.attoseconds) / 1e9
        rates.append(Double(Shape.eventsPerIteration) / ns * 1e3)
    }
    rates.sort()
    print("codec: M events/s min \(rates.first!) p50 \(rates[rates.count / 2]) max \(rates.last!)")
}
