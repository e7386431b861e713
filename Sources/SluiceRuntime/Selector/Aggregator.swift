import SluiceCore

/// Siddhi's attribute aggregators by name.
enum AggregatorKind: String, CaseIterable {
    case sum, count, avg, min, max, distinctCount, stdDev, minForever, maxForever, and, or

    init?(name: String, namespace: String?) {
        guard namespace == nil, let k = AggregatorKind(rawValue: name) else { return nil }
        self = k
    }
}

/// An incremental aggregate kept per group in typed arrays indexed by group id.
/// `process` walks one chunk's rows in order: a current row adds, an expired row subtracts,
/// a reset row clears every group. After each row it records that row's group's result.
class Aggregator: Snapshottable {
    let resultType: AttributeType

    init(resultType: AttributeType) {
        self.resultType = resultType
    }

    func process(kinds: [EventKind], groups: [Int32], argument: Column?, into result: inout Column) {
        fatalError("abstract")
    }

    /// Adds current rows without recording each row's result (a batch window's rows folded in as
    /// they arrive); `results(ofGroups:)` reads the outcome.
    func fold(groups: [Int32], argument: Column?) {
        var scratch = Column(type: resultType, capacity: groups.count)
        process(kinds: [EventKind](repeating: .current, count: groups.count), groups: groups, argument: argument, into: &scratch)
    }

    /// Each group's result now: what `process` records for a row of that group.
    func results(ofGroups groups: [Int32]) -> Column {
        fatalError("abstract")
    }

    /// Clears every group, as a reset row does.
    final func reset(argumentType: AttributeType?) {
        var scratch = Column(type: resultType)
        let argument = argumentType.map { type -> Column in
            var c = Column(type: type)
            c.appendNull()
            return c
        }
        process(kinds: [.reset], groups: [0], argument: argument, into: &scratch)
    }

    func snapshot(into w: inout StateWriter) {}
    func restore(from r: inout StateReader) throws {}
}

/// Per-chunk helpers shared by the aggregators.
enum AggregateChunk {
    /// The number of groups a chunk touches (ids are dense), so state grows once per chunk.
    @inline(__always)
    static func groupCount(_ groups: [Int32]) -> Int {
        var m: Int32 = -1
        for g in groups where g > m { m = g }
        return Int(m) + 1
    }

    /// Adds one to each row's group count (rows all current).
    @inline(__always)
    static func countRows(_ groups: [Int32], into counts: inout [Int64]) {
        counts.ensure(groupCount(groups) - 1, 0)
        counts.withUnsafeMutableBufferPointer { counts in
            for g in groups { counts[Int(g)] += 1 }
        }
    }

    /// Marks one row null in a lazily created bitmap.
    @inline(__always)
    static func setNull(_ nulls: inout [Bool], _ row: Int, count: Int) {
        if nulls.isEmpty { nulls = [Bool](repeating: false, count: count) }
        nulls[row] = true
    }
}

extension Array {
    /// Grows to cover index `i`, filling with `value`.
    @inline(__always)
    mutating func ensure(_ i: Int, _ value: Element) {
        if i >= count { append(contentsOf: repeatElement(value, count: i - count + 1)) }
    }
}

/// `count()`: the number of events in the window (long).
final class CountAggregator: Aggregator {
    private var counts: [Int64] = []

    init() { super.init(resultType: .long) }

    override func process(kinds: [EventKind], groups: [Int32], argument: Column?, into result: inout Column) {
        // Work on a local copy: class-held arrays pay an exclusivity check on every access.
        var counts = self.counts
        self.counts = []
        defer { self.counts = counts }
        let n = kinds.count
        counts.ensure(AggregateChunk.groupCount(groups) - 1, 0)
        var out = [Int64](repeating: 0, count: n)
        for row in 0..<n {
            let g = Int(groups[row])
            switch kinds[row] {
            case .current: counts[g] += 1
            case .expired: counts[g] -= 1
            case .reset:
                for i in counts.indices { counts[i] = 0 }
            }
            out[row] = counts[g]
        }
        result = Column(longs: out, type: .long)
    }

    override func fold(groups: [Int32], argument: Column?) {
        var counts = self.counts
        self.counts = []
        AggregateChunk.countRows(groups, into: &counts)
        self.counts = counts
    }

    override func results(ofGroups groups: [Int32]) -> Column {
        Column(longs: groups.map { Int($0) < counts.count ? counts[Int($0)] : 0 })
    }

    override func snapshot(into w: inout StateWriter) { w.write(counts) }
    override func restore(from r: inout StateReader) throws { counts = try r.readLongs() }
}

/// `sum(x)`: long for int/long input, double for float/double; null while no value is in.
/// `avg(x)`: double; null while no value is in.
final class SumAggregator: Aggregator {
    let integral: Bool
    let average: Bool
    private var longSums: [Int64] = []
    private var doubleSums: [Double] = []
    private var counts: [Int64] = []

    init(inputType: AttributeType, average: Bool) {
        self.integral = inputType.isIntegral && !average
        self.average = average
        super.init(resultType: average ? .double : (inputType.isIntegral ? .long : .double))
    }

    /// Runs `body` on local copies of the state: class-held arrays pay an exclusivity check on every access.
    @inline(__always)
    private func withState(_ body: (inout [Int64], inout [Int64], inout [Double]) -> Void) {
        var counts = self.counts, longSums = self.longSums, doubleSums = self.doubleSums
        self.counts = []
        self.longSums = []
        self.doubleSums = []
        body(&counts, &longSums, &doubleSums)
        self.counts = counts
        self.longSums = longSums
        self.doubleSums = doubleSums
    }

    override func process(kinds: [EventKind], groups: [Int32], argument: Column?, into result: inout Column) {
        guard let arg = argument else { return }
        let argIntegral = arg.type.isIntegral
        withState { counts, longSums, doubleSums in
            let n = kinds.count
            let groupCount = AggregateChunk.groupCount(groups)
            counts.ensure(groupCount - 1, 0)
            if integral { longSums.ensure(groupCount - 1, 0) } else { doubleSums.ensure(groupCount - 1, 0) }
            var outLongs = integral ? [Int64](repeating: 0, count: n) : []
            var outDoubles = integral ? [] : [Double](repeating: 0, count: n)
            var nulls: [Bool] = []
            for row in 0..<n {
                let g = Int(groups[row])
                let kind = kinds[row]
                if kind == .reset {
                    for i in counts.indices { counts[i] = 0 }
                    for i in longSums.indices { longSums[i] = 0 }
                    for i in doubleSums.indices { doubleSums[i] = 0 }
                    AggregateChunk.setNull(&nulls, row, count: n)
                    continue
                }
                if !arg.isNull(row) {
                    let sign: Int64 = kind == .current ? 1 : -1
                    counts[g] += sign
                    if integral {
                        longSums[g] &+= sign &* arg.longs[row]
                    } else {
                        let v = argIntegral ? Double(arg.longs[row]) : arg.doubles[row]
                        doubleSums[g] += sign == 1 ? v : -v
                    }
                    if counts[g] == 0 {
                        // Drop rounding residue once the window is empty.
                        if integral { longSums[g] = 0 } else { doubleSums[g] = 0 }
                    }
                }
                if counts[g] == 0 {
                    AggregateChunk.setNull(&nulls, row, count: n)
                } else if average {
                    outDoubles[row] = doubleSums[g] / Double(counts[g])
                } else if integral {
                    outLongs[row] = longSums[g]
                } else {
                    outDoubles[row] = doubleSums[g]
                }
            }
            result = integral ? Column(longs: outLongs, nulls: nulls, type: resultType)
                : Column(doubles: outDoubles, nulls: nulls, type: resultType)
        }
    }

    override func fold(groups: [Int32], argument: Column?) {
        guard let arg = argument, !arg.hasNulls else {
            super.fold(groups: groups, argument: argument)
            return
        }
        withState { counts, longSums, doubleSums in
            let groupCount = AggregateChunk.groupCount(groups)
            if integral { longSums.ensure(groupCount - 1, 0) } else { doubleSums.ensure(groupCount - 1, 0) }
            AggregateChunk.countRows(groups, into: &counts)
            if integral {
                longSums.withUnsafeMutableBufferPointer { sums in
                    for (row, g) in groups.enumerated() { sums[Int(g)] &+= arg.longs[row] }
                }
            } else if arg.type.isIntegral {
                doubleSums.withUnsafeMutableBufferPointer { sums in
                    for (row, g) in groups.enumerated() { sums[Int(g)] += Double(arg.longs[row]) }
                }
            } else {
                doubleSums.withUnsafeMutableBufferPointer { sums in
                    for (row, g) in groups.enumerated() { sums[Int(g)] += arg.doubles[row] }
                }
            }
        }
    }

    override func results(ofGroups groups: [Int32]) -> Column {
        var result = Column(type: resultType, capacity: groups.count)
        for group in groups {
            let g = Int(group)
            let n = g < counts.count ? counts[g] : 0
            if n == 0 {
                result.appendNull()
            } else if average {
                result.appendDouble(doubleSums[g] / Double(n))
            } else if integral {
                result.appendLong(longSums[g])
            } else {
                result.appendDouble(doubleSums[g])
            }
        }
        return result
    }

    override func snapshot(into w: inout StateWriter) {
        w.write(longSums)
        w.write(doubleSums)
        w.write(counts)
    }

    override func restore(from r: inout StateReader) throws {
        longSums = try r.readLongs()
        doubleSums = try r.readDoubles()
        counts = try r.readLongs()
    }
}

/// `stdDev(x)`: population standard deviation (double), kept with Welford's update so removal is exact enough.
final class StdDevAggregator: Aggregator {
    private var counts: [Int64] = []
    private var means: [Double] = []
    private var m2s: [Double] = []

    init() { super.init(resultType: .double) }

    override func process(kinds: [EventKind], groups: [Int32], argument: Column?, into result: inout Column) {
        guard let arg = argument else { return }
        let argIntegral = arg.type.isIntegral
        var counts = self.counts, means = self.means, m2s = self.m2s
        self.counts = []
        self.means = []
        self.m2s = []
        defer {
            self.counts = counts
            self.means = means
            self.m2s = m2s
        }
        for row in 0..<kinds.count {
            let g = Int(groups[row])
            counts.ensure(g, 0)
            means.ensure(g, 0)
            m2s.ensure(g, 0)
            switch kinds[row] {
            case .reset:
                for i in counts.indices { counts[i] = 0; means[i] = 0; m2s[i] = 0 }
            case .current where !arg.isNull(row):
                let x = argIntegral ? Double(arg.longs[row]) : arg.doubles[row]
                counts[g] += 1
                let delta = x - means[g]
                means[g] += delta / Double(counts[g])
                m2s[g] += delta * (x - means[g])
            case .expired where !arg.isNull(row):
                let x = argIntegral ? Double(arg.longs[row]) : arg.doubles[row]
                if counts[g] <= 1 {
                    counts[g] = 0; means[g] = 0; m2s[g] = 0
                } else {
                    counts[g] -= 1
                    let delta = x - means[g]
                    means[g] -= delta / Double(counts[g])
                    m2s[g] -= delta * (x - means[g])
                }
            default: break
            }
            if counts[g] == 0 { result.appendNull() } else { result.appendDouble((max(0, m2s[g]) / Double(counts[g])).squareRoot()) }
        }
    }

    override func results(ofGroups groups: [Int32]) -> Column {
        var result = Column(type: .double, capacity: groups.count)
        for group in groups {
            let g = Int(group)
            if g >= counts.count || counts[g] == 0 { result.appendNull() } else { result.appendDouble((max(0, m2s[g]) / Double(counts[g])).squareRoot()) }
        }
        return result
    }

    override func snapshot(into w: inout StateWriter) {
        w.write(counts)
        w.write(means)
        w.write(m2s)
    }

    override func restore(from r: inout StateReader) throws {
        counts = try r.readLongs()
        means = try r.readDoubles()
        m2s = try r.readDoubles()
    }
}

/// `and(b)` is true when every bool in the window is true; `or(b)` when any is.
final class LogicalAggregator: Aggregator {
    let isAnd: Bool
    private var trues: [Int64] = []
    private var falses: [Int64] = []

    init(isAnd: Bool) {
        self.isAnd = isAnd
        super.init(resultType: .bool)
    }

    override func process(kinds: [EventKind], groups: [Int32], argument: Column?, into result: inout Column) {
        guard let arg = argument else { return }
        var trues = self.trues, falses = self.falses
        self.trues = []
        self.falses = []
        defer {
            self.trues = trues
            self.falses = falses
        }
        for row in 0..<kinds.count {
            let g = Int(groups[row])
            trues.ensure(g, 0)
            falses.ensure(g, 0)
            switch kinds[row] {
            case .reset:
                for i in trues.indices { trues[i] = 0; falses[i] = 0 }
            case .current, .expired:
                let d: Int64 = kinds[row] == .current ? 1 : -1
                if !arg.isNull(row) && arg.bools[row] { trues[g] += d } else { falses[g] += d }
            }
            result.appendBool(isAnd ? (trues[g] > 0 && falses[g] == 0) : trues[g] > 0)
        }
    }

    override func results(ofGroups groups: [Int32]) -> Column {
        Column(bools: groups.map { group in
            let g = Int(group)
            let t = g < trues.count ? trues[g] : 0, f = g < falses.count ? falses[g] : 0
            return isAnd ? (t > 0 && f == 0) : t > 0
        })
    }

    override func snapshot(into w: inout StateWriter) {
        w.write(trues)
        w.write(falses)
    }

    override func restore(from r: inout StateReader) throws {
        trues = try r.readLongs()
        falses = try r.readLongs()
    }
}

/// `distinctCount(x)`: the number of distinct non-null values in the window (long).
final class DistinctCountAggregator: Aggregator {
    private var seen: [[Value: Int]] = []

    init() { super.init(resultType: .long) }

    override func process(kinds: [EventKind], groups: [Int32], argument: Column?, into result: inout Column) {
        guard let arg = argument else { return }
        var seen = self.seen
        self.seen = []
        defer { self.seen = seen }
        for row in 0..<kinds.count {
            let g = Int(groups[row])
            seen.ensure(g, [:])
            switch kinds[row] {
            case .reset:
                for i in seen.indices { seen[i].removeAll() }
            case .current:
                seen[g][arg.value(at: row), default: 0] += 1
            case .expired:
                let v = arg.value(at: row)
                if let c = seen[g][v] { seen[g][v] = c > 1 ? c - 1 : nil }
            }
            result.appendLong(Int64(seen[g].count))
        }
    }

    override func results(ofGroups groups: [Int32]) -> Column {
        Column(longs: groups.map { Int($0) < seen.count ? Int64(seen[Int($0)].count) : 0 })
    }

    override func snapshot(into w: inout StateWriter) {
        w.write(seen.count)
        for s in seen {
            // Sorted so that equal states give equal bytes.
            let entries = s.sorted { $0.key.description < $1.key.description }
            w.write(entries.count)
            for (k, v) in entries {
                w.write(k)
                w.write(v)
            }
        }
    }

    override func restore(from r: inout StateReader) throws {
        let n = try r.readCount()
        seen = []
        for _ in 0..<n {
            let m = try r.readCount()
            var d: [Value: Int] = [:]
            for _ in 0..<m {
                let k = try r.readValue()
                d[k] = try r.readInt()
            }
            seen.append(d)
        }
    }
}
