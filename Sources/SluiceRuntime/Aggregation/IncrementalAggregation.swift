import SluiceCore

/// A running `define aggregation`: Siddhi's incremental aggregation, kept in memory.
///
/// Each arriving chunk is evaluated column-wise once (filter, event time, group key, the
/// aggregates' arguments) and added to the finest duration's cells. When the newest event moves
/// past a bucket (and past `@BufferSize` more of them), the finished bucket is folded into the
/// next coarser duration, and so on up: Siddhi's chain of incremental executors. The clock is the
/// events' own time (`aggregate by ts`, or the event timestamp), never the wall clock.
///
/// An event whose bucket was already handed on (it is later than the buffer allows) still counts,
/// in its own bucket at every duration, unless `@IgnoreEventsOlderThanBuffer('true')` drops it:
/// Siddhi 4 put such events in bucket 0 (siddhi#859), and Siddhi 5 keys buckets by their own time
/// for the same reason. A query reads each event exactly once: from the duration it asks for,
/// plus the finer durations' buckets that have not been handed on yet (siddhi#1680).
///
/// With `@store`, every duration's buckets are also rows of a database table
/// (`AggregationTables`): each chunk writes the buckets it changed, and a deploy loads them back.
final class IncrementalAggregation: Snapshottable {
    /// Where an event's time comes from.
    enum EventTime {
        case timestamp
        /// `aggregate by ts`: a long of milliseconds, or a string `yyyy-MM-dd HH:mm:ss[ ±HH:mm]`.
        case attribute(CompiledExpression)
    }

    static let timestampAttribute = "AGG_TIMESTAMP"
    /// 0001-01-01 00:00:00 to 9999-12-31 23:59:59.999, UTC.
    static let bucketedTimes: ClosedRange<Int64> = -62_135_596_800_000...253_402_300_799_999

    let name: String
    let durations: [AggregationDuration]
    /// What a query reads: `AGG_TIMESTAMP`, then the selected attributes.
    let schema: StreamSchema
    let layout: AggregationLayout
    let filter: CompiledExpression?
    let eventTime: EventTime
    let groupBy: [CompiledExpression]
    let arguments: [CompiledExpression]
    /// `@BufferSize`: how many finest buckets before the newest one stay open.
    let bufferSize: Int64
    /// `@IgnoreEventsOlderThanBuffer('true')`.
    let ignoresOlderThanBuffer: Bool
    /// `@purge`; nil keeps every bucket.
    let retention: AggregationRetention?
    let context: ExecutionContext
    /// The tables a `@store` keeps the buckets in.
    let tables: AggregationTables
    /// The databases of `@store`; nil when kept in memory only.
    private(set) var store: AggregationStore?
    /// A write was given up on and the database could not be read back since: the next chunk
    /// reads it first, and is refused while it cannot.
    private var needsReload = false

    private let groups = GroupKeyIndex()
    /// Per duration, finest first.
    private var levels: [AggregationCells]
    /// Per duration: its buckets that start before this have been folded into the next duration.
    private var handedOnBefore: [Int64]
    /// The start of the newest finest bucket seen.
    private var newest: Int64 = .min
    /// When the next purge is due, on the same clock as `newest`.
    private var nextPurge: Int64 = .min

    init(name: String, durations: [AggregationDuration], schema: StreamSchema, layout: AggregationLayout, filter: CompiledExpression?,
         eventTime: EventTime, groupBy: [CompiledExpression], arguments: [CompiledExpression], bufferSize: Int64,
         ignoresOlderThanBuffer: Bool, retention: AggregationRetention?, tables: AggregationTables, context: ExecutionContext) {
        self.name = name
        self.durations = durations
        self.schema = schema
        self.layout = layout
        self.filter = filter
        self.eventTime = eventTime
        self.groupBy = groupBy
        self.arguments = arguments
        self.bufferSize = bufferSize
        self.ignoresOlderThanBuffer = ignoresOlderThanBuffer
        self.retention = retention
        self.context = context
        self.tables = tables
        levels = durations.map { _ in AggregationCells(layout: layout) }
        handedOnBefore = durations.map { _ in .min }
    }

    // MARK: Arrivals

    func process(_ chunk: EventBatch) {
        guard !needsReload || reloadAfterFailure() else { return }
        guard let (batch, times) = countedRows(of: chunk) else { return }
        let input = EvaluationInput(batch: batch, now: context.now, context: context)
        let groupIDs = groupBy.isEmpty ? [Int32](repeating: 0, count: batch.count)
            : groups.ids(for: groupBy.map { $0.evaluate(input) }, kinds: batch.kinds)
        let columns = arguments.map { $0.evaluate(input) }

        advance(toNewest: max(durations[0].bucketStart(times.max()!), clockBucket))
        // Rows go to their finest bucket; those whose bucket was already handed on go on up.
        var rows = Array(0..<batch.count)
        for (level, duration) in durations.enumerated() {
            let starts = rows.map { duration.bucketStart(times[$0]) }
            var cells: [Int32] = []
            cells.reserveCapacity(rows.count)
            for i in rows.indices { cells.append(levels[level].cell(start: starts[i], group: groupIDs[rows[i]])) }
            levels[level].add(rows: rows, cells: cells, timestamps: times, arguments: columns)
            store?.touched(level, cells)
            guard level + 1 < levels.count else { break }
            let before = handedOnBefore[level]
            rows = rows.indices.filter { starts[$0] < before }.map { rows[$0] }
            if rows.isEmpty { break }
        }
        writeThrough()
    }

    /// Without `aggregate by`, the engine clock is event time: its bucket is current even before
    /// an event of it arrives (ticks move it), as Siddhi's timer rolls buckets over.
    private var clockBucket: Int64 {
        if case .timestamp = eventTime { return durations[0].bucketStart(context.now) }
        return .min
    }

    /// The rows of `chunk` that count, with their event times: current events that pass the
    /// filter, have a time a bucket holds, and are not dropped as older than the buffer.
    private func countedRows(of chunk: EventBatch) -> (EventBatch, [Int64])? {
        var batch = chunk
        var keep = chunk.kinds.map { $0 == .current }
        if let filter {
            let truth = filter.evaluate(EvaluationInput(batch: batch, now: context.now, context: context))
            for i in keep.indices where keep[i] && (!truth.bools[i] || truth.isNull(i)) { keep[i] = false }
        }
        var times = chunk.timestamps
        if case .attribute(let e) = eventTime {
            let column = e.evaluate(EvaluationInput(batch: batch, now: context.now, context: context))
            for i in keep.indices where keep[i] {
                // An event without a readable time has no bucket.
                if column.isNull(i) {
                    keep[i] = false
                } else if column.type == .string {
                    if let t = AggregationTimeText.parse(column.string(at: i)) { times[i] = t } else { keep[i] = false }
                } else {
                    times[i] = column.longs[i]
                }
            }
        }
        // Outside years 1…9999 a time has no bucket (and bucket arithmetic could overflow).
        for i in keep.indices where keep[i] && !Self.bucketedTimes.contains(times[i]) { keep[i] = false }
        let root = durations[0]
        if ignoresOlderThanBuffer {
            // Older than the buffer as it stood when the event arrived, event by event.
            var newestSoFar = max(newest, clockBucket)
            for i in keep.indices where keep[i] {
                let start = root.bucketStart(times[i])
                if newestSoFar != .min, start < root.step(newestSoFar, by: -bufferSize) { keep[i] = false }
                newestSoFar = max(newestSoFar, start)
            }
        }
        if keep.contains(false) {
            let rows = keep.indices.filter { keep[$0] }
            guard !rows.isEmpty else { return nil }
            batch = batch.gather(rows)
            times = rows.map { times[$0] }
        }
        return batch.isEmpty ? nil : (batch, times)
    }

    /// Moves the newest finest bucket to `start` and folds every bucket that is now finished into
    /// the next coarser duration.
    private func advance(toNewest start: Int64) {
        guard start > newest else { return }
        newest = start
        var frontier = durations[0].step(start, by: -bufferSize)
        for level in levels.indices {
            if level > 0 { frontier = durations[level].bucketStart(frontier) }
            let old = handedOnBefore[level]
            guard frontier > old else { break }
            if level + 1 < levels.count {
                let coarser = durations[level + 1]
                for c in levels[level].cells(startingIn: old..<frontier) {
                    let from = levels[level]
                    let target = levels[level + 1].cell(start: coarser.bucketStart(from.starts[Int(c)]), group: from.groups[Int(c)])
                    levels[level + 1].merge(from, cell: c, into: target)
                    store?.touched(level + 1, cell: target)
                }
            }
            handedOnBefore[level] = frontier
        }
        if let retention, newest >= nextPurge {
            purge(retention)
            nextPurge = newest.addingReportingOverflow(retention.interval).overflow ? .max : newest + retention.interval
        }
    }

    /// Drops the buckets older than their duration's retention that have rolled up already.
    private func purge(_ retention: AggregationRetention) {
        for level in levels.indices {
            guard let period = retention.periods[level] else { continue }
            var cutoff = newest.subtractingReportingOverflow(period).overflow ? .min : newest - period
            if level + 1 < levels.count { cutoff = min(cutoff, handedOnBefore[level]) }
            if let oldest = levels[level].bucketStarts.first, oldest < cutoff {
                let dirty = store?.purging(level, before: cutoff, levels[level], groupValues: groupValues)
                levels[level].removeBuckets(before: cutoff)
                if let dirty { store?.renumbered(level, dirtyKeys: dirty, levels[level]) }
            }
        }
    }

    // MARK: Queries

    /// The rows of `within start, end per duration`: one per bucket of `duration` that starts in
    /// `start..<end` and group, ordered by bucket start, then by the group's first arrival.
    func find(start: Int64, end: Int64, per duration: AggregationDuration) -> EventBatch {
        var result = AggregationCells(layout: layout)
        guard let level = durations.firstIndex(of: duration), start < end else { return output(result) }
        let cells = levels[level]
        for c in cells.cells(startingIn: start..<end) {
            result.merge(cells, cell: c, into: result.cell(start: cells.starts[Int(c)], group: cells.groups[Int(c)]))
        }
        // What finer durations still hold has not reached this one yet.
        for finer in 0..<level {
            let cells = levels[finer]
            for c in cells.cells(startingIn: max(handedOnBefore[finer], start)..<Int64.max) {
                let bucket = duration.bucketStart(cells.starts[Int(c)])
                guard bucket >= start && bucket < end else { continue }
                result.merge(cells, cell: c, into: result.cell(start: bucket, group: cells.groups[Int(c)]))
            }
        }
        return output(result)
    }

    private func output(_ cells: AggregationCells) -> EventBatch {
        let order = (0..<Int32(cells.count)).sorted {
            (cells.starts[Int($0)], cells.groups[Int($0)]) < (cells.starts[Int($1)], cells.groups[Int($1)])
        }
        var columns = schema.attributes.map { Column(type: $0.type, capacity: order.count) }
        for c in order {
            columns[0].appendLong(cells.starts[Int(c)])
            for (i, o) in layout.outputs.enumerated() { cells.append(output: o, of: c, to: &columns[i + 1]) }
        }
        return EventBatch(timestamps: order.map { cells.starts[Int($0)] }, columns: columns)
    }

    // MARK: Snapshots

    func snapshot(into w: inout StateWriter) {
        groups.snapshot(into: &w)
        w.write(newest)
        w.write(nextPurge)
        w.write(handedOnBefore)
        for level in levels { level.snapshot(into: &w) }
    }

    func restore(from r: inout StateReader) throws {
        try groups.restore(from: &r)
        newest = try r.readInt64()
        nextPurge = try r.readInt64()
        let handedOn = try r.readLongs()
        guard handedOn.count == levels.count else { throw SnapshotError("aggregation '\(name)' has \(levels.count) durations") }
        handedOnBefore = handedOn
        for i in levels.indices { try levels[i].restore(from: &r) }
        // The database follows the snapshot, so that a restart loads what it restored.
        if let store {
            // Coarsest first, each table with the frontier of what it absorbed: as for a chunk, a
            // crash between two tables leaves none of them counting a finer bucket twice.
            let frontiers = storedFrontiers
            for level in levels.indices.reversed() {
                var rows = (0..<Int32(levels[level].count)).map { tables.row(levels[level], $0, groupValues: groupValues) }
                if level == 0, let clock = clockRow { rows.append(clock) }
                if frontiers[level] != .min { rows.append(tables.frontierRow(frontiers[level])) }
                try store.stores[level].replaceAll(with: rows)
            }
            store.holds(levels, clock: clockRow, frontiers: frontiers)
            needsReload = false
        }
    }

    // MARK: Stores

    /// The group-by values of group `id`.
    private func groupValues(_ id: Int32) -> [Value] { groupBy.isEmpty ? [] : groups.keys[Int(id)] }

    /// The finest table's clock row; nil before the first event.
    private var clockRow: [Value]? {
        newest == .min ? nil : tables.clockRow(newest: newest, nextPurge: nextPurge == .min ? nil : nextPurge)
    }

    /// Makes `store` this aggregation's databases and loads the buckets they hold.
    func attach(_ store: AggregationStore) throws(TableStoreError) {
        try load(from: store)
        self.store = store
    }

    /// Replaces every bucket, the groups and the clock with what `store` holds.
    private func load(from store: AggregationStore) throws(TableStoreError) {
        var loaded = durations.map { _ in AggregationCells(layout: layout) }
        var groupKeys: [Int32: [Value]] = [:]
        var clock: [Value]?
        // Per duration, the frontier row its table holds (the finer duration's handedOnBefore).
        var frontiers = durations.map { _ in Int64.min }
        for level in durations.indices {
            for row in try store.stores[level].loadRows() {
                let parts = try tables.parts(of: row)
                if parts.group == AggregationTables.clockGroup {
                    if level == 0 { clock = row } else { frontiers[level] = parts.start }
                    continue
                }
                guard let group = Int32(exactly: parts.group), group >= 0 else {
                    throw TableStoreError("a stored row of aggregation '\(name)' has group id \(parts.group)")
                }
                groupKeys[group] = parts.groupValues
                try loaded[level].load(start: parts.start, group: group, stored: parts.stored)
            }
        }
        if !groupBy.isEmpty {
            // Ids stay as stored, so groups keep their order; a purged group's id keeps a key no event has.
            let unused = [Value](repeating: .null, count: groupBy.count + 1)
            let count = Int(groupKeys.keys.max().map { $0 + 1 } ?? 0)
            groups.replace(with: (0..<count).map { groupKeys[Int32($0)] ?? unused })
        }
        levels = loaded
        if let clock {
            let parts = try tables.parts(of: clock)
            newest = parts.start
            nextPurge = parts.stored[1].asInt64 ?? .min
        } else {
            newest = levels[0].bucketStarts.last ?? .min
            nextPurge = .min
        }
        // A duration has handed on what the coarser table's frontier row says it absorbed; without
        // one (a database written before frontier rows), what the newest bucket, less the buffer,
        // has left behind.
        var frontier = newest == .min ? .min : durations[0].step(newest, by: -bufferSize)
        for level in levels.indices {
            if level > 0, frontier != .min { frontier = durations[level].bucketStart(frontier) }
            handedOnBefore[level] = level + 1 < levels.count && frontiers[level + 1] != .min ? frontiers[level + 1] : frontier
        }
        store.holds(levels, clock: clock, frontiers: frontiers)
        redoRollUps(store)
    }

    /// The frontier rows each table holds, as `AggregationStore.holds` takes them.
    private var storedFrontiers: [Int64] {
        levels.indices.map { $0 == 0 ? .min : handedOnBefore[$0 - 1] }
    }

    /// Redoes the roll-ups a crash or a given-up write left half done. Tables are written coarsest
    /// first, so a coarser table may have absorbed (through the durations between) finer buckets
    /// that a finer table in between never received: its frontier is ahead of theirs. Those finer
    /// buckets are merged into the next duration only, up to that frontier (further up they are
    /// already), and written with the next chunk, coarser table first as always. The finer buckets
    /// are still there: a duration deletes a bucket in the transaction after the coarser one
    /// committed its frontier past it.
    private func redoRollUps(_ store: AggregationStore) {
        guard levels.count > 2 else { return }
        for level in 0..<(levels.count - 2) {
            // The furthest any coarser table has absorbed, in time.
            let target = handedOnBefore[(level + 1)..<(levels.count - 1)].max() ?? .min
            let old = handedOnBefore[level]
            guard target > old else { continue }
            let coarser = durations[level + 1]
            for c in levels[level].cells(startingIn: old..<target) {
                let from = levels[level]
                let cell = levels[level + 1].cell(start: coarser.bucketStart(from.starts[Int(c)]), group: from.groups[Int(c)])
                levels[level + 1].merge(from, cell: c, into: cell)
                store.touched(level + 1, cell: cell)
            }
            handedOnBefore[level] = target
        }
    }

    /// Writes the buckets this chunk changed, coarsest duration first, each duration's table in
    /// one transaction with the frontier of what it absorbed. Coarsest first, so that a finer
    /// table deletes (purges) a bucket only after the coarser one committed it. When a write is
    /// given up on, the aggregation goes back to what the database holds.
    private func writeThrough() {
        guard let store else { return }
        let changes = store.changes(levels, clock: clockRow, handedOnBefore: handedOnBefore, groupValues: groupValues)
        for level in levels.indices.reversed() where !changes[level].isEmpty {
            let written = context.writeThrough(table: tables.tableName(durations[level]), changes: changes[level].count) {
                () throws(TableStoreError) in try store.stores[level].apply(changes[level])
            }
            guard written else {
                do { try load(from: store) } catch { needsReload = true }
                return
            }
        }
    }

    /// Reads the database back after a failed write; false (the failure reported) while it cannot.
    private func reloadAfterFailure() -> Bool {
        guard let store else { return true }
        needsReload = !context.writeThrough(table: tables.tableName(durations[0]), changes: 0) { () throws(TableStoreError) in
            try load(from: store)
        }
        return !needsReload
    }
}
