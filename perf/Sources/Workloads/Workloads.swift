import SluiceClient
import SluiceCore
import SluiceRuntime

/// The shape of every workload: 100 batches of 1,024 events, built before anything is measured.
public enum Shape {
    public static let batchSize = 1_024
    public static let batchesPerIteration = 100
    public static let eventsPerIteration = batchSize * batchesPerIteration // 102,400
    public static let baseTimestamp: Int64 = 1_700_000_000_000
    /// Event i has timestamp base + i ms, so one iteration covers this many ms of event time.
    public static let span = Int64(eventsPerIteration)
}

public func tenant(ofEvent i: Int) -> Int { ResponseTimeGenerator.tenant(ofEvent: i) }
public func responseTime(ofEvent i: Int) -> Int64 { ResponseTimeGenerator.responseTime(ofEvent: i) }

/// One of the measured queries.
public enum Workload: String, CaseIterable, Sendable {
    case filter
    case externalTimeBatch
    case groupBy1000
    case timeWindow
    case lengthBatch
    case join
    case pattern
    case aggregation

    public static let requestStream = "define stream Request (tenant string, ts long, responseTime long);"
    public static let keyedStream = "define stream Keyed (key long, ts long, responseTime long);"

    public var query: String {
        switch self {
        case .filter:
            "from Request[responseTime > 500] select tenant, responseTime insert into Out;"
        case .externalTimeBatch:
            "from Request#window.externalTimeBatch(ts, 1000 sec) select tenant, count() as n, avg(responseTime) as avgRt group by tenant insert into Out;"
        case .groupBy1000:
            "from Keyed select key, sum(responseTime) as total, count() as n group by key insert into Out;"
        case .timeWindow:
            "from Request#window.time(1 min) select tenant, avg(responseTime) as avgRt, count() as n group by tenant insert into Out;"
        case .lengthBatch:
            "from Request#window.lengthBatch(1000) select sum(responseTime) as total insert into Out;"
        case .pattern:
            """
            partition with (tenant of Request)
            begin
                from every e1=Request[responseTime > 500] -> e2=Request[responseTime < 100] within 1 min
                select e1.tenant as tenant, e1.responseTime as slow, e2.responseTime as fast insert into Out;
            end;
            """
        case .aggregation:
            """
            define stream Out (tenant string);
            define aggregation RequestAgg from Request
            select tenant, avg(responseTime) as avgRt, max(responseTime) as maxRt, count() as n
            group by tenant aggregate by ts every sec ... day;
            """
        case .join:
            """
            from Request#window.length(\(Self.joinWindow)) as a join Other#window.length(\(Self.joinWindow)) as b on a.tenant == b.tenant
            select a.tenant, a.responseTime as rtA, b.responseTime as rtB insert into Out;
            """
        }
    }

    /// The join's window on each side; batches alternate between its two streams.
    public static let joinWindow = 10
    public static let otherStream = "define stream Other (tenant string, ts long, responseTime long);"

    public var stream: String { self == .groupBy1000 ? "Keyed" : "Request" }
    public var app: String {
        (self == .groupBy1000 ? Self.keyedStream : Self.requestStream) + "\n" + (self == .join ? Self.otherStream + "\n" : "") + query
    }

    /// The stream batch `index` goes to.
    public func stream(ofBatch index: Int) -> String { self == .join && index % 2 == 1 ? "Other" : stream }

    /// time(1 min) is measured with Siddhi's per-event semantics: one output per input event.
    public var eachEventIsAChunk: Bool { self == .timeWindow }

    public var title: String {
        switch self {
        case .filter: "filter responseTime>500"
        case .externalTimeBatch: "externalTimeBatch(ts,1000 sec) per tenant count+avg"
        case .groupBy1000: "group by 1000 keys sum+count"
        case .timeWindow: "time(1 min) per tenant avg+count, per event"
        case .lengthBatch: "lengthBatch(1000) sum"
        case .join: "join length(10) both sides on tenant"
        case .pattern: "every A -> B within 1 min per tenant"
        case .aggregation: "aggregation by ts every sec...day per tenant avg+max+count"
        }
    }
}

/// The 100 prebuilt batches of a workload: events 0 ..< 102,400.
public func makeBatches(for workload: Workload) -> [EventBatch] {
    (0..<Shape.batchesPerIteration).map { b in
        let first = b * Shape.batchSize
        let range = first..<(first + Shape.batchSize)
        guard workload == .groupBy1000 else { return ResponseTimeGenerator.batch(range) }
        let timestamps = range.map { Shape.baseTimestamp + Int64($0) }
        return EventBatch(timestamps: timestamps, columns: [
            Column(longs: range.map { Int64($0 % 1_000) }), Column(longs: timestamps), Column(longs: range.map(responseTime(ofEvent:))),
        ])
    }
}

/// Counts the rows published on `Out`.
public final class Counter {
    public var rows = 0
    public var chunks = 0
    public init() {}
}

/// One deployed workload, kept across iterations so that windows and groups are in steady state.
public final class Driver {
    public let workload: Workload
    public let runtime: AppRuntime
    public let counter = Counter()
    public private(set) var batches: [EventBatch]
    public private(set) var iteration = 0

    public init(_ workload: Workload, batches: [EventBatch]? = nil) throws {
        self.workload = workload
        self.batches = batches ?? makeBatches(for: workload)
        runtime = try AppRuntime(source: workload.app)
        let counter = self.counter
        try runtime.addCallback(stream: "Out") { batch in
            counter.rows += batch.count
            counter.chunks += 1
        }
    }

    /// Moves every prebuilt batch one iteration forward in event time (timestamps and the `ts`
    /// attribute), so that time keeps increasing. Not measured.
    public func advance() {
        guard iteration > 0 else {
            iteration = 1
            return
        }
        iteration += 1
        for b in batches.indices {
            batches[b].timestamps.withUnsafeMutableBufferPointer { p in
                for i in p.indices { p[i] &+= Shape.span }
            }
            batches[b].columns[1].longs.withUnsafeMutableBufferPointer { p in
                for i in p.indices { p[i] &+= Shape.span }
            }
        }
    }

    /// Sends the 100 batches: the measured part.
    @inline(__always)
    public func sendAll() throws {
        let perEvent = workload.eachEventIsAChunk
        for (index, batch) in batches.enumerated() {
            try runtime.send(batch, to: workload.stream(ofBatch: index), eachEventIsAChunk: perEvent)
        }
    }
}

public struct CheckFailure: Error, CustomStringConvertible {
    public var description: String
    public init(_ description: String) { self.description = description }
}

/// A run of `iterations` iterations on a fresh runtime, outside any measurement: the output row
/// count, checked where the expected count is known exactly.
@discardableResult
public func check(_ workload: Workload) throws -> (rows: Int, chunks: Int) {
    // externalTimeBatch(ts, 1000 sec) closes a window every 1,000,000 ms of event time, ~9.8 iterations.
    let iterations = workload == .externalTimeBatch ? 12 : 2
    let driver = try Driver(workload)
    for _ in 0..<iterations {
        driver.advance()
        try driver.sendAll()
    }
    let inputs = iterations * Shape.eventsPerIteration
    let rows = driver.counter.rows
    switch workload {
    case .filter:
        var expected = 0
        for i in 0..<Shape.eventsPerIteration where responseTime(ofEvent: i) > 500 { expected += 1 }
        expected *= iterations
        guard rows == expected else { throw CheckFailure("filter: \(rows) rows out, expected \(expected)") }
    case .timeWindow:
        guard rows == inputs else { throw CheckFailure("time(1 min) per event: \(rows) rows out for \(inputs) events in") }
    case .lengthBatch:
        guard rows == inputs / 1_000 else { throw CheckFailure("lengthBatch(1000): \(rows) rows out, expected \(inputs / 1_000)") }
    case .groupBy1000:
        // One result per group per chunk: every batch of 1,024 touches all 1,000 keys.
        let expected = iterations * Shape.batchesPerIteration * 1_000
        guard rows == expected else { throw CheckFailure("group by 1000 keys: \(rows) rows out, expected \(expected)") }
    case .join:
        // Batches alternate sides; a batch's events each find the other side's last 10 events
        // of its latest batch with their tenant (its expired rows join too, but are not output).
        var expected = 0
        var windows: [[Int]] = [[], []]
        for _ in 0..<iterations {
            for b in 0..<Shape.batchesPerIteration {
                let side = b % 2
                let first = b * Shape.batchSize
                for i in first..<(first + Shape.batchSize) {
                    expected += windows[1 - side].filter { $0 == tenant(ofEvent: i) }.count
                }
                windows[side] = (first + Shape.batchSize - Workload.joinWindow..<first + Shape.batchSize).map(tenant(ofEvent:))
            }
        }
        guard rows == expected else { throw CheckFailure("join: \(rows) rows out, expected \(expected)") }
    case .pattern:
        // Per tenant: each slow event (> 500 ms) waits for the tenant's next fast one (< 100 ms) within
        // a minute of event time; a fast event completes every slow one waiting.
        var expected = 0
        var waiting: [Int: [Int64]] = [:]
        for iteration in 0..<iterations {
            for i in 0..<Shape.eventsPerIteration {
                let ts = Shape.baseTimestamp + Int64(iteration) * Shape.span + Int64(i)
                let t = tenant(ofEvent: i), rt = responseTime(ofEvent: i)
                var pending = (waiting[t] ?? []).filter { ts - $0 <= 60_000 }
                if rt < 100 {
                    expected += pending.count
                    pending = []
                }
                if rt > 500 { pending.append(ts) }
                waiting[t] = pending
            }
        }
        guard rows == expected else { throw CheckFailure("pattern: \(rows) rows out, expected \(expected)") }
    case .aggregation:
        // Nothing is output; the per-minute buckets read back must count every event once, per tenant.
        let found = try driver.runtime.query("from RequestAgg within \(Shape.baseTimestamp - 86_400_000)L, \(Shape.baseTimestamp + 86_400_000)L "
                                             + "per 'minutes' select tenant, n")
        var counted: [String: Int64] = [:]
        for r in 0..<found.rows.count {
            guard case .string(let t) = found.rows.columns[0].value(at: r), case .long(let n) = found.rows.columns[1].value(at: r) else {
                throw CheckFailure("aggregation: unexpected row \(found.rows.values(at: r))")
            }
            counted[t, default: 0] += n
        }
        var expected: [String: Int64] = [:]
        for i in 0..<Shape.eventsPerIteration { expected[ResponseTimeGenerator.tenantNames[tenant(ofEvent: i)], default: 0] += Int64(iterations) }
        guard counted == expected else { throw CheckFailure("aggregation: per-tenant counts \(counted.count) tenants differ from \(expected.count)") }
        return (found.rows.count, driver.counter.chunks)
    case .externalTimeBatch:
        // 1,228,800 ms of events: the event at +1,000,000 ms closes the first window, one row per tenant.
        guard rows == 50 else { throw CheckFailure("externalTimeBatch: \(rows) rows out, expected 50") }
    }
    return (rows, driver.counter.chunks)
}

/// Events per second for `events` processed in `elapsed` (the benchmarks' custom metric).
public func eventsPerSecond(_ elapsed: Duration, events: Int = Shape.eventsPerIteration) -> Int {
    let (s, atto) = elapsed.components
    let ns = Double(s) * 1e9 + Double(atto) / 1e9
    return ns > 0 ? Int(Double(events) * 1e9 / ns) : 0
}
