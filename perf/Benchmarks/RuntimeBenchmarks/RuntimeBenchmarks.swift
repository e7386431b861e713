import Benchmark
import SluiceCore
import SluiceRuntime
import Workloads

// Every iteration sends the same 100 prebuilt batches of 1,024 events (102,400 events) into one
// long-lived runtime, so windows and group tables are measured in steady state. Between iterations,
// outside the measured region, the batches' timestamps and `ts` column move forward by 102,400 ms
// so that event time keeps increasing. The engine is single-threaded: one runtime, one thread.
//
// Reported per iteration: wall clock, throughput (iterations/s), mallocCountTotal, and the custom
// metric "events/s" = 102,400 / the measured wall time of the iteration.

let eventsPerSecondMetric = BenchmarkMetric.custom("events/s", polarity: .prefersLarger, useScalingFactor: false)

let benchmarks: @Sendable () -> Void = {
    Benchmark.defaultConfiguration = .init(
        metrics: [.wallClock, .throughput, .mallocCountTotal, eventsPerSecondMetric],
        timeUnits: .microseconds,
        warmupIterations: 3,
        maxDuration: .seconds(3),
        maxIterations: 2_000
    )

    // The C-like baseline: the same in-memory arrays, the same filter, a plain loop that counts.
    Benchmark("0 baseline plain Swift loop: count responseTime>500") { (benchmark: Benchmark, columns: [[Int64]]) in
        benchmark.startMeasurement()
        let t0 = ContinuousClock.now
        var n = 0
        for column in columns {
            column.withUnsafeBufferPointer { p in
                for v in p where v > 500 { n &+= 1 }
            }
        }
        blackHole(n)
        let t1 = ContinuousClock.now
        benchmark.stopMeasurement()
        benchmark.measurement(eventsPerSecondMetric, eventsPerSecond(t1 - t0))
    } setup: {
        makeBatches(for: .filter).map { $0.columns[2].longs }
    }

    for (index, workload) in Workload.allCases.enumerated() {
        Benchmark("\(index + 1) \(workload.title)") { (benchmark: Benchmark, driver: Driver) in
            driver.advance()
            benchmark.startMeasurement()
            let t0 = ContinuousClock.now
            do {
                try driver.sendAll()
            } catch {
                benchmark.error("send failed: \(error)")
            }
            let t1 = ContinuousClock.now
            benchmark.stopMeasurement()
            benchmark.measurement(eventsPerSecondMetric, eventsPerSecond(t1 - t0))
            blackHole(driver.counter.rows)
        } setup: { () throws -> Driver in
            // Output-count check on a separate runtime, outside any measurement (for time(1 min):
            // one output per input event).
            try check(workload)
            return try Driver(workload)
        }
    }
}
