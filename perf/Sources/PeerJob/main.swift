import Foundation
import SluiceClient
import SluiceCore
import SluiceRuntime

// The peers' job (perf/peers/README.md) in Sluice's embedded engine, events in memory as the peers
// have them: `PeerJob --events N --job window|filter [--batch 1024]`. Prints one JSON line in the
// peers' format; `canonical` holds the result in the form perf/peers/reference.py hashes.

let stream = "define stream Request (tenant string, ts long, responseTime long);\n"
let apps = [
    // `ts` outside an aggregate is the group's last event, which names the window it closed.
    "window": stream + "from Request#window.externalTimeBatch(ts, 1000 sec) select tenant, ts, count() as n, avg(responseTime) as avgRt group by tenant insert into Out;",
    "filter": stream + "from Request[responseTime > 500] select tenant, ts, responseTime insert into Out;",
]

func option(_ name: String, _ fallback: String) -> String {
    let args = CommandLine.arguments
    guard let i = args.firstIndex(of: name), i + 1 < args.count else { return fallback }
    return args[i + 1]
}

let events = Int(option("--events", "20000000"))!
let job = option("--job", "window")
let batchSize = Int(option("--batch", "1024"))!
guard let app = apps[job] else {
    FileHandle.standardError.write(Data("--job is window or filter\n".utf8))
    exit(2)
}

// Built before the clock starts, as the peers' generators are not timed apart from Flink's.
var batches: [EventBatch] = []
batches.reserveCapacity(events / batchSize + 2)
var first = 0
while first < events {
    let last = min(events, first + batchSize)
    batches.append(ResponseTimeGenerator.batch(first..<last))
    first = last
}
// The window job flushes its last window with one event at the next window's start, which opens a
// window that never closes.
let windowLength: Int64 = 1_000_000
let lastTs = ResponseTimeGenerator.timestamp(ofEvent: max(0, events - 1))
let flushTs = (lastTs / windowLength + 1) * windowLength
let flush = EventBatch(timestamps: [flushTs], columns: [Column(strings: ["flush"]), Column(longs: [flushTs]), Column(longs: [0])])

final class Collected {
    var rows = 0
    var sum: Int64 = 0
    var lines: [String] = []
}
let collected = Collected()
let runtime = try AppRuntime(source: app)
if job == "window" {
    try runtime.addCallback(stream: "Out") { batch in
        for r in 0..<batch.count {
            let ts = batch.columns[1].longs[r]
            let tenant = batch.columns[0].strings[r]
            let n = batch.columns[2].longs[r]
            let avg = batch.columns[3].doubles[r]
            collected.lines.append("\(ts - ts % windowLength),\(tenant),\(n),\(String(format: "%.6f", avg))")
        }
    }
} else {
    try runtime.addCallback(stream: "Out") { batch in
        collected.rows += batch.count
        for v in batch.columns[2].longs { collected.sum &+= v }
    }
}

let clock = ContinuousClock()
let started = clock.now
for batch in batches { try runtime.send(batch, to: "Request") }
if job == "window" { try runtime.send(flush, to: "Request") }
let seconds = (clock.now - started) / .seconds(1)

let result: [String: Any] = job == "window"
    ? ["rows": collected.lines.count, "canonical": collected.lines.sorted().joined(separator: "\n")]
    : ["rows": collected.rows, "sumResponseTime": collected.sum]
let line: [String: Any] = [
    "peer": "sluice", "config": "embedded engine, one thread, batches of \(batchSize)", "job": job, "events": events,
    "seconds": (seconds * 1000).rounded() / 1000, "eventsPerSecond": Int(Double(events) / seconds), "result": result,
]
let json = try JSONSerialization.data(withJSONObject: line, options: [.sortedKeys])
print(String(decoding: json, as: UTF8.self))
