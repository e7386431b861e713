import SluiceCore

/// The partial aggregates of one duration: one cell per (bucket start, group), its base values
/// in typed arrays indexed by cell (one array per base), and the cells of each bucket.
struct AggregationCells {
    struct Key: Hashable {
        var start: Int64
        var group: Int32
    }

    let layout: AggregationLayout
    private(set) var starts: [Int64] = []
    private(set) var groups: [Int32] = []
    /// Events per cell (`count()`).
    private(set) var counts: [Int64] = []
    /// The event time of each cell's newest event, which `last` values follow.
    private(set) var latest: [Int64] = []
    private var longs: [[Int64]]
    private var doubles: [[Double]]
    private var sets: [[Set<Value>]]
    private var values: [[Value]]
    private var index: [Key: Int32] = [:]
    /// The newest bucket's cells by group id (-1: none yet): most rows land there, and an array
    /// lookup is far cheaper than hashing a key.
    private var newestStart: Int64 = .min
    private var newestCells: [Int32] = []
    /// Bucket starts, ascending, and each bucket's cells in creation order.
    private(set) var bucketStarts: [Int64] = []
    private var bucketCells: [Int64: [Int32]] = [:]

    init(layout: AggregationLayout) {
        self.layout = layout
        longs = Array(repeating: [], count: layout.storageCounts[.longs, default: 0])
        doubles = Array(repeating: [], count: layout.storageCounts[.doubles, default: 0])
        sets = Array(repeating: [], count: layout.storageCounts[.sets, default: 0])
        values = Array(repeating: [], count: layout.storageCounts[.values, default: 0])
    }

    var count: Int { starts.count }
    var isEmpty: Bool { starts.isEmpty }

    /// The cell of (`start`, `group`), created empty when new.
    mutating func cell(start: Int64, group: Int32) -> Int32 {
        let g = Int(group)
        if start == newestStart, g < newestCells.count, newestCells[g] >= 0 { return newestCells[g] }
        let key = Key(start: start, group: group)
        if let c = index[key] { return c }
        let c = Int32(starts.count)
        index[key] = c
        starts.append(start)
        groups.append(group)
        counts.append(0)
        latest.append(.min)
        for (base, slot) in zip(layout.bases, layout.slots) {
            switch base {
            case .longSum, .present: longs[slot].append(0)
            case .longMin: longs[slot].append(.max)
            case .longMax: longs[slot].append(.min)
            case .doubleSum: doubles[slot].append(0)
            case .doubleMin: doubles[slot].append(.infinity)
            case .doubleMax: doubles[slot].append(-.infinity)
            case .distinct: sets[slot].append([])
            case .last: values[slot].append(.null)
            }
        }
        if start >= newestStart {
            if start > newestStart {
                newestStart = start
                newestCells.removeAll(keepingCapacity: true)
            }
            if g >= newestCells.count { newestCells.append(contentsOf: repeatElement(-1, count: g + 1 - newestCells.count)) }
            newestCells[g] = c
        }
        if bucketCells[start] == nil {
            bucketCells[start] = [c]
            // Buckets mostly arrive in order: append, else insert where it sorts.
            if let last = bucketStarts.last, last > start {
                bucketStarts.insert(start, at: bucketStarts.partitioningIndex { $0 > start })
            } else {
                bucketStarts.append(start)
            }
        } else {
            bucketCells[start]!.append(c)
        }
        return c
    }

    /// The cells of the buckets that start in `range`, bucket by bucket, ascending.
    func cells(startingIn range: Range<Int64>) -> [Int32] {
        var out: [Int32] = []
        var i = bucketStarts.partitioningIndex { $0 >= range.lowerBound }
        while i < bucketStarts.count, bucketStarts[i] < range.upperBound {
            out.append(contentsOf: bucketCells[bucketStarts[i]]!)
            i += 1
        }
        return out
    }

    /// Drops the buckets that start before `cutoff`, keeping the other cells in their order.
    mutating func removeBuckets(before cutoff: Int64) {
        var kept = AggregationCells(layout: layout)
        for c in cells(startingIn: cutoff..<Int64.max).sorted() {
            kept.merge(self, cell: c, into: kept.cell(start: starts[Int(c)], group: groups[Int(c)]))
        }
        self = kept
    }

    /// Adds rows `rows` of the evaluated `arguments` (`timestamps` their event times) to cells
    /// `cells` (one per row), base by base: each loop walks one column.
    mutating func add(rows: [Int], cells: [Int32], timestamps: [Int64], arguments: [Column]) {
        Self.fold(&counts, rows: rows, cells: cells, skippingNullsOf: nil) { n, _ in n += 1 }
        // Each cell's newest row wins its `last` values; ties go to the later arrival.
        var winners: [Int32: Int] = [:]
        let keepsLast = layout.bases.contains { $0.storage == .values }
        latest.withUnsafeMutableBufferPointer { latest in
            for i in rows.indices where timestamps[rows[i]] >= latest[Int(cells[i])] {
                latest[Int(cells[i])] = timestamps[rows[i]]
                if keepsLast { winners[cells[i]] = rows[i] }
            }
        }
        for (base, slot) in zip(layout.bases, layout.slots) {
            let column = arguments[base.argument]
            let ls = column.longs, ds = column.doubles
            switch base {
            case .longSum: update(\.longs, slot, rows, cells, column) { sum, r in sum &+= ls[r] }
            case .present: update(\.longs, slot, rows, cells, column) { n, _ in n += 1 }
            case .longMin: update(\.longs, slot, rows, cells, column) { m, r in m = min(m, ls[r]) }
            case .longMax: update(\.longs, slot, rows, cells, column) { m, r in m = max(m, ls[r]) }
            case .doubleSum where column.type.isIntegral: update(\.doubles, slot, rows, cells, column) { sum, r in sum += Double(ls[r]) }
            case .doubleSum: update(\.doubles, slot, rows, cells, column) { sum, r in sum += ds[r] }
            case .doubleMin: update(\.doubles, slot, rows, cells, column) { m, r in m = min(m, ds[r]) }
            case .doubleMax: update(\.doubles, slot, rows, cells, column) { m, r in m = max(m, ds[r]) }
            case .distinct:
                for (r, c) in zip(rows, cells) where !column.isNull(r) { sets[slot][Int(c)].insert(column.value(at: r)) }
            case .last:
                for (c, r) in winners { values[slot][Int(c)] = column.value(at: r) }
            }
        }
    }

    // A lane is taken out of `self` while a loop updates it: reached through `self`, every row
    // would pay an exclusivity check.
    private mutating func update<T>(_ lanes: WritableKeyPath<AggregationCells, [[T]]>, _ slot: Int, _ rows: [Int], _ cells: [Int32],
                                    _ column: Column, _ update: (inout T, Int) -> Void) {
        var lane = self[keyPath: lanes][slot]
        self[keyPath: lanes][slot] = []
        Self.fold(&lane, rows: rows, cells: cells, skippingNullsOf: column, update)
        self[keyPath: lanes][slot] = lane
    }

    /// Applies `update(&lane[cell], row)` to each row's cell, skipping rows where `column` is null.
    @inline(__always)
    private static func fold<T>(_ lane: inout [T], rows: [Int], cells: [Int32], skippingNullsOf column: Column?,
                                _ update: (inout T, Int) -> Void) {
        lane.withUnsafeMutableBufferPointer { lane in
            if let column, column.hasNulls {
                for i in rows.indices where !column.nulls[rows[i]] { update(&lane[Int(cells[i])], rows[i]) }
            } else {
                for i in rows.indices { update(&lane[Int(cells[i])], rows[i]) }
            }
        }
    }

    /// Folds cell `source` of `other` (same layout) into cell `target` of these cells.
    mutating func merge(_ other: AggregationCells, cell source: Int32, into target: Int32) {
        let s = Int(source), t = Int(target)
        counts[t] += other.counts[s]
        let newer = other.latest[s] >= latest[t]
        if newer { latest[t] = other.latest[s] }
        for (base, slot) in zip(layout.bases, layout.slots) {
            switch base {
            case .longSum, .present: longs[slot][t] &+= other.longs[slot][s]
            case .longMin: longs[slot][t] = min(longs[slot][t], other.longs[slot][s])
            case .longMax: longs[slot][t] = max(longs[slot][t], other.longs[slot][s])
            case .doubleSum: doubles[slot][t] += other.doubles[slot][s]
            case .doubleMin: doubles[slot][t] = min(doubles[slot][t], other.doubles[slot][s])
            case .doubleMax: doubles[slot][t] = max(doubles[slot][t], other.doubles[slot][s])
            case .distinct: sets[slot][t].formUnion(other.sets[slot][s])
            case .last: if newer && other.counts[s] > 0 { values[slot][t] = other.values[slot][s] }
            }
        }
    }

    /// Output `o` of cell `c`, appended to `column`.
    func append(output o: AggregationLayout.Output, of c: Int32, to column: inout Column) {
        let c = Int(c)
        func slot(_ base: Int) -> Int { layout.slots[base] }
        switch o {
        case .count:
            column.appendLong(counts[c])
        case .sum(let base, let present, let type):
            if longs[slot(present)][c] == 0 { column.appendNull() }
            else if type == .long { column.appendLong(longs[slot(base)][c]) }
            else { column.appendDouble(doubles[slot(base)][c]) }
        case .avg(let sum, let present):
            let n = longs[slot(present)][c]
            if n == 0 { column.appendNull() } else { column.appendDouble(doubles[slot(sum)][c] / Double(n)) }
        case .extreme(let base, let present, let type):
            if longs[slot(present)][c] == 0 { column.appendNull() }
            else if type.isIntegral { column.appendLong(longs[slot(base)][c]) }
            else { column.appendDouble(doubles[slot(base)][c]) }
        case .distinctCount(let base):
            column.appendLong(Int64(sets[slot(base)][c].count))
        case .last(let base, _):
            column.append(values[slot(base)][c])
        }
    }

    // MARK: Stored rows

    /// The cell of (`start`, `group`), if there is one.
    func existingCell(start: Int64, group: Int32) -> Int32? { index[Key(start: start, group: group)] }

    /// Cell `c` as a stored row holds it after its key: count, newest event time, then one value
    /// per base. Untouched minimums and maximums are null, so databases never see infinities.
    func storedValues(of c: Int32) -> [Value] {
        let c = Int(c)
        var row: [Value] = [.long(counts[c]), .long(latest[c])]
        row.reserveCapacity(2 + layout.bases.count)
        for (base, slot) in zip(layout.bases, layout.slots) {
            switch base {
            case .longSum, .present: row.append(.long(longs[slot][c]))
            case .longMin: row.append(longs[slot][c] == .max ? .null : .long(longs[slot][c]))
            case .longMax: row.append(longs[slot][c] == .min ? .null : .long(longs[slot][c]))
            case .doubleSum: row.append(.double(doubles[slot][c]))
            case .doubleMin, .doubleMax: row.append(doubles[slot][c].isFinite ? .double(doubles[slot][c]) : .null)
            case .distinct: row.append(.string(DistinctValuesText.encode(sets[slot][c])))
            case .last: row.append(values[slot][c])
            }
        }
        return row
    }

    /// Creates cell (`start`, `group`) holding `stored` (as `storedValues(of:)` wrote it).
    mutating func load(start: Int64, group: Int32, stored: [Value]) throws(TableStoreError) {
        guard stored.count == 2 + layout.bases.count, let count = stored[0].asInt64, let newest = stored[1].asInt64 else {
            throw TableStoreError("a stored bucket at \(start) has \(stored.count) values or no count, expected \(2 + layout.bases.count)")
        }
        let c = Int(cell(start: start, group: group))
        counts[c] = count
        latest[c] = newest
        for (i, (base, slot)) in zip(layout.bases, layout.slots).enumerated() {
            let v = stored[2 + i]
            switch base {
            case .longSum, .present, .longMin, .longMax: if let l = v.asInt64 { longs[slot][c] = l }
            case .doubleSum, .doubleMin, .doubleMax: if let d = v.asDouble { doubles[slot][c] = d }
            case .distinct:
                guard case .string(let text) = v, let set = DistinctValuesText.decode(text) else {
                    throw TableStoreError("a stored bucket at \(start) has an unreadable distinct set")
                }
                sets[slot][c] = set
            case .last: values[slot][c] = v
            }
        }
    }

    // MARK: Snapshots

    func snapshot(into w: inout StateWriter) {
        w.write(starts)
        w.write(groups.map(Int64.init))
        w.write(counts)
        w.write(latest)
        for lane in longs { w.write(lane) }
        for lane in doubles { w.write(lane) }
        for lane in sets {
            for set in lane { w.write(DistinctValuesText.canonicalOrder(set)) }
        }
        for lane in values { w.write(lane) }
    }

    mutating func restore(from r: inout StateReader) throws {
        self = AggregationCells(layout: layout)
        let starts = try r.readLongs()
        let groups = try r.readLongs().map { Int32(truncatingIfNeeded: $0) }
        let counts = try r.readLongs()
        let latest = try r.readLongs()
        guard groups.count == starts.count, counts.count == starts.count, latest.count == starts.count else {
            throw SnapshotError("aggregation cells disagree in length")
        }
        for (s, g) in zip(starts, groups) { _ = cell(start: s, group: g) }
        self.counts = counts
        self.latest = latest
        for i in longs.indices { longs[i] = try r.readLongs() }
        for i in doubles.indices { doubles[i] = try r.readDoubles() }
        for i in sets.indices { sets[i] = try (0..<starts.count).map { _ in Set(try r.readValues()) } }
        for i in values.indices { values[i] = try r.readValues() }
        guard longs.allSatisfy({ $0.count == starts.count }), doubles.allSatisfy({ $0.count == starts.count }),
              values.allSatisfy({ $0.count == starts.count }) else { throw SnapshotError("aggregation cells disagree in length") }
    }
}

extension Array {
    /// The first index whose element satisfies `belongs`, which must hold for a suffix of the array.
    func partitioningIndex(where belongs: (Element) -> Bool) -> Int {
        var low = 0, high = count
        while low < high {
            let mid = (low + high) / 2
            if belongs(self[mid]) { high = mid } else { low = mid + 1 }
        }
        return low
    }
}
