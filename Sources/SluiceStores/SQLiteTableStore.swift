import Foundation
import GRDB
import Logging
import SluiceCore
import SluiceRuntime

/// A `@store` table in a SQLite file (GRDB over the system's libsqlite3). The file and its
/// folder are created when missing; a locked or unreachable file is retried (`StoreRetry`).
final class SQLiteTableStore: TableStore {
    let path: String
    private let statements: TableStatements
    private let types: [AttributeType]
    private let retry: StoreRetry
    private let logger: Logger
    private var queue: DatabaseQueue?

    init(path: String, statements: TableStatements, retry: StoreRetry, logger: Logger) {
        self.path = path
        self.statements = statements
        types = statements.columns.map(\.type)
        self.retry = retry
        self.logger = logger
    }

    /// The open database, with the table created; opened again after a failure dropped it.
    private func database() throws -> DatabaseQueue {
        if let queue { return queue }
        try FileManager.default.createDirectory(atPath: (path as NSString).deletingLastPathComponent, withIntermediateDirectories: true)
        var configuration = Configuration()
        configuration.label = "sluice.store.\(statements.table)"
        let opened = try DatabaseQueue(path: path, configuration: configuration)
        try opened.write { db in
            for sql in statements.create { try db.execute(sql: sql) }
        }
        queue = opened
        return opened
    }

    func loadRows() throws(TableStoreError) -> [[Value]] {
        try attempt("loading table '\(statements.table)' from \(path)") {
            try database().read { db in
                try Row.fetchAll(db, sql: statements.selectAll).map { row in
                    types.indices.map { Self.value(row[$0] as DatabaseValue, as: types[$0]) }
                }
            }
        }
    }

    func apply(_ changes: [TableChange]) throws(TableStoreError) {
        guard !changes.isEmpty else { return }
        try attempt("writing \(changes.count) change(s) to table '\(statements.table)' in \(path)") {
            try database().inTransaction { db in
                for change in changes {
                    let statement = statements.statement(for: change)
                    try db.execute(sql: statement.sql, arguments: StatementArguments(statement.values.map(Self.databaseValue)))
                }
                return .commit
            }
        }
    }

    func replaceAll(with rows: [[Value]]) throws(TableStoreError) {
        try attempt("replacing the rows of table '\(statements.table)' in \(path)") {
            try database().inTransaction { db in
                try db.execute(sql: statements.deleteAll)
                for row in rows {
                    let statement = statements.statement(for: .insert(row))
                    try db.execute(sql: statement.sql, arguments: StatementArguments(statement.values.map(Self.databaseValue)))
                }
                return .commit
            }
        }
    }

    private func attempt<T>(_ what: String, _ body: () throws -> T) throws(TableStoreError) -> T {
        try retry.run(what, table: statements.table, logger: logger, classify: Self.classify, reset: { queue = nil }, body)
    }

    /// Busy, locked, I/O and open failures may pass; anything else is in what was asked.
    static func classify(_ error: any Error) -> StoreFailureKind {
        guard let error = error as? DatabaseError else { return StoreFailureKind(isTransient: true, message: "\(error)") }
        let transient: [ResultCode] = [.SQLITE_BUSY, .SQLITE_LOCKED, .SQLITE_IOERR, .SQLITE_CANTOPEN, .SQLITE_FULL, .SQLITE_PROTOCOL]
        return StoreFailureKind(isTransient: transient.contains(error.resultCode), message: error.description)
    }

    static func databaseValue(_ value: Value) -> DatabaseValue {
        switch value {
        case .null: .null
        case .bool(let v): (v ? 1 : 0 as Int64).databaseValue
        case .int(let v): Int64(v).databaseValue
        case .long(let v): v.databaseValue
        case .float(let v): Double(v).databaseValue
        case .double(let v): v.databaseValue
        case .string(let v): v.databaseValue
        }
    }

    /// SQLite keeps a value in the storage class it likes: read it back as the attribute's type.
    static func value(_ stored: DatabaseValue, as type: AttributeType) -> Value {
        switch (stored.storage, type) {
        case (.null, _): .null
        case (.int64(let v), .int): .int(Int32(truncatingIfNeeded: v))
        case (.int64(let v), .long): .long(v)
        case (.int64(let v), .float): .float(Float(v))
        case (.int64(let v), .double): .double(Double(v))
        case (.int64(let v), .bool): .bool(v != 0)
        case (.int64(let v), .string): .string(String(v))
        case (.double(let v), .float): .float(Float(v))
        case (.double(let v), .double): .double(v)
        case (.double(let v), .int): Int32(exactly: v).map(Value.int) ?? .null
        case (.double(let v), .long): Int64(exactly: v).map(Value.long) ?? .null
        case (.double(let v), .bool): .bool(v != 0)
        case (.double(let v), .string): .string(String(v))
        case (.string(let v), .string): .string(v)
        case (.string(let v), .bool): .bool(v.lowercased() == "true" || v == "1")
        case (.string(let v), .int): Int32(v).map(Value.int) ?? .null
        case (.string(let v), .long): Int64(v).map(Value.long) ?? .null
        case (.string(let v), .float): Float(v).map(Value.float) ?? .null
        case (.string(let v), .double): Double(v).map(Value.double) ?? .null
        case (.blob(let data), .string): .string(String(decoding: data, as: UTF8.self))
        case (.blob, _), (_, .object): .null
        }
    }
}
