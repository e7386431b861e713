import NIOCore
import SluiceCore
import SluiceWire
import Workloads

/// The partitioner's per-event work without the network: hash `userTenantDomain` (attribute 13),
/// pick a destination from the partition map, and re-batch the rows per destination
/// (columnar gather), on batches as a partitioner node holds them (decoded from the wire, string
/// columns in dictionary form). With `wire`, each batch is also decoded from its frame first and
/// every per-destination part encoded again, as the node does.
final class PartitionDriver {
    let batches: [EventBatch]
    let map = PartitionMap(destinations: ["g1", "g2"])
    let keyColumn = 12
    var frames: [ByteBuffer] = []
    var decoder = BatchDecoder()
    var encoders = [BatchEncoder(), BatchEncoder()]
    var decoded = EventBatch(types: RequestEvents.types)
    var out = ByteBuffer()
    var routed = 0

    init() throws {
        var encoder = BatchEncoder()
        for (i, b) in (0..<Shape.batchesPerIteration).map({ RequestEvents.batch($0) }).enumerated() {
            var payload = ByteBuffer()
            try encoder.encode(b, header: BatchHeader(streamID: 1, producerID: 1, sequence: UInt64(i + 1)), into: &payload)
            frames.append(payload)
        }
        batches = try frames.map { try BatchCodec.decode($0, schema: RequestEvents.types).batch }
    }

    func split(_ batch: EventBatch) -> [EventBatch] {
        map.rowsByDestination(of: batch.columns[keyColumn], rows: Array(0..<batch.count)).map { batch.gather($0) }
    }

    func round(wire: Bool) throws {
        for i in batches.indices {
            if wire {
                _ = try decoder.decode(frames[i], schema: RequestEvents.types, into: &decoded)
                for (d, part) in split(decoded).enumerated() {
                    out.clear()
                    try encoders[d].encode(part, header: BatchHeader(streamID: 1, producerID: 2, sequence: UInt64(i + 1)), into: &out)
                    routed += part.count
                }
            } else {
                for part in split(batches[i]) { routed += part.count }
            }
        }
    }
}

@inline(never)
func partitionMeasuredRounds(_ driver: PartitionDriver, _ n: Int, wire: Bool) throws {
    for _ in 0..<n { try driver.round(wire: wire) }
}

func runPartition(iterations: Int, wire: Bool, timed: Bool) throws {
    let driver = try PartitionDriver()
    for _ in 0..<2 { try driver.round(wire: wire) }
    if !timed {
        try partitionMeasuredRounds(driver, iterations, wire: wire)
        print("partition: routed \(driver.routed) rows")
        return
    }
    var rates: [Double] = []
    for _ in 0..<iterations {
        let t0 = ContinuousClock.now
        try driver.round(wire: wire)
        let d = ContinuousClock.now - t0
        let ns = Double(d.components.seconds) * 1e9 + Double(d.components.attoseconds) / 1e9
        rates.append(Double(Shape.eventsPerIteration) / ns * 1e3)
    }
    rates.sort()
    print("partition\(wire ? " (decode + route + encode)" : " (route + re-batch)"): M events/s min \(rates.first!) p50 \(rates[rates.count / 2]) max \(rates.last!)")
}
