import SluiceCore

/// `min(x)` / `max(x)` over a window, and `minForever` / `maxForever`.
/// Windowed variants keep each group's values as a sorted multiset so that an expired value
/// can be taken out; forever variants keep one running value and treat expired events as arrivals.
final class MinMaxAggregator: Aggregator {
    let wantMax: Bool
    let forever: Bool
    private let integral: Bool
    /// Values are kept as doubles or longs according to the input type.
    private var sortedLongs: [[Int64]] = []
    private var sortedDoubles: [[Double]] = []
    private var runningLongs: [Int64?] = []
    private var runningDoubles: [Double?] = []

    init(inputType: AttributeType, wantMax: Bool, forever: Bool) {
        self.wantMax = wantMax
        self.forever = forever
        self.integral = inputType.isIntegral
        super.init(resultType: inputType)
    }

    override func process(kinds: [EventKind], groups: [Int32], argument: Column?, into result: inout Column) {
        guard let arg = argument else { return }
        // Local copies avoid an exclusivity check per access to class-held arrays.
        if integral {
            var sorted = sortedLongs, running = runningLongs
            sortedLongs = []
            runningLongs = []
            run(kinds, groups, arg, arg.longs, &sorted, &running, &result) { $0.appendLong($1) }
            sortedLongs = sorted
            runningLongs = running
        } else {
            var sorted = sortedDoubles, running = runningDoubles
            sortedDoubles = []
            runningDoubles = []
            run(kinds, groups, arg, arg.doubles, &sorted, &running, &result) { $0.appendDouble($1) }
            sortedDoubles = sorted
            runningDoubles = running
        }
    }

    @inline(__always)
    private func run<T: Comparable>(_ kinds: [EventKind], _ groups: [Int32], _ arg: Column, _ values: [T],
                                    _ sorted: inout [[T]], _ running: inout [T?], _ result: inout Column,
                                    _ append: (inout Column, T) -> Void) {
        for row in 0..<kinds.count {
            let g = Int(groups[row])
            let kind = kinds[row]
            if forever {
                running.ensure(g, nil)
                if kind == .reset {
                    // Siddhi drops every group's state on a reset, forever aggregates included.
                    for i in running.indices { running[i] = nil }
                } else if !arg.isNull(row) {
                    let v = values[row]
                    if let cur = running[g] {
                        if wantMax ? v > cur : v < cur { running[g] = v }
                    } else {
                        running[g] = v
                    }
                }
                if let v = running[g] { append(&result, v) } else { result.appendNull() }
                continue
            }
            sorted.ensure(g, [])
            switch kind {
            case .reset:
                for i in sorted.indices { sorted[i].removeAll(keepingCapacity: true) }
            case .current where !arg.isNull(row):
                let v = values[row]
                sorted[g].insert(v, at: Self.lowerBound(sorted[g], v))
            case .expired where !arg.isNull(row):
                let v = values[row]
                let i = Self.lowerBound(sorted[g], v)
                if i < sorted[g].count && sorted[g][i] == v { sorted[g].remove(at: i) }
            default: break
            }
            if let v = wantMax ? sorted[g].last : sorted[g].first { append(&result, v) } else { result.appendNull() }
        }
    }

    /// Folded rows are never taken out again, so only a value better than the group's best can
    /// change a result: only those are kept (at the best end, so the order holds).
    override func fold(groups: [Int32], argument: Column?) {
        guard !forever, let arg = argument else { return super.fold(groups: groups, argument: argument) }
        if integral {
            var sorted = sortedLongs
            sortedLongs = []
            foldBest(groups, arg, arg.longs, &sorted)
            sortedLongs = sorted
        } else {
            var sorted = sortedDoubles
            sortedDoubles = []
            foldBest(groups, arg, arg.doubles, &sorted)
            sortedDoubles = sorted
        }
    }

    @inline(__always)
    private func foldBest<T: Comparable>(_ groups: [Int32], _ arg: Column, _ values: [T], _ sorted: inout [[T]]) {
        sorted.ensure(AggregateChunk.groupCount(groups) - 1, [])
        for row in 0..<groups.count where !arg.isNull(row) {
            let g = Int(groups[row]), v = values[row]
            if wantMax {
                if sorted[g].last.map({ v > $0 }) ?? true { sorted[g].append(v) }
            } else if sorted[g].first.map({ v < $0 }) ?? true {
                sorted[g].insert(v, at: 0)
            }
        }
    }

    override func results(ofGroups groups: [Int32]) -> Column {
        var result = Column(type: resultType, capacity: groups.count)
        for group in groups {
            let g = Int(group)
            if integral {
                let v = forever ? (g < runningLongs.count ? runningLongs[g] : nil)
                    : (g < sortedLongs.count ? (wantMax ? sortedLongs[g].last : sortedLongs[g].first) : nil)
                if let v { result.appendLong(v) } else { result.appendNull() }
            } else {
                let v = forever ? (g < runningDoubles.count ? runningDoubles[g] : nil)
                    : (g < sortedDoubles.count ? (wantMax ? sortedDoubles[g].last : sortedDoubles[g].first) : nil)
                if let v { result.appendDouble(v) } else { result.appendNull() }
            }
        }
        return result
    }

    private static func lowerBound<T: Comparable>(_ a: [T], _ v: T) -> Int {
        var lo = 0, hi = a.count
        while lo < hi {
            let mid = (lo + hi) / 2
            if a[mid] < v { lo = mid + 1 } else { hi = mid }
        }
        return lo
    }

    override func snapshot(into w: inout StateWriter) {
        w.write(sortedLongs.count)
        for s in sortedLongs { w.write(s) }
        w.write(sortedDoubles.count)
        for s in sortedDoubles { w.write(s) }
        w.write(runningLongs.count)
        for v in runningLongs { w.write(v) }
        w.write(runningDoubles.count)
        for v in runningDoubles { w.write(v != nil); w.write(v ?? 0) }
    }

    override func restore(from r: inout StateReader) throws {
        sortedLongs = try (0..<r.readCount()).map { _ in try r.readLongs() }
        sortedDoubles = try (0..<r.readCount()).map { _ in try r.readDoubles() }
        runningLongs = try (0..<r.readCount()).map { _ in try r.readOptionalInt64() }
        runningDoubles = try (0..<r.readCount()).map { _ in
            let has = try r.readBool()
            let v = try r.readDouble()
            return has ? v : nil
        }
    }
}
