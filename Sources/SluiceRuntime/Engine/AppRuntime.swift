import SluiceCore
import SluiceQL

/// A deployed Siddhi app: the embedding API that the CLI, the server and the tests use.
///
/// Feed it with `send(_:to:)` and `advanceTime(to:)`; results arrive at the callbacks registered
/// with `addCallback(stream:_:)`, synchronously and in emission order. The runtime never reads the
/// wall clock: time is the latest event timestamp or tick fed in, so the same input always gives
/// the same output. One thread owns a runtime at a time.
public final class AppRuntime {
    public let app: SiddhiApp
    public let name: String
    let context: ExecutionContext
    let scheduler: Scheduler
    let global = GlobalResolver()
    private var stateful: [Snapshottable] = []
    private var windows: [WindowProcessor] = []
    private var rateLimiters: [RateLimiter] = []
    private var patterns: [PatternProcessor] = []
    private(set) var partitions: [PartitionRuntime] = []
    private var triggers: [TriggerSource] = []
    /// The input streams, as `define stream` declared them, in order.
    public private(set) var definedStreams: [StreamSchema] = []
    /// Opens the databases of `@store` tables; without it, `@store` is refused.
    private let stores: TableStoreProvider?
    /// Each defined stream's `@OnError(action=…)`, upper-cased, where it has one.
    private var onErrorActions: [String: String] = [:]

    /// Parses and deploys an app. Errors carry the line and column of the offending token.
    /// `stores` opens the tables that carry `@store(…)` (the embedder's databases).
    public convenience init(source: String, stores: TableStoreProvider? = nil) throws(Diagnostic) {
        try self.init(app: SiddhiParser.parse(source), stores: stores)
    }

    public init(app: SiddhiApp, stores: TableStoreProvider? = nil) throws(Diagnostic) {
        self.app = app
        self.name = app.name ?? "SiddhiApp"
        self.stores = stores
        context = ExecutionContext(seed: stableHash(name))
        scheduler = Scheduler(context: context)
        try deploy()
    }

    /// Told of every stored-table write that failed, whether the engine retries it or gave up
    /// (for logs and metrics). Runs on the thread that owns the runtime.
    public func onStoreFailure(_ observer: @escaping (StoreWriteFailure) -> Void) {
        context.storeFailureObserver = observer
    }

    // MARK: Deploy

    private func deploy() throws(Diagnostic) {
        for definition in app.definitions {
            switch definition {
            case .stream(let s):
                try checkNew(s.name)
                var seen = Set<String>()
                for a in s.attributes where !seen.insert(a.name).inserted {
                    throw Diagnostic("attribute '\(a.name)' is defined twice in '\(s.name.name)'", at: a.range)
                }
                let schema = StreamSchema(name: s.name.name, attributes: s.attributes.map { .init(name: $0.name, type: $0.type) })
                _ = global.define(schema)
                definedStreams.append(schema)
                if Self.hasFaultStream(s) { _ = global.define(Self.faultSchema(of: schema)) }
                if let action = s.annotations.first(where: { $0.name.lowercased() == "onerror" })?.value("action") {
                    onErrorActions[schema.name] = action.uppercased()
                }
            case .window(let w):
                try checkNew(w.name)
                let named = try NamedWindow(definition: w, context: context, scheduler: scheduler)
                global.windows[w.name.name] = named
                windows.append(named.window)
                stateful.append(named.window)
            case .table(let t):
                try checkNew(t.name)
                let table = try InMemoryTable(definition: t)
                if let store = t.annotations.first(where: { $0.name.lowercased() == "store" }) {
                    try attachStore(store, to: table, definition: t)
                }
                global.tables[t.name.name] = table
                stateful.append(table)
            case .trigger(let t):
                try checkNew(t.name)
                let schema = StreamSchema(name: t.name.name, attributes: [.init(name: TriggerSource.attribute, type: .long)])
                let trigger = try TriggerSource(definition: t, junction: global.define(schema), scheduler: scheduler)
                triggers.append(trigger)
                stateful.append(trigger)
            case .aggregation:
                // After the streams: an aggregation may read one defined further down.
                break
            case .function(let f):
                throw Diagnostic("script functions are not supported yet: '\(f.name.name)'", at: f.name.range)
            }
        }
        // A query may read a stream that a later query defines by inserting into it, and so may an
        // aggregation: plan in passes until nothing more can be planned. Aggregations come first,
        // so that they see a chunk before the queries that join them.
        var pending: [Deployable] = app.definitions.compactMap { d in
            if case .aggregation(let a) = d { return .aggregation(a) }
            return nil
        } + app.executionElements.map { .element($0) }
        while !pending.isEmpty {
            var deferred: [Deployable] = []
            var firstError: Diagnostic?
            for item in pending {
                do {
                    switch item {
                    case .aggregation(let a): try deploy(a)
                    case .element(let e): try plan(e)
                    }
                } catch let error {
                    if isUndefinedStream(error), producedLater(by: pending, error: error) {
                        deferred.append(item)
                        if firstError == nil { firstError = error }
                    } else {
                        throw error
                    }
                }
            }
            if deferred.count == pending.count, let firstError { throw firstError }
            pending = deferred
        }
    }

    private func deploy(_ definition: AggregationDefinition) throws(Diagnostic) {
        try checkNew(definition.name)
        let source = definition.input.stream
        guard let junction = global.streams[source.name], !source.name.hasPrefix("!") else {
            if global.windows[source.name] != nil || global.tables[source.name] != nil || global.aggregations[source.name] != nil {
                throw Diagnostic("an aggregation reads a stream, and '\(source.name)' is not one", at: source.range)
            }
            throw Diagnostic("stream '\(source.name)' is not defined", at: source.range)
        }
        let aggregation = try AggregationPlanner(context: context).make(definition, input: junction.schema)
        if let store = definition.annotations.first(where: { $0.name.lowercased() == "store" }) {
            try attachStore(store, to: aggregation, definition: definition)
        }
        global.aggregations[definition.name.name] = aggregation
        stateful.append(aggregation)
        // Subscribed before any query: a join reading the aggregation sees the events that just arrived, as in Siddhi.
        _ = junction.subscribe { [unowned aggregation] batch in aggregation.process(batch) }
    }

    private func attachStore(_ store: Annotation, to table: InMemoryTable, definition: TableDefinition) throws(Diagnostic) {
        let stores = try storeProvider(store, for: "tables", named: definition.name.name)
        let keys = InMemoryTable.keys(of: definition)
        let request = TableStoreRequest(definition: definition, store: store, schema: table.schema, primaryKey: keys.primaryKey,
                                        indexes: keys.indexes, appName: name)
        try loadingStore(of: "table '\(definition.name.name)'", at: store.range) { try table.attach(try stores(request)) }
    }

    /// One table per duration, `<A>_<DURATION>`, as Siddhi keeps a stored aggregation.
    private func attachStore(_ store: Annotation, to aggregation: IncrementalAggregation,
                             definition: AggregationDefinition) throws(Diagnostic) {
        let stores = try storeProvider(store, for: "aggregations", named: definition.name.name)
        let tables = aggregation.tables
        try loadingStore(of: "aggregation '\(definition.name.name)'", at: store.range) {
            let opened = try aggregation.durations.map { duration in
                let table = tables.definition(duration, store: store, at: definition.range)
                return try stores(TableStoreRequest(definition: table, store: table.annotations[0], schema: tables.schema(duration),
                                                    primaryKey: AggregationTables.primaryKey, indexes: [], appName: name))
            }
            try aggregation.attach(AggregationStore(tables: tables, stores: opened))
        }
    }

    private func storeProvider(_ store: Annotation, for kind: String, named: String) throws(Diagnostic) -> TableStoreProvider {
        guard let stores else {
            throw Diagnostic("@store \(kind) need a database, which this embedding does not provide: '\(named)' "
                             + "would be kept in memory only (run it on a node, or pass a store provider)", at: store.range)
        }
        return stores
    }

    /// Runs `open`, turning what fails into a diagnostic at the `@store` annotation.
    private func loadingStore(of what: String, at range: SourceRange, _ open: () throws -> Void) throws(Diagnostic) {
        do {
            try open()
        } catch let error as TableStoreError {
            throw Diagnostic("cannot load \(what) from its store: \(error.description)", at: range)
        } catch let error as Diagnostic {
            throw error
        } catch {
            throw Diagnostic("cannot open the store of \(what): \(error)", at: range)
        }
    }

    /// Siddhi's fault stream `!S`: S's attributes plus `_error`, for the events that
    /// `@OnError(action='STREAM')` or a sink's `on.error='STREAM'` could not handle.
    public static func faultSchema(of schema: StreamSchema) -> StreamSchema {
        StreamSchema(name: "!" + schema.name, attributes: schema.attributes + [.init(name: "_error", type: .string)])
    }

    static func hasFaultStream(_ s: StreamDefinition) -> Bool {
        s.annotations.contains { a in
            switch a.name.lowercased() {
            case "onerror": a.value("action")?.uppercased() == "STREAM"
            case "sink": a.value("on.error")?.uppercased() == "STREAM"
            default: false
            }
        }
    }

    private func checkNew(_ id: Identifier) throws(Diagnostic) {
        if global.streams[id.name] != nil || global.windows[id.name] != nil || global.tables[id.name] != nil
            || global.aggregations[id.name] != nil {
            throw Diagnostic("'\(id.name)' is already defined", at: id.range)
        }
    }

    private func isUndefinedStream(_ d: Diagnostic) -> Bool { d.message.hasSuffix("is not defined") && d.message.hasPrefix("stream ") }

    /// What deploy plans after the definitions.
    private enum Deployable {
        case aggregation(AggregationDefinition)
        case element(ExecutionElement)
    }

    /// Whether a pending query inserts into the stream `error` misses, or a pending aggregation is it.
    private func producedLater(by pending: [Deployable], error: Diagnostic) -> Bool {
        let name = error.message.dropFirst("stream '".count).prefix { $0 != "'" }
        func inserts(_ q: Query) -> Bool {
            if case .insert(let t, false, _, _) = q.output { return t.name == name }
            return false
        }
        return pending.contains { item in
            switch item {
            case .aggregation(let a): a.name.name == name
            case .element(.query(let q)): inserts(q)
            case .element(.partition(let p)): p.queries.contains(where: inserts)
            }
        }
    }

    private func plan(_ element: ExecutionElement) throws(Diagnostic) {
        let planner = QueryPlanner(context: context, scheduler: scheduler)
        switch element {
        case .query(let q):
            let p = try planner.plan(q, resolver: global)
            stateful.append(contentsOf: p.stateful)
            windows.append(contentsOf: p.windows)
            rateLimiters.append(contentsOf: p.rateLimiters)
            patterns.append(contentsOf: p.patterns)
        case .partition(let partition):
            try planPartition(partition, planner: planner)
        }
    }

    private func planPartition(_ partition: Partition, planner: QueryPlanner) throws(Diagnostic) {
        var routers: [String: PartitionRuntime.Router] = [:]
        for key in partition.keys {
            let stream = key.stream
            guard let junction = global.streams[stream.name] else {
                throw Diagnostic("stream '\(stream.name)' is not defined", at: stream.range)
            }
            if routers[stream.name] != nil {
                throw Diagnostic("stream '\(stream.name)' is partitioned twice", at: stream.range)
            }
            let compiler = ExpressionCompiler(scope: Scope(stream: stream.name, attributes: junction.schema.pairs), context: context)
            switch key {
            case .value(let e, _):
                routers[stream.name] = .value(try compiler.compile(e))
            case .range(let ranges, _):
                var compiled: [(label: String, condition: CompiledExpression)] = []
                for r in ranges { compiled.append((r.label, try compiler.compileCondition(r.condition, what: "a range partition"))) }
                routers[stream.name] = .ranges(compiled)
            }
        }
        let partitioned = Set(routers.keys)
        var readAttributes: [String: [Bool]] = [:]
        for stream in partitioned {
            guard let schema = global.streams[stream]?.schema,
                  let read = AttributeUsage.read(of: stream, attributes: schema.attributes.map(\.name), by: partition.queries),
                  read.contains(false) else { continue }
            readAttributes[stream] = read
        }
        let global = self.global
        let context = self.context
        let makeInstance = { (key: Value) throws(Diagnostic) -> PartitionInstance in
            let instance = PartitionInstance(key: key, now: context.now)
            let resolver = PartitionResolver(global: global, instance: instance, partitioned: partitioned)
            for q in partition.queries { instance.queries.append(try planner.plan(q, resolver: resolver)) }
            return instance
        }
        // Build one copy now so that errors surface at deploy time and output streams get defined.
        let probe = try makeInstance(.null)
        probe.tearDown()

        var purge: (Int64, Int64)?
        if let a = partition.annotations.first(where: { $0.name.lowercased() == "purge" }),
           (a.value("enable") ?? "true").lowercased() == "true" {
            let interval = try Self.duration(a, "interval", default: 300_000)
            let idle = try Self.duration(a, "idle.period", default: nil)
            purge = (interval, idle)
        }
        let runtime = PartitionRuntime(partition: partition, routers: routers, global: global.streams, context: context,
                                       scheduler: scheduler, purge: purge, template: probe, readAttributes: readAttributes,
                                       makeInstance: makeInstance)
        partitions.append(runtime)
        stateful.append(runtime)
    }

    /// Reads a duration annotation value such as '10 sec' or '1000'.
    static func duration(_ a: Annotation, _ key: String, default value: Int64?) throws(Diagnostic) -> Int64 {
        guard let text = a.value(key) else {
            if let value { return value }
            throw Diagnostic("@\(a.name) needs '\(key)'", at: a.range)
        }
        guard let e = try? SiddhiParser.parseExpression(text), case .constant(let c) = e.kind else {
            throw Diagnostic("@\(a.name): '\(key)' must be a duration such as '10 sec', found '\(text)'", at: a.range)
        }
        switch c {
        case .time(let ms): return ms
        case .int(let v): return Int64(v)
        case .long(let v): return v
        default: throw Diagnostic("@\(a.name): '\(key)' must be a duration such as '10 sec', found '\(text)'", at: a.range)
        }
    }

    // MARK: Feeding events

    /// The engine clock: the latest timestamp or tick fed in.
    public var now: Int64 { context.now }

    /// The schema of a stream or named window, including streams defined by queries.
    public func schema(of stream: String) -> StreamSchema? {
        global.streams[stream]?.schema ?? global.windows[stream]?.input.schema
    }

    /// Every stream the app knows, defined or inferred, in the order they became known.
    public var streams: [StreamSchema] { global.streamOrder.compactMap { global.streams[$0]?.schema } }

    /// Sends a batch of events. Timers due at or before the first event's timestamp fire first.
    ///
    /// By default the batch is one Siddhi chunk, as an `InputHandler.send(Event[])` is in Siddhi: a
    /// query with aggregates emits its last result per chunk (per group). With `eachEventIsAChunk`
    /// the batch is still processed column-wise, but each event counts as an arrival of its own.
    public func send(_ batch: EventBatch, to stream: String, eachEventIsAChunk: Bool = false) throws(RuntimeError) {
        context.eachEventIsAChunk = eachEventIsAChunk
        defer { context.eachEventIsAChunk = false }
        let junction = try inputJunction(stream)
        guard batch.types == junction.schema.types else {
            throw RuntimeError("stream '\(stream)' takes (\(junction.schema.types.map(\.description).joined(separator: ", "))), "
                               + "the batch has (\(batch.types.map(\.description).joined(separator: ", ")))")
        }
        guard let first = batch.timestamps.first else { return }
        startTriggers(at: first)
        scheduler.advance(to: first)
        if context.now < first { context.now = first }
        // Without `@OnError`, as with WAIT, a database that is down holds the input until it is back.
        context.storeWritesWait = (onErrorActions[stream] ?? "WAIT") == "WAIT"
        defer { context.storeWritesWait = false }
        junction.publish(batch)
        if let last = batch.timestamps.last, last > context.now { context.now = last }
        try surfaceStoreFailures(of: batch, from: stream)
    }

    /// A stored table refused what this input changed (and was rolled back): per the input
    /// stream's `@OnError`, its events go to the fault stream `!S` with `_error` (STREAM), are
    /// only reported (LOG), or the send fails (no `@OnError`), so the caller sees it.
    private func surfaceStoreFailures(of batch: EventBatch, from stream: String) throws(RuntimeError) {
        guard !context.storeFailures.isEmpty else { return }
        let reason = context.storeFailures.map(\.description).joined(separator: "; ")
        context.storeFailures = []
        let fault = global.streams["!" + stream]
        switch onErrorActions[stream] {
        case "STREAM" where fault != nil:
            var faults = batch
            faults.columns.append(Column(repeating: .string(reason), type: .string, count: batch.count))
            fault?.publish(faults)
        case "LOG":
            break
        default:
            throw RuntimeError("stream '\(stream)': \(reason)", inputApplied: true)
        }
    }

    /// Moves the clock to `time` with no event, firing every timer due by then.
    public func advanceTime(to time: Int64) {
        startTriggers(at: time)
        scheduler.advance(to: time)
        // Timer-driven writes have no input to hand back: the observer has reported them.
        context.storeFailures = []
    }

    /// Triggers, and patterns whose first element waits (an absence's quiet period), start at the
    /// clock's first position (the first event or tick).
    private func startTriggers(at time: Int64) {
        for t in triggers where !t.started { t.start(at: time) }
        guard !context.clockStarted else { return }
        context.clockStarted = true
        for p in patterns { p.clockStarts(at: time) }
    }

    /// A handle for sending to one stream without looking it up each time.
    public func inputHandler(for stream: String) throws(RuntimeError) -> InputHandler {
        _ = try inputJunction(stream)
        return InputHandler(runtime: self, stream: stream, schema: schema(of: stream)!)
    }

    private func inputJunction(_ stream: String) throws(RuntimeError) -> StreamJunction {
        if let w = global.windows[stream] { return w.input }
        guard let j = global.streams[stream] else { throw RuntimeError("stream '\(stream)' is not defined") }
        return j
    }

    /// Calls `callback` with every chunk published on `stream` (an output, intermediate or input stream).
    public func addCallback(stream: String, _ callback: @escaping (EventBatch) -> Void) throws(RuntimeError) {
        if let w = global.windows[stream] {
            w.output.observe(callback)
            return
        }
        guard let j = global.streams[stream] else { throw RuntimeError("stream '\(stream)' is not defined") }
        j.observe(callback)
    }

    // MARK: Snapshots

    private static let magic: [UInt8] = Array("SLCSNAP".utf8)
    static let snapshotVersion: UInt8 = 1

    /// How many queries fold batch-window rows in as they arrive (`BatchAccumulation`), for tests.
    var accumulatingQueries: Int { stateful.count { ($0 as? QuerySelector)?.accumulation != nil } }

    /// Every stateful operator's state, as a versioned binary blob.
    public func snapshot() -> [UInt8] {
        var w = StateWriter()
        for b in Self.magic { w.write(b) }
        w.write(Self.snapshotVersion)
        w.write(fingerprint)
        context.snapshot(into: &w)
        for s in stateful { s.snapshot(into: &w) }
        return w.bytes
    }

    /// Replaces this runtime's state with a snapshot of a runtime of the same app.
    public func restore(_ bytes: [UInt8]) throws(RuntimeError) {
        var r = StateReader(bytes)
        do {
            for b in Self.magic where try r.readUInt8() != b { throw SnapshotError("not a Sluice snapshot") }
            let version = try r.readUInt8()
            guard version == Self.snapshotVersion else { throw SnapshotError("snapshot version \(version) is not supported") }
            guard try r.readUInt64() == fingerprint else { throw SnapshotError("the snapshot was taken from a different app") }
            try context.restore(from: &r)
            for s in stateful { try s.restore(from: &r) }
            guard r.isAtEnd else { throw SnapshotError("trailing bytes after the snapshot") }
        } catch let e as SnapshotError {
            throw RuntimeError("cannot restore: \(e.description)")
        } catch {
            throw RuntimeError("cannot restore: \(error)")
        }
        scheduler.clear()
        windows.forEach { $0.rearm() }
        triggers.forEach { $0.rearm() }
        rateLimiters.forEach { $0.rearm() }
        patterns.forEach { $0.rearm() }
        partitions.forEach {
            $0.rearm()
            $0.rearmInstances()
        }
    }

    /// Identifies the app's structure, so a snapshot is never restored into a different app.
    private var fingerprint: UInt64 { stableHash(String(describing: app.definitions) + String(describing: app.executionElements)) }
}

/// Sends events to one stream of a runtime.
public struct InputHandler {
    let runtime: AppRuntime
    public let stream: String
    public let schema: StreamSchema

    public func send(_ batch: EventBatch) throws(RuntimeError) {
        try runtime.send(batch, to: stream)
    }

    /// Sends one event (edges and tests; the hot path sends batches).
    public func send(timestamp: Int64, values: [Value]) throws(RuntimeError) {
        guard values.count == schema.attributes.count else {
            throw RuntimeError("stream '\(stream)' has \(schema.attributes.count) attributes, the event has \(values.count)")
        }
        var batch = EventBatch(types: schema.types, capacity: 1)
        batch.append(timestamp: timestamp, values: values)
        try runtime.send(batch, to: stream)
    }
}

/// An error while running an app (as opposed to a `Diagnostic` in its text).
public struct RuntimeError: Error, CustomStringConvertible, Sendable {
    public var description: String
    /// The input was applied, except for stored-table writes the database refused (and that were
    /// rolled back): sending it again would apply it twice everywhere else.
    public var inputApplied: Bool
    public init(_ description: String, inputApplied: Bool = false) {
        self.description = description
        self.inputApplied = inputApplied
    }
}
