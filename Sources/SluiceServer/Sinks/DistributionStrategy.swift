import SluiceCore

/// `@distribution(strategy=…)`: how a sink spreads a stream's events over its destinations.
enum DistributionStrategy: Sendable, Equatable {
    /// Event by event over the destinations that are up.
    case roundRobin
    /// Every event with the same value of column `keyColumn` goes to the same destination.
    case partitioned(keyColumn: Int, map: PartitionMap)
    /// Every event to every destination.
    case broadcast

    var name: String {
        switch self {
        case .roundRobin: "roundRobin"
        case .partitioned: "partitioned"
        case .broadcast: "broadcast"
        }
    }
}

/// Siddhi's `on.error` choices: what a sink does with events a destination does not take.
enum SinkErrorAction: String, Sendable, Equatable, CaseIterable {
    /// Log and drop after the retries.
    case log = "LOG"
    /// Keep retrying; when the buffer is full the engine waits (the default: nothing is lost).
    case wait = "WAIT"
    /// After the retries, send the events to the stream's fault stream `!Stream`.
    case stream = "STREAM"
}

/// Splits a batch's rows over destinations, columnar: row indices per destination, no per-event objects.
struct DistributionRouter: Sendable, Equatable {
    let strategy: DistributionStrategy
    let destinationCount: Int
    /// Round-robin position; wraps, so it never overflows however many events pass.
    var nextRoundRobin: UInt64

    init(strategy: DistributionStrategy, destinationCount: Int, roundRobinStart: UInt64 = 0) {
        self.strategy = strategy
        self.destinationCount = destinationCount
        self.nextRoundRobin = roundRobinStart
    }

    /// The rows of `batch` each destination gets (current events only: a sink publishes arrivals,
    /// not a window's expiries). `live` lists the destinations round-robin may use.
    /// `whole`: round robin hands the whole batch to the next destination instead of event by event.
    mutating func route(_ batch: EventBatch, live: [Int], whole: Bool = false) -> [[Int]] {
        var rows = [[Int]](repeating: [], count: destinationCount)
        let current: [Int]
        if batch.isAllCurrent {
            current = Array(0..<batch.count)
        } else {
            current = (0..<batch.count).filter { batch.kinds[$0] == .current }
        }
        guard !current.isEmpty else { return rows }
        switch strategy {
        case .broadcast:
            for d in 0..<destinationCount { rows[d] = current }
        case .partitioned(let keyColumn, let map):
            rows = map.rowsByDestination(of: batch.columns[keyColumn], rows: current)
        case .roundRobin where whole:
            let targets = live.isEmpty ? Array(0..<destinationCount) : live
            rows[targets[Int(nextRoundRobin % UInt64(targets.count))]] = current
            nextRoundRobin &+= 1
        case .roundRobin:
            let targets = live.isEmpty ? Array(0..<destinationCount) : live
            let n = UInt64(targets.count)
            var position = nextRoundRobin
            for row in current {
                rows[targets[Int(position % n)]].append(row)
                position &+= 1
            }
            nextRoundRobin = position
        }
        return rows
    }
}
