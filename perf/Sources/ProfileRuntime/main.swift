#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif
import Workloads

// Usage:
//   ProfileRuntime check                      output counts of every workload (fresh runtimes)
//   ProfileRuntime time [iterations]          events/s (min/p50/max) per workload, no harness
//   ProfileRuntime <workload> [iterations]    run one workload, e.g. under valgrind --tool=callgrind
// Workloads: filter externalTimeBatch groupBy1000 timeWindow lengthBatch

func usage() -> Never {
    print("usage: ProfileRuntime check | time [iterations] | <\(Workload.allCases.map(\.rawValue).joined(separator: "|"))> [iterations]")
    exit(2)
}

let args = CommandLine.arguments.dropFirst()
guard let command = args.first else { usage() }
let iterations = args.dropFirst().first.flatMap { Int($0) }

switch command {
case "check":
    for w in Workload.allCases {
        do {
            let r = try check(w)
            print("\(w.rawValue): ok, \(r.rows) rows in \(r.chunks) chunks")
        } catch {
            print("\(w.rawValue): FAILED: \(error)")
        }
    }
case "time":
    let n = iterations ?? 30
    for w in Workload.allCases {
        let driver = try Driver(w)
        var rates: [Double] = []
        for i in 0..<(n + 3) {
            driver.advance()
            let t0 = ContinuousClock.now
            try driver.sendAll()
            let d = ContinuousClock.now - t0
            let ns = Double(d.components.seconds) * 1e9 + Double(d.components.attoseconds) / 1e9
            if i >= 3 { rates.append(Double(Shape.eventsPerIteration) / ns * 1e3) } // M events/s
        }
        rates.sort()
        func f(_ x: Double) -> String { String(Int((x * 100).rounded())).paddedMillions }
        print("\(w.rawValue): M events/s min \(f(rates.first!)) p50 \(f(rates[rates.count / 2])) max \(f(rates.last!))")
    }
default:
    guard let w = Workload(rawValue: command) else { usage() }
    let driver = try Driver(w)
    for _ in 0..<(iterations ?? 20) {
        driver.advance()
        try driver.sendAll()
    }
    print("\(w.rawValue): \(driver.counter.rows) rows out")
}

extension String {
    /// "1234" (hundredths) -> "12.34"
    var paddedMillions: String {
        let s = count < 3 ? String(repeating: "0", count: 3 - count) + self : self
        return s.dropLast(2) + "." + s.suffix(2)
    }
}
