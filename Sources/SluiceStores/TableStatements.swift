import SluiceCore
import SluiceRuntime

/// What differs between the SQL that SQLite and PostgreSQL accept for the same table.
struct SQLDialect: Sendable {
    /// The n-th (from 1) parameter marker.
    var placeholder: @Sendable (Int) -> String
    /// The hidden column naming one physical row: SQLite's `rowid`, PostgreSQL's `ctid`.
    var rowIdentity: String
    var columnType: @Sendable (AttributeType, _ length: Int?) -> String
    /// A name as the database spells it once quoted: PostgreSQL folds the unquoted names that
    /// Siddhi's rdbms store wrote to lower case, so tables it created are found.
    var spelling: @Sendable (String) -> String = { $0 }

    static let sqlite = SQLDialect(placeholder: { _ in "?" }, rowIdentity: "rowid") { type, length in
        switch type {
        case .string: length.map { "VARCHAR(\($0))" } ?? "TEXT"
        case .int: "INTEGER"
        case .long: "BIGINT"
        case .float: "FLOAT"
        case .double: "DOUBLE"
        case .bool: "BOOLEAN"
        case .object: "BLOB"
        }
    }

    static let postgres = SQLDialect(placeholder: { "$\($0)" }, rowIdentity: "ctid", columnType: { type, length in
        switch type {
        case .string: length.map { "VARCHAR(\($0))" } ?? "TEXT"
        case .int: "INTEGER"
        case .long: "BIGINT"
        case .float: "REAL"
        case .double: "DOUBLE PRECISION"
        case .bool: "BOOLEAN"
        case .object: "BYTEA"
        }
    }, spelling: { $0.lowercased() })
}

/// One SQL statement and the values bound to its parameters, in order.
struct BoundStatement: Equatable {
    var sql: String
    var values: [Value]
}

/// The statements that keep one database table equal to a Siddhi table: create it, read it, and
/// apply each `TableChange`. A changed row is found by its primary key, or, without one, as one
/// physical row whose every column equals the old values.
struct TableStatements: Sendable {
    let dialect: SQLDialect
    let table: String
    let columns: [StreamSchema.Attribute]
    let primaryKey: [Int]
    let indexes: [[Int]]
    let fieldLengths: [String: Int]

    init(dialect: SQLDialect, table: String, schema: StreamSchema, primaryKey: [String], indexes: [[String]], fieldLengths: [String: Int]) {
        self.dialect = dialect
        self.table = table
        columns = schema.attributes
        self.primaryKey = primaryKey.compactMap(schema.index(of:))
        self.indexes = indexes.map { $0.compactMap(schema.index(of:)) }.filter { !$0.isEmpty }
        self.fieldLengths = fieldLengths
    }

    func quoted(_ identifier: String) -> String {
        "\"" + dialect.spelling(identifier).replacingOccurrences(of: "\"", with: "\"\"") + "\""
    }

    private var quotedTable: String { quoted(table) }
    private var columnList: String { columns.map { quoted($0.name) }.joined(separator: ", ") }

    /// CREATE TABLE and its indexes, each a no-op when it exists.
    var create: [String] {
        var definitions = columns.map { "\(quoted($0.name)) \(dialect.columnType($0.type, fieldLengths[$0.name]))" }
        if !primaryKey.isEmpty {
            definitions.append("PRIMARY KEY (" + primaryKey.map { quoted(columns[$0].name) }.joined(separator: ", ") + ")")
        }
        var statements = ["CREATE TABLE IF NOT EXISTS \(quotedTable) (\(definitions.joined(separator: ", ")))"]
        for index in indexes {
            let name = quoted(([table] + index.map { columns[$0].name } + ["index"]).joined(separator: "_"))
            statements.append("CREATE INDEX IF NOT EXISTS \(name) ON \(quotedTable) (" + index.map { quoted(columns[$0].name) }
                .joined(separator: ", ") + ")")
        }
        return statements
    }

    /// Every row; SQLite's in insertion order, PostgreSQL's by primary key when there is one.
    var selectAll: String {
        let order = dialect.rowIdentity == "rowid" ? " ORDER BY rowid"
            : primaryKey.isEmpty ? "" : " ORDER BY " + primaryKey.map { quoted(columns[$0].name) }.joined(separator: ", ")
        return "SELECT \(columnList) FROM \(quotedTable)\(order)"
    }

    var deleteAll: String { "DELETE FROM \(quotedTable)" }

    func statement(for change: TableChange) -> BoundStatement {
        switch change.coerced(to: columns.map(\.type)) {
        case .insert(let row):
            let markers = (1...columns.count).map(dialect.placeholder).joined(separator: ", ")
            return BoundStatement(sql: "INSERT INTO \(quotedTable) (\(columnList)) VALUES (\(markers))", values: row)
        case .delete(let row):
            let (condition, values) = locate(row, firstParameter: 1)
            return BoundStatement(sql: "DELETE FROM \(quotedTable) WHERE \(condition)", values: values)
        case .update(let old, let new):
            let assignments = columns.indices.map { "\(quoted(columns[$0].name)) = \(dialect.placeholder($0 + 1))" }
            let (condition, values) = locate(old, firstParameter: columns.count + 1)
            return BoundStatement(sql: "UPDATE \(quotedTable) SET \(assignments.joined(separator: ", ")) WHERE \(condition)",
                                  values: new + values)
        }
    }

    /// The condition that finds `row` and its parameters. A null compares with IS NULL, so that
    /// every other column keeps a plain `=` an index can serve.
    private func locate(_ row: [Value], firstParameter: Int) -> (String, [Value]) {
        let compared = primaryKey.isEmpty ? Array(columns.indices) : primaryKey
        var terms: [String] = [], values: [Value] = []
        for column in compared {
            let name = quoted(columns[column].name)
            if row[column].isNull {
                terms.append("\(name) IS NULL")
            } else {
                values.append(row[column])
                terms.append("\(name) = \(dialect.placeholder(firstParameter + values.count - 1))")
            }
        }
        let condition = terms.isEmpty ? "TRUE" : terms.joined(separator: " AND ")
        guard primaryKey.isEmpty else { return (condition, values) }
        // Equal rows are interchangeable: change just one of them.
        let id = dialect.rowIdentity
        return ("\(id) = (SELECT \(id) FROM \(quotedTable) WHERE \(condition) LIMIT 1)", values)
    }
}

extension TableChange {
    /// Each value as its column's type: a `set` may assign an int to a long attribute.
    func coerced(to types: [AttributeType]) -> TableChange {
        func coerce(_ row: [Value]) -> [Value] {
            zip(row, types).map { value, type in
                switch (value, type) {
                case (.int(let v), .long): .long(Int64(v))
                case (.int(let v), .float): .float(Float(v))
                case (.int(let v), .double): .double(Double(v))
                case (.long(let v), .float): .float(Float(v))
                case (.long(let v), .double): .double(Double(v))
                case (.float(let v), .double): .double(Double(v))
                default: value
                }
            }
        }
        switch self {
        case .insert(let row): return .insert(coerce(row))
        case .delete(let row): return .delete(coerce(row))
        case .update(let old, let new): return .update(old: coerce(old), new: coerce(new))
        }
    }
}
