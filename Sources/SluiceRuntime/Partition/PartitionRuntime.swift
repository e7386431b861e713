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
        }
    }

    func tearDown() {
        for q in queries {
            if let s = q.subscription { s.junction.unsubscribe(s.token) }
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

    init(partition: Partition, routers: [String: Router], global: [String: StreamJunction], context: ExecutionContext,
         scheduler: Scheduler, purge: (interval: Int64, idle: Int64)?,
         makeInstance: @escaping (Value) throws(Diagnostic) -> PartitionInstance) {
        self.partition = partition
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
        switch router {
        case .value(let expression):
            let keys = expression.evaluate(input)
            // Consecutive events with the same key travel together, so order across keys is kept.
            var start = 0
            while start < batch.count {
                let key = keys.value(at: start)
                var end = start + 1
                while end < batch.count && keys.value(at: end) == key { end += 1 }
                // A null key belongs to no partition: Siddhi drops the event.
                if !key.isNull {
                    let part = start == 0 && end == batch.count ? batch : batch.slice(start..<end)
                    deliver(part, stream: stream, to: instance(for: key))
                }
                start = end
            }
        case .ranges(let ranges):
            let truths = ranges.map { Logic.truth($0.condition.evaluate(input)) }
            for row in 0..<batch.count {
                for (r, range) in ranges.enumerated() where truths[r][row] {
                    deliver(batch.gather([row]), stream: stream, to: instance(for: .string(range.label)))
                }
            }
        }
        armPurge()
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
        w.write(nextPurge != nil)
        w.write(nextPurge ?? 0)
        w.write(order.count)
        for i in order {
            w.write(i.key)
            w.write(i.lastActive)
            for s in i.stateful { s.snapshot(into: &w) }
        }
    }

    func restore(from r: inout StateReader) throws {
        let hasPurge = try r.readBool()
        let purge = try r.readInt64()
        nextPurge = hasPurge ? purge : nil
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
