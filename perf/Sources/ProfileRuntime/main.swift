#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif
import Workloads

// Usage:
//   ProfileRuntime check                      output counts of every workload (fresh runtimes)
//   ProfileRuntime time [iterations] [--json] events/s (min/p50/max) per workload, no harness; with
//                                             --json one JSON line each, plus the plain-loop baseline
//   ProfileRuntime <workload> [iterations] [warmup]
//                                             run one workload: `warmup` iterations (default 2), then
//                                             `iterations` (default 3) in measuredRounds(), so that
//                                             valgrind --tool=callgrind --toggle-collect='*measuredRounds*'
//                                             counts the steady state only
// Workloads: filter externalTimeBatch groupBy1000 timeWindow lengthBatch

func usage() -> Never {
    print("usage: ProfileRuntime check | time [iterations] | <\(Workload.allCases.map(\.rawValue).joined(separator: "|"))> [iterations] [warmup]")
    exit(2)
}

let args = CommandLine.arguments.dropFirst()
guard let command = args.first else { usage() }
let iterations = args.dropFirst().first.flatMap { Int($0) }

switch command {
case "check":
    var failed = false
    for w in Workload.allCases {
        do {
            let r = try check(w)
            print("\(w.rawValue): ok, \(r.rows) rows in \(r.chunks) chunks")
        } catch {
            print("\(w.rawValue): FAILED: \(error)")
            failed = true
        }
    }
    if failed { exit(1) }
case "time":
    let n = iterations ?? 30
    let json = args.contains("--json")
    if json { print(baselineJSON(iterations: n)) }
    for w in Workload.allCases {
        let driver = try Driver(w)
        var rates: [Double] = []
        var totalNs = 0.0
        for i in 0..<(n + 3) {
            driver.advance()
            let t0 = ContinuousClock.now
            try driver.sendAll()
            let d = ContinuousClock.now - t0
            let ns = Double(d.components.seconds) * 1e9 + Double(d.components.attoseconds) / 1e9
            if i >= 3 {
                rates.append(Double(Shape.eventsPerIteration) / ns * 1e3) // M events/s
                totalNs += ns
            }
        }
        let overall = Double(n * Shape.eventsPerIteration) / totalNs * 1e3
        rates.sort()
        func f(_ x: Double) -> String { String(Int((x * 100).rounded())).paddedMillions }
        if json {
            print("{\"workload\":\"\(w.rawValue)\",\"title\":\"\(w.title)\",\"p50EventsPerSecond\":\(Int(rates[rates.count / 2] * 1e6)),\"overallEventsPerSecond\":\(Int(overall * 1e6))}")
            continue
        }
        print("\(w.rawValue): M events/s min \(f(rates.first!)) p50 \(f(rates[rates.count / 2])) max \(f(rates.last!)), overall (all events / all time) \(f(overall))")
    }
case "codec":
    try runCodec(iterations: iterations ?? 30, timed: true)
case "partition":
    try runPartition(iterations: iterations ?? 30, wire: false, timed: true)
    try runPartition(iterations: iterations ?? 30, wire: true, timed: true)
case "partition-profile":
    try runPartition(iterations: iterations ?? 5, wire: false, timed: false)
case "seed-node":
    try runSeedNode(.seedNode, iterations: iterations ?? 10, timed: true)
case "seed-node-profile":
    try runSeedNode(.seedNode, iterations: iterations ?? 2, timed: false)
case "tenant-stats":
    try runSeedNode(.tenantStats, iterations: iterations ?? 10, timed: true)
case "tenant-stats-profile":
    try runSeedNode(.tenantStats, iterations: iterations ?? 2, timed: false)
case "codec-profile":
    try runCodec(iterations: iterations ?? 5, timed: false)
default:
    guard let w = Workload(rawValue: command) else { usage() }
    let driver = try Driver(w)
    let warmup = args.dropFirst(2).first.flatMap { Int($0) } ?? 2
    try warmupRounds(driver, warmup)
    let measured = try measuredRounds(driver, iterations ?? 3)
    print("\(w.rawValue): \(measured) rows out in the measured rounds")
    print("\(w.rawValue): \(driver.counter.rows) rows out in total")
}

/// The plain loop of RuntimeBenchmarks' baseline: count `responseTime > 500` over the same columns.
func baselineJSON(iterations: Int) -> String {
    let columns = makeBatches(for: .filter).map { $0.columns[2].longs }
    var best = 0.0
    var total = 0
    for _ in 0..<iterations {
        let t0 = ContinuousClock.now
        total &+= countAbove500(columns)
        let d = ContinuousClock.now - t0
        let ns = Double(d.components.seconds) * 1e9 + Double(d.components.attoseconds) / 1e9
        best = max(best, Double(Shape.eventsPerIteration) / ns * 1e9)
    }
    return "{\"workload\":\"baseline\",\"title\":\"plain Swift loop: count responseTime>500\",\"p50EventsPerSecond\":\(Int(best)),\"check\":\(total)}"
}

@inline(never)
func countAbove500(_ columns: [[Int64]]) -> Int {
    var n = 0
    for c in columns { for v in c where v > 500 { n += 1 } }
    return n
}

extension String {
    /// "1234" (hundredths) -> "12.34"
    var paddedMillions: String {
        let s = count < 3 ? String(repeating: "0", count: 3 - count) + self : self
        return s.dropLast(2) + "." + s.suffix(2)
    }
}

@inline(never)
func warmupRounds(_ driver: Driver, _ n: Int) throws {
    for _ in 0..<n {
        driver.advance()
        try driver.sendAll()
    }
}

@inline(never)
func measuredRounds(_ driver: Driver, _ n: Int) throws -> Int {
    let before = driver.counter.rows
    for _ in 0..<n {
        driver.advance()
        try driver.sendAll()
    }
    return driver.counter.rows - before
}
