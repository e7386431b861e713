import Benchmark
import NIOCore
import SluiceCore
import SluiceWire
import Workloads

// The wire codec on seed-style Request batches (17 attributes, 1,024 events per batch, 100 batches
// per iteration): encode each batch, frame it with LZ4, decode the frame, decode the batch. One core.

let eventsPerSecondMetric = BenchmarkMetric.custom("events/s", polarity: .prefersLarger, useScalingFactor: false)
let wireBytesMetric = BenchmarkMetric.custom("wire bytes/event x100", polarity: .prefersSmaller, useScalingFactor: false)

let benchmarks: @Sendable () -> Void = {
    Benchmark.defaultConfiguration = .init(
        metrics: [.wallClock, .mallocCountTotal, eventsPerSecondMetric, wireBytesMetric],
        timeUnits: .microseconds,
        warmupIterations: 3,
        maxDuration: .seconds(3),
        maxIterations: 1_000
    )

    Benchmark("codec encode+LZ4+decode Request (17 attributes)") { (benchmark: Benchmark, batches: [EventBatch]) in
        let types = RequestEvents.types
        let codec = FrameCodec()
        var encoder = BatchEncoder()
        var decoder = BatchDecoder()
        var payload = ByteBuffer()
        var frame = ByteBuffer()
        var decoded = EventBatch(types: types)
        var wireBytes = 0
        benchmark.startMeasurement()
        let t0 = ContinuousClock.now
        do {
            for (i, b) in batches.enumerated() {
                payload.clear()
                frame.clear()
                try encoder.encode(b, header: BatchHeader(streamID: 1, producerID: 1, sequence: UInt64(i + 1)), into: &payload)
                try codec.encode(kind: .eventBatch, payload: payload, into: &frame)
                wireBytes += frame.readableBytes
                guard let f = try codec.decode(from: &frame) else { fatalError("the frame did not decode") }
                _ = try decoder.decode(f.payload, schema: types, into: &decoded)
            }
        } catch {
            benchmark.error("codec failed: \(error)")
        }
        let t1 = ContinuousClock.now
        benchmark.stopMeasurement()
        benchmark.measurement(eventsPerSecondMetric, eventsPerSecond(t1 - t0))
        benchmark.measurement(wireBytesMetric, wireBytes * 100 / Shape.eventsPerIteration)
        blackHole(decoded.count)
    } setup: {
        (0..<Shape.batchesPerIteration).map { RequestEvents.batch($0) }
    }

    // The partitioner's per-event work (issue 4): hash userTenantDomain, look up its destination
    // among two, and re-batch the rows per destination (columnar gather), on batches as a
    // partitioner node holds them: decoded from the wire, string columns in dictionary form.
    // No network, no engine.
    Benchmark("partitioner route + re-batch Request over 2 destinations") { (benchmark: Benchmark, batches: [EventBatch]) in
        let map = PartitionMap(destinations: ["g1", "g2"])
        var routed = 0
        benchmark.startMeasurement()
        let t0 = ContinuousClock.now
        for batch in batches {
            for part in map.rowsByDestination(of: batch.columns[12], rows: Array(0..<batch.count)) {
                routed += batch.gather(part).count
            }
        }
        let t1 = ContinuousClock.now
        benchmark.stopMeasurement()
        benchmark.measurement(eventsPerSecondMetric, eventsPerSecond(t1 - t0))
        blackHole(routed)
    } setup: {
        try (0..<Shape.batchesPerIteration).enumerated().map { i, n in
            var payload = ByteBuffer()
            try BatchCodec.encode(RequestEvents.batch(n), header: BatchHeader(streamID: 1, producerID: 1, sequence: UInt64(i + 1)), into: &payload)
            return try BatchCodec.decode(payload, schema: RequestEvents.types).batch
        }
    }
}
