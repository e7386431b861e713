import SluiceCore
import SluiceQL

/// `define table T (…)`: rows in insertion order. With `@PrimaryKey`, one row per key: an insert
/// whose key is already there is refused. Rows live as values, so that updates and deletes touch
/// only their rows; scans (joins, `in`, on-demand queries) read a columnar copy that is rebuilt
/// only after the table changed.
///
/// A `@store` table is this same copy, written through: every change is journalled and the
/// journal of a chunk goes to the store as one transaction (`writeThrough`).
final class InMemoryTable: Snapshottable, JoinSearchable {
    let schema: StreamSchema
    /// Columns of the primary key, in `@PrimaryKey` order; empty without one.
    let primaryKey: [Int]
    private(set) var rows: [[Value]] = []
    private var rowOfKey: [[Value]: Int] = [:]
    private var columnar: EventBatch?
    /// The database behind a `@store` table; nil for a table kept in memory only.
    private(set) var store: (any TableStore)?
    /// Changes not yet written to `store`, and the rows as the store last had them.
    private var journal: [TableChange] = []
    private var rowsInStore: [[Value]]?

    init(definition: TableDefinition) throws(Diagnostic) {
        schema = StreamSchema(name: definition.name.name, attributes: definition.attributes.map { .init(name: $0.name, type: $0.type) })
        var key: [Int] = []
        for annotation in definition.annotations where annotation.name.lowercased() == "primarykey" {
            for element in annotation.elements {
                guard let i = schema.attributes.firstIndex(where: { $0.name == element.value }) else {
                    throw Diagnostic("@PrimaryKey names '\(element.value)', which table '\(schema.name)' does not have", at: annotation.range)
                }
                if key.contains(i) { throw Diagnostic("@PrimaryKey names '\(element.value)' twice", at: annotation.range) }
                key.append(i)
            }
        }
        for annotation in definition.annotations where annotation.name.lowercased() == "index" {
            for element in annotation.elements where !schema.attributes.contains(where: { $0.name == element.value }) {
                throw Diagnostic("@Index names '\(element.value)', which table '\(schema.name)' does not have", at: annotation.range)
            }
        }
        primaryKey = key
    }

    var count: Int { rows.count }

    /// `@PrimaryKey` and `@Index` as attribute names, for a store that creates the table.
    static func keys(of definition: TableDefinition) -> (primaryKey: [String], indexes: [[String]]) {
        let primaryKey = definition.annotations.filter { $0.name.lowercased() == "primarykey" }.flatMap { $0.elements.map(\.value) }
        let indexes = definition.annotations.filter { $0.name.lowercased() == "index" }.map { $0.elements.map(\.value) }
        return (primaryKey, indexes)
    }

    /// Makes `store` this table's database and loads what it holds.
    func attach(_ store: any TableStore) throws(TableStoreError) {
        let loaded = try store.loadRows()
        rows = []
        rowOfKey = [:]
        columnar = nil
        for row in loaded {
            guard row.count == schema.attributes.count else {
                throw TableStoreError("a stored row of table '\(schema.name)' has \(row.count) values, the table \(schema.attributes.count)")
            }
            insert(row)
        }
        self.store = store
    }

    private func journalled(_ change: TableChange) {
        guard store != nil else { return }
        if rowsInStore == nil { rowsInStore = rows }
        journal.append(change)
    }

    /// Writes the changes made since the last call as one transaction. A failure is reported to
    /// `context`; unless its input waits for the store, the table then goes back to the rows the
    /// store holds, so that memory and database never disagree.
    func writeThrough(_ context: ExecutionContext) {
        guard let store, !journal.isEmpty else { return }
        let changes = journal
        journal = []
        let written = context.writeThrough(table: schema.name, changes: changes.count) { () throws(TableStoreError) in
            try store.apply(changes)
        }
        if !written {
            rows = rowsInStore ?? rows
            reindex()
            columnar = nil
        }
        rowsInStore = nil
    }

    /// The rows as a batch (timestamps 0), for scans.
    var joinContents: (batch: EventBatch, rows: Range<Int>) {
        let batch = contents
        return (batch, 0..<batch.count)
    }

    var contents: EventBatch {
        if let columnar { return columnar }
        var batch = EventBatch(types: schema.attributes.map(\.type), capacity: rows.count)
        for row in rows { batch.append(timestamp: 0, values: row) }
        columnar = batch
        return batch
    }

    private func key(of row: [Value]) -> [Value] { primaryKey.map { row[$0] } }

    /// Appends a row; false (and nothing changes) when its primary key is taken.
    @discardableResult
    func insert(_ row: [Value]) -> Bool {
        if !primaryKey.isEmpty {
            let k = key(of: row)
            guard rowOfKey[k] == nil else { return false }
            rowOfKey[k] = rows.count
        }
        journalled(.insert(row))
        rows.append(row)
        columnar = nil
        return true
    }

    /// The row holding primary key `key`, if any.
    func row(withKey key: [Value]) -> Int? { rowOfKey[key] }

    /// Removes rows at `positions` (ascending, distinct).
    func delete(_ positions: [Int]) {
        guard !positions.isEmpty else { return }
        var keep = [Bool](repeating: true, count: rows.count)
        for p in positions {
            keep[p] = false
            journalled(.delete(rows[p]))
        }
        var kept: [[Value]] = []
        kept.reserveCapacity(rows.count - positions.count)
        for (i, row) in rows.enumerated() where keep[i] { kept.append(row) }
        rows = kept
        reindex()
        columnar = nil
    }

    /// Sets the cells `values` (column → value) of row `position`. False when the new primary
    /// key is another row's; the row is then left as it was.
    @discardableResult
    func update(_ position: Int, _ values: [(column: Int, value: Value)]) -> Bool {
        var row = rows[position]
        for (column, value) in values { row[column] = value }
        if !primaryKey.isEmpty {
            let old = key(of: rows[position]), new = key(of: row)
            if old != new {
                guard rowOfKey[new] == nil else { return false }
                rowOfKey[old] = nil
                rowOfKey[new] = position
            }
        }
        if row != rows[position] { journalled(.update(old: rows[position], new: row)) }
        rows[position] = row
        columnar = nil
        return true
    }

    private func reindex() {
        guard !primaryKey.isEmpty else { return }
        rowOfKey.removeAll(keepingCapacity: true)
        for (i, row) in rows.enumerated() { rowOfKey[key(of: row)] = i }
    }

    func snapshot(into w: inout StateWriter) {
        w.write(rows.count)
        for row in rows { w.write(row) }
    }

    func restore(from r: inout StateReader) throws {
        let n = try r.readCount()
        var restored: [[Value]] = []
        restored.reserveCapacity(n)
        for _ in 0..<n { restored.append(try r.readValues()) }
        // A stored table's database follows the snapshot, so that a restart loads what it restored.
        try store?.replaceAll(with: restored)
        rows = restored
        journal = []
        rowsInStore = nil
        reindex()
        columnar = nil
    }
}
