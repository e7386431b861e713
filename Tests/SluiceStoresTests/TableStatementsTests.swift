import SluiceCore
import SluiceRuntime
import Testing
@testable import SluiceStores

/// The SQL each dialect gets for each change, as values.
@Suite struct TableStatementsTests {
    static let schema = StreamSchema(name: "StockTable", attributes: [
        .init(name: "Symbol", type: .string), .init(name: "price", type: .double), .init(name: "volume", type: .long),
    ])

    func statements(_ dialect: SQLDialect, key: [String]) -> TableStatements {
        TableStatements(dialect: dialect, table: "StockTable", schema: Self.schema, primaryKey: key, indexes: [["volume"]],
                        fieldLengths: ["Symbol": 10])
    }

    @Test func aKeyedTableFindsRowsByKey() {
        let postgres = statements(.postgres, key: ["Symbol"])
        #expect(postgres.create == [
            "CREATE TABLE IF NOT EXISTS \"stocktable\" (\"symbol\" VARCHAR(10), \"price\" DOUBLE PRECISION, \"volume\" BIGINT, "
                + "PRIMARY KEY (\"symbol\"))",
            "CREATE INDEX IF NOT EXISTS \"stocktable_volume_index\" ON \"stocktable\" (\"volume\")",
        ])
        #expect(postgres.selectAll == "SELECT \"symbol\", \"price\", \"volume\" FROM \"stocktable\" ORDER BY \"symbol\"")
        let old: [Value] = [.string("A"), .double(1), .long(2)], new: [Value] = [.string("A"), .double(3), .int(4)]
        #expect(postgres.statement(for: .update(old: old, new: new)) == BoundStatement(
            sql: "UPDATE \"stocktable\" SET \"symbol\" = $1, \"price\" = $2, \"volume\" = $3 WHERE \"symbol\" = $4",
            values: [.string("A"), .double(3), .long(4), .string("A")]))
        #expect(postgres.statement(for: .insert(old)) == BoundStatement(
            sql: "INSERT INTO \"stocktable\" (\"symbol\", \"price\", \"volume\") VALUES ($1, $2, $3)", values: old))
    }

    @Test func aTableWithoutKeyChangesOneRowWithTheSameValues() {
        let sqlite = statements(.sqlite, key: [])
        #expect(sqlite.statement(for: .delete([.string("A"), .null, .long(2)])) == BoundStatement(
            sql: "DELETE FROM \"StockTable\" WHERE rowid = (SELECT rowid FROM \"StockTable\" WHERE \"Symbol\" = ? AND \"price\" IS NULL "
                + "AND \"volume\" = ? LIMIT 1)",
            values: [.string("A"), .long(2)]))
        #expect(statements(.postgres, key: []).statement(for: .delete([.null, .double(1), .null])) == BoundStatement(
            sql: "DELETE FROM \"stocktable\" WHERE ctid = (SELECT ctid FROM \"stocktable\" WHERE \"symbol\" IS NULL AND \"price\" = $1 "
                + "AND \"volume\" IS NULL LIMIT 1)",
            values: [.double(1)]))
    }

    @Test func retriesDoubleTheirWaitUpToTheCap() {
        let retry = StoreRetry(attempts: 6, firstDelay: .milliseconds(100), maxDelay: .milliseconds(500)) { _ in }
        #expect(retry.delays == [.milliseconds(100), .milliseconds(200), .milliseconds(400), .milliseconds(500), .milliseconds(500)])
    }
}
