import SluiceCore

/// The databases behind a `@store` aggregation: one `TableStore` per duration
/// (`AggregationTables`), and what each holds, so that a chunk writes only the buckets it changed.
///
/// The aggregation marks the cells it touches (new events, roll-ups) and the buckets it purges;
/// after the chunk, `changes` turns them into one transaction per duration table: inserts for new
/// buckets, updates (found by `AGG_TIMESTAMP`, `AGG_GROUP`) for changed ones, deletes for purged
/// ones, the finest table's clock row when it moved, and each coarser table's frontier row when
/// the roll-up into it moved: in the same transaction as the rows it absorbed, so that a roll-up
/// either committed with its frontier or not at all.
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
    /// Per duration, the frontier row it holds (the finer duration's `handedOnBefore`); `.min`
    /// while it holds none. Unused for the finest.
    private var storedFrontiers: [Int64]

    init(tables: AggregationTables, stores: [any TableStore]) {
        self.tables = tables
        self.stores = stores
        persisted = stores.map { _ in [] }
        dirty = stores.map { _ in [] }
        isDirty = stores.map { _ in [] }
        removed = stores.map { _ in [] }
        storedFrontiers = stores.map { _ in .min }
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

    /// Per duration, the changes since the last call, with the finest table's clock row and each
    /// coarser table's frontier row (`handedOnBefore`: per duration, what it has handed on).
    func changes(_ levels: [AggregationCells], clock: [Value]?, handedOnBefore: [Int64],
                 groupValues: (Int32) -> [Value]) -> [[TableChange]] {
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
            if level > 0, handedOnBefore[level - 1] != storedFrontiers[level] {
                let frontier = tables.frontierRow(handedOnBefore[level - 1])
                changes.append(storedFrontiers[level] == .min ? .insert(frontier)
                               : .update(old: tables.frontierRow(storedFrontiers[level]), new: frontier))
                storedFrontiers[level] = handedOnBefore[level - 1]
            }
            all.append(changes)
            removed[level] = []
            dirty[level] = []
            isDirty[level] = []
        }
        return all
    }

    /// After a load or a snapshot restored: the database holds exactly `levels`, `clock` and, per
    /// duration, the frontier row `frontiers` (`.min` for none).
    func holds(_ levels: [AggregationCells], clock: [Value]?, frontiers: [Int64]) {
        storedFrontiers = frontiers
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
