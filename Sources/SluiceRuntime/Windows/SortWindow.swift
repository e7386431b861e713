import SluiceCore

/// Orders rows of one batch by a list of (column, ascending) keys; nulls sort first, as Java's comparators in Siddhi do.
struct RowOrdering {
    var keys: [(column: Int, ascending: Bool)]

    func compare(_ a: EventBatch, _ i: Int, _ b: EventBatch, _ j: Int) -> Int {
        for key in keys {
            let x = a.columns[key.column]
            let y = b.columns[key.column]
            let c = Self.compareCells(x, i, y, j)
            if c != 0 { return key.ascending ? c : -c }
        }
        return 0
    }

    static func compareCells(_ x: Column, _ i: Int, _ y: Column, _ j: Int) -> Int {
        let xn = x.isNull(i), yn = y.isNull(j)
        if xn || yn { return xn == yn ? 0 : (xn ? -1 : 1) }
        func cmp<T: Comparable>(_ p: T, _ q: T) -> Int { p < q ? -1 : (p == q ? 0 : 1) }
        switch x.type {
        case .int, .long: return cmp(x.longs[i], y.longs[j])
        case .float, .double: return cmp(x.doubles[i], y.doubles[j])
        case .bool: return cmp(x.bools[i] ? 1 : 0, y.bools[j] ? 1 : 0)
        case .string: return x.withUTF8(at: i) { p in y.withUTF8(at: j) { q in compareBytes(p, q) } }
        case .object: return cmp(x.objects[i].description, y.objects[j].description)
        }
    }
}

/// `sort(n, attr, 'asc'|'desc', …)`: keeps the n smallest events in the given order. When one more
/// arrives, the largest is evicted; the new event is emitted first, then the evicted one.
final class SortWindow: WindowProcessor {
    let length: Int
    let ordering: RowOrdering
    private var window: EventBatch

    init(length: Int, ordering: RowOrdering, types: [AttributeType], context: ExecutionContext, scheduler: Scheduler) {
        self.length = length
        self.ordering = ordering
        self.window = EventBatch(types: types)
        super.init(types: types, context: context, scheduler: scheduler)
    }

    override func process(_ chunk: EventBatch) {
        var out = newBatch(capacity: chunk.count * 2)
        for row in 0..<chunk.count where chunk.kinds[row] == .current {
            out.append(from: chunk, row: row)
            // Insert after every row that is not greater, so equal keys keep arrival order.
            var lo = 0, hi = window.count
            while lo < hi {
                let mid = (lo + hi) / 2
                if ordering.compare(window, mid, chunk, row) <= 0 { lo = mid + 1 } else { hi = mid }
            }
            var inserted = EventBatch(types: types)
            inserted.append(from: window, rows: 0..<lo)
            inserted.append(from: chunk, row: row, kind: .current)
            inserted.append(from: window, rows: lo..<window.count)
            window = inserted
            if window.count > length {
                let last = window.count - 1
                out.append(from: window, row: last, kind: .expired, timestamp: chunk.timestamps[row])
                window.remove(at: last)
            }
        }
        emit(out)
    }

    override func snapshot(into w: inout StateWriter) { w.write(window) }
    override func restore(from r: inout StateReader) throws { window = try r.readBatch() }
}
