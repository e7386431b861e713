import SluiceCore

/// The databases behind a `@store` aggregation: one `TableStore` per duration
/// (`AggregationTables`), and what each holds, so that a chunk writes only the buckets it changed.
///
/// The aggregation marks the cells it touches (new events, roll-ups) and the buckets it purges;
/// after the chunk, `changes` turns them into one transaction per duration table: inserts for new
/// buckets, updates (found by `AGG_TIMESTAMP`, `AGG_GROUP`) for changed ones, deletes for purged
/// ones, and the finest table's clock row when it moved.
final class AggregationStore {
    let tables: AggregationTables
    /// Per duration, finest first.
    let stores: [any TableStore]
    /// Per duration, the (bucket, group) cells the database has a row for.
    private var persisted: [Set<AggregationCells.Key>]
    /// Per duration, the cells changed since the last write, each once.
    private var dirty: [[Int32]]
    private var isDirty: [[Bool]]
    /// Per duration, the rows of purged buckets the database still has.
    private var removed: [[[Value]]]
    /// The clock row as the finest table holds it; nil before the first one is written.
    private var storedClock: [Value]?

    init(tables: AggregationTables, stores: [any TableStore]) {
        self.tables = tables
        self.stores = stores
        persisted = stores.map { _ in [] }
        dirty = stores.map { _ in [] }
        isDirty = stores.map { _ in [] }
        removed = stores.map { _ in [] }
    }

    /// Cells of duration `level` that changed (repeats allowed).
    func touched(_ level: Int, _ cells: [Int32]) {
        for c in cells { touched(level, cell: c) }
    }

    func touched(_ level: Int, cell c: Int32) {
        let i = Int(c)
        if i >= isDirty[level].count { isDirty[level].append(contentsOf: repeatElement(false, count: i + 1 - isDirty[level].count)) }
        if !isDirty[level][i] {
            isDirty[level][i] = true
            dirty[level].append(c)
        }
    }

    /// Duration `level` is about to drop the buckets before `cutoff` (which renumbers its cells):
    /// call with the cells as they are, then `renumbered` with the cells that remain.
    func purging(_ level: Int, before cutoff: Int64, _ cells: AggregationCells, groupValues: (Int32) -> [Value]) -> [AggregationCells.Key] {
        for c in cells.cells(startingIn: Int64.min..<cutoff) {
            let key = AggregationCells.Key(start: cells.starts[Int(c)], group: cells.groups[Int(c)])
            if persisted[level].remove(key) != nil { removed[level].append(tables.row(cells, c, groupValues: groupValues)) }
        }
        return dirty[level].map { AggregationCells.Key(start: cells.starts[Int($0)], group: cells.groups[Int($0)]) }
    }

    func renumbered(_ level: Int, dirtyKeys: [AggregationCells.Key], _ cells: AggregationCells) {
        dirty[level] = []
        isDirty[level] = []
        touched(level, dirtyKeys.compactMap { cells.existingCell(start: $0.start, group: $0.group) })
    }

    /// Per duration, the changes since the last call, and the finest table's clock row with them.
    func changes(_ levels: [AggregationCells], clock: [Value]?, groupValues: (Int32) -> [Value]) -> [[TableChange]] {
        var all: [[TableChange]] = []
        for level in levels.indices {
            var changes = removed[level].map(TableChange.delete)
            for c in dirty[level] {
                let row = tables.row(levels[level], c, groupValues: groupValues)
                let key = AggregationCells.Key(start: levels[level].starts[Int(c)], group: levels[level].groups[Int(c)])
                // An update finds its row by the primary key, which a bucket never changes.
                changes.append(persisted[level].insert(key).inserted ? .insert(row) : .update(old: row, new: row))
            }
            if level == 0, let clock, clock != storedClock {
                changes.append(storedClock.map { .update(old: $0, new: clock) } ?? .insert(clock))
                storedClock = clock
            }
            all.append(changes)
            removed[level] = []
            dirty[level] = []
            isDirty[level] = []
        }
        return all
    }

    /// After a load or a snapshot restored: the database holds exactly `levels` and `clock`.
    func holds(_ levels: [AggregationCells], clock: [Value]?) {
        for level in levels.indices {
            persisted[level] = Set((0..<Int32(levels[level].count)).map {
                AggregationCells.Key(start: levels[level].starts[Int($0)], group: levels[level].groups[Int($0)])
            })
            dirty[level] = []
            isDirty[level] = []
            removed[level] = []
        }
        storedClock = clock
    }
}
