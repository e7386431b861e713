import SluiceCore
import SluiceQL

/// One key's copy of a partition's queries, with its own state and inner streams.
final class PartitionInstance {
    let key: Value
    var junctions: [String: StreamJunction] = [:]
    var queries: [PlannedQuery] = []
    var lastActive: Int64

    init(key: Value, now: Int64) {
        self.key = key
        self.lastActive = now
    }

    var stateful: [Snapshottable] { queries.flatMap(\.stateful) }

    func rearm() {
        for q in queries {
            q.windows.forEach { $0.rearm() }
            q.rateLimiters.forEach { $0.rearm() }
            q.patterns.forEach { $0.rearm() }
        }
    }

    func tearDown() {
        for q in queries {
            for s in q.subscriptions { s.junction.unsubscribe(s.token) }
            q.windows.forEach { $0.releaseTimer() }
            q.rateLimiters.forEach { $0.releaseTimer() }
        }
    }
}

/// `partition with (key of S, …) begin … end`: routes each event to the instance of its key
/// (value partitions) or of every range it falls in (range partitions), creating instances on
/// first use. With `@purge`, instances idle for `idle.period` are dropped every `interval`.
final class PartitionRuntime: Snapshottable, TimeDriven {
    enum Router {
        case value(CompiledExpression)
        case ranges([(label: String, condition: CompiledExpression)])
    }

    let partition: Partition
    let context: ExecutionContext
    let scheduler: Scheduler
    private let routers: [String: Router]
    private let makeInstance: (Value) throws(Diagnostic) -> PartitionInstance
    private var instances: [Value: PartitionInstance] = [:]
    /// Instances in creation order: snapshots and broadcasts follow it.
    private var order: [PartitionInstance] = []
    private let purgeInterval: Int64?
    private let idlePeriod: Int64?
    private var nextPurge: Int64?
    private var timerID = -1
    /// Whether every query inside emits the same events whether a key's rows arrive as one chunk or
    /// as several (`PlannedQuery.outputIgnoresChunking`). Then each arriving batch is split once per
    /// key rather than into Siddhi's runs of consecutive equal keys, which on interleaved keys are
    /// one event long. Per key nothing changes; across keys, outputs of one batch follow the order
    /// in which the keys first appear in it.
    private let outputIgnoresChunking: Bool
    /// The same, when the sender made every event a chunk of its own.
    private let outputIgnoresChunkingPerEvent: Bool
    /// Per partitioned stream whose queries read only some attributes: which ones. The rest are
    /// not copied into the instances' batches.
    private let readAttributes: [String: [Bool]]

    init(partition: Partition, routers: [String: Router], global: [String: StreamJunction], context: ExecutionContext,
         scheduler: Scheduler, purge: (interval: Int64, idle: Int64)?, template: PartitionInstance,
         readAttributes: [String: [Bool]],
         makeInstance: @escaping (Value) throws(Diagnostic) -> PartitionInstance) {
        self.partition = partition
        self.readAttributes = readAttributes
        outputIgnoresChunking = template.queries.allSatisfy { $0.outputIgnoresChunking }
        outputIgnoresChunkingPerEvent = template.queries.allSatisfy { $0.rateLimiters.isEmpty }
        self.routers = routers
        self.context = context
        self.scheduler = scheduler
        self.makeInstance = makeInstance
        self.purgeInterval = purge?.interval
        self.idlePeriod = purge?.idle
        timerID = scheduler.register(self)
        for (stream, router) in routers {
            guard let junction = global[stream] else { continue }
            junction.subscribe { [unowned self] batch in self.route(stream: stream, router: router, batch: batch) }
        }
    }

    var instanceCount: Int { order.count }
    var splitsBatchesOncePerKey: Bool { outputIgnoresChunking }

    private func instance(for key: Value) -> PartitionInstance {
        if let i = instances[key] { return i }
        // The template was checked at deploy time, so building another copy cannot fail.
        let i = try! makeInstance(key)
        instances[key] = i
        order.append(i)
        return i
    }

    private func route(stream: String, router: Router, batch: EventBatch) {
        let input = EvaluationInput(batch: batch, now: context.now, context: context)
        let grouped = outputIgnoresChunking || context.eachEventIsAChunk && outputIgnoresChunkingPerEvent
        switch router {
        case .value(let expression):
            let keys = expression.evaluate(input)
            if grouped {
                let groups = RowsByKey(keys: keys, kinds: batch.kinds)
                for (k, key) in groups.keys.enumerated() where !key.isNull {
                    let part = groups.keys.count == 1 ? batch : rows(Array(groups.rows(ofKey: k)), of: batch, stream: stream)
                    deliver(part, stream: stream, to: instance(for: key))
                }
                break
            }
            // Siddhi's order: each run of consecutive events with one key is a chunk of its own.
            var start = 0
            while start < batch.count {
                let key = keys.value(at: start)
                var end = start + 1
                while end < batch.count && keys.value(at: end) == key { end += 1 }
                // A null key belongs to no partition: Siddhi drops the event.
                if !key.isNull {
                    let part = start == 0 && end == batch.count ? batch
                        : readAttributes[stream] == nil ? batch.slice(start..<end) : rows(Array(start..<end), of: batch, stream: stream)
                    deliver(part, stream: stream, to: instance(for: key))
                }
                start = end
            }
        case .ranges(let ranges):
            let truths = ranges.map { Logic.truth($0.condition.evaluate(input)) }
            if grouped {
                for (r, range) in ranges.enumerated() {
                    let rows = (0..<batch.count).filter { truths[r][$0] }
                    if rows.isEmpty { continue }
                    let part = rows.count == batch.count ? batch : self.rows(rows, of: batch, stream: stream)
                    deliver(part, stream: stream, to: instance(for: .string(range.label)))
                }
                break
            }
            for row in 0..<batch.count {
                for (r, range) in ranges.enumerated() where truths[r][row] {
                    deliver(rows([row], of: batch, stream: stream), stream: stream, to: instance(for: .string(range.label)))
                }
            }
        }
        armPurge()
    }

    private func rows(_ rows: [Int], of batch: EventBatch, stream: String) -> EventBatch {
        guard let read = readAttributes[stream] else { return batch.gather(rows) }
        var columns: [Column] = []
        columns.reserveCapacity(read.count)
        for (i, column) in batch.columns.enumerated() {
            columns.append(read[i] ? column.gather(rows) : unread(column.type, count: rows.count))
        }
        return EventBatch(timestamps: rows.map { batch.timestamps[$0] }, kinds: rows.map { batch.kinds[$0] }, columns: columns)
    }

    /// Zero-filled stand-ins for the attributes no query reads, shared (copy on write) between
    /// the parts of equal size instead of filled anew for each.
    private var unreadColumns: [UnreadKey: Column] = [:]

    private struct UnreadKey: Hashable {
        let type: AttributeType
        let count: Int
    }

    private func unread(_ type: AttributeType, count: Int) -> Column {
        let key = UnreadKey(type: type, count: count)
        if let c = unreadColumns[key] { return c }
        let c = Column(unread: type, count: count)
        // Part sizes are bounded by batch sizes; the cap only guards against pathological mixes.
        if unreadColumns.count >= 1024 { unreadColumns.removeAll(keepingCapacity: true) }
        unreadColumns[key] = c
        return c
    }

    private func deliver(_ batch: EventBatch, stream: String, to instance: PartitionInstance) {
        instance.lastActive = context.now
        instance.junctions[stream]?.publish(batch)
    }

    private func armPurge() {
        guard let purgeInterval, nextPurge == nil else { return }
        nextPurge = context.now + purgeInterval
        rearm()
    }

    func rearm() {
        guard let nextPurge else { return }
        scheduler.schedule(timerID, at: nextPurge)
    }

    func onTime(_ time: Int64) {
        guard let due = nextPurge, due <= time, let purgeInterval, let idlePeriod else { return }
        let idle = order.filter { $0.lastActive + idlePeriod < time }
        for i in idle {
            i.tearDown()
            instances[i.key] = nil
        }
        if !idle.isEmpty { order.removeAll { i in idle.contains { $0 === i } } }
        nextPurge = order.isEmpty ? nil : due + purgeInterval
        rearm()
    }

    func rearmInstances() { order.forEach { $0.rearm() } }

    func snapshot(into w: inout StateWriter) {
        w.write(nextPurge)
        w.write(order.count)
        for i in order {
            w.write(i.key)
            w.write(i.lastActive)
            for s in i.stateful { s.snapshot(into: &w) }
        }
    }

    func restore(from r: inout StateReader) throws {
        nextPurge = try r.readOptionalInt64()
        order.forEach { $0.tearDown() }
        order = []
        instances = [:]
        for _ in 0..<(try r.readCount()) {
            let key = try r.readValue()
            let lastActive = try r.readInt64()
            let i = instance(for: key)
            i.lastActive = lastActive
            for s in i.stateful { try s.restore(from: &r) }
        }
    }
}
