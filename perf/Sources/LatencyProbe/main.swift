import Foundation
import Histogram
import SluiceClient
import SluiceCore
import SluiceServer

// Send → subscriber latency through a node on loopback, at a fixed event rate.
// Usage: LatencyProbe [eventsPerSecond] [seconds] [batch]
// Open loop: each batch is due at a fixed time, and its events carry that due time (ns of the
// monotonic clock), not the time it actually left: a sender held up by back-pressure cannot hide the
// wait (no coordinated omission). The subscriber records arrival minus due time in an HDR histogram.

let args = CommandLine.arguments.dropFirst().compactMap { Int($0) }
let rate = args.count > 0 ? args[0] : 500_000
let seconds = args.count > 1 ? args[1] : 5
let batchSize = args.count > 2 ? args[2] : 256

let app = """
@source(type='tcp', @map(type='binary'))
define stream Probe (sentNanos long, tenant string);
from Probe select sentNanos, tenant insert into Seen;
"""

func nowNanos() -> Int64 {
    var ts = timespec()
    clock_gettime(CLOCK_MONOTONIC, &ts)
    return Int64(ts.tv_sec) * 1_000_000_000 + Int64(ts.tv_nsec)
}

let node = try Node(configuration: NodeConfiguration(port: 0, appSource: app))
let port = try await node.start()
let endpoint = Endpoint(host: "127.0.0.1", port: port)
let subscriber = Subscriber(endpoint: endpoint, stream: "Seen", credit: 1024)
_ = try await subscriber.connect()
let total = rate * seconds
let collector = Task { () -> Histogram<UInt64> in
    // Nanoseconds up to a minute, three significant digits.
    var latencies = Histogram<UInt64>(highestTrackableValue: 60_000_000_000, numberOfSignificantValueDigits: .three)
    var seen = 0
    for try await batch in subscriber {
        let now = nowNanos()
        for r in 0..<batch.count { _ = latencies.record(UInt64(max(0, now - batch.columns[0].longs[r]))) }
        seen += batch.count
        if seen >= total { break }
    }
    return latencies
}

let producer = try Producer(endpoints: [endpoint], streams: [EventSchema("Probe", [("sentNanos", .long), ("tenant", .string)])],
                            linger: .milliseconds(1), maxInFlight: 16)
try await producer.connect()
let interval = Double(batchSize) / Double(rate)
let start = nowNanos()
var sent = 0
while sent < total {
    // Pace batches on the monotonic clock so the rate holds on average.
    let due = start + Int64(Double(sent / batchSize) * interval * 1e9)
    let wait = due - nowNanos()
    if wait > 0 { try await Task.sleep(nanoseconds: UInt64(wait)) }
    var b = EventBatch(types: [.long, .string], capacity: batchSize)
    let stamp = due
    for i in 0..<batchSize { b.append(timestamp: Int64(sent + i), values: [.long(stamp), .string("tenant\((sent + i) % 50)")]) }
    try await producer.enqueue(stream: "Probe", batch: b)
    sent += batchSize
}
try await producer.flush()
let elapsed = Double(nowNanos() - start) / 1e9
let latencies = try await collector.value
let ms = { (p: Double) -> Double in Double(latencies.valueAtPercentile(p)) / 1e6 }
print(String(format: "{\"events\":%d,\"rate\":%.0f,\"batch\":%d,\"p50_ms\":%.3f,\"p99_ms\":%.3f,\"p999_ms\":%.3f,\"max_ms\":%.3f}",
             Int(latencies.totalCount), Double(sent) / elapsed, batchSize, ms(50), ms(99), ms(99.9), Double(latencies.max) / 1e6))
await producer.close()
await subscriber.close()
try await node.shutdown()
