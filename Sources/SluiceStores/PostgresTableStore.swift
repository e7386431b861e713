import Logging
import NIOConcurrencyHelpers
import NIOCore
import NIOPosix
import PostgresNIO
import SluiceCore
import SluiceRuntime

/// A `@store` table in PostgreSQL (postgres-nio). It keeps one connection, opened on first use
/// and again after a failure broke it. The engine thread waits for each answer: a slow database
/// slows the engine, and that reaches the producers as back-pressure.
final class PostgresTableStore: TableStore {
    let address: PostgresAddress
    private let statements: TableStatements
    private let types: [AttributeType]
    private let retry: StoreRetry
    private let logger: Logger
    private let eventLoop: any EventLoop
    /// How long one statement may take before the connection is closed and the try failed.
    private let statementTimeout: TimeAmount
    private var connection: PostgresConnection?
    private static let connectionIDs = NIOLockedValueBox(0)

    init(address: PostgresAddress, statements: TableStatements, retry: StoreRetry, logger: Logger,
         eventLoop: any EventLoop = MultiThreadedEventLoopGroup.singleton.next(), statementTimeout: TimeAmount = .seconds(30)) {
        self.address = address
        self.statements = statements
        types = statements.columns.map(\.type)
        self.retry = retry
        self.logger = logger
        self.eventLoop = eventLoop
        self.statementTimeout = statementTimeout
    }

    deinit { connection.map(Self.discard) }

    /// Closes `connection`, keeping it alive until it is closed (postgres-nio requires that).
    private static func discard(_ connection: PostgresConnection) {
        connection.close().whenComplete { _ in withExtendedLifetime(connection) {} }
    }

    private var describedTable: String { "table '\(statements.table)' at \(address.host):\(address.port)/\(address.database)" }

    func loadRows() throws(TableStoreError) -> [[Value]] {
        try attempt("loading \(describedTable)") {
            let connection = try open()
            let result = try wait(connection.query(PostgresQuery(unsafeSQL: statements.selectAll), logger: logger), on: connection)
            return try result.rows.map { row in
                let cells = row.makeRandomAccess()
                return try types.indices.map { try Self.value(cells[$0], as: types[$0]) }
            }
        }
    }

    func apply(_ changes: [TableChange]) throws(TableStoreError) {
        guard !changes.isEmpty else { return }
        try attempt("writing \(changes.count) change(s) to \(describedTable)") {
            try transaction(changes.map(statements.statement(for:)))
        }
    }

    func replaceAll(with rows: [[Value]]) throws(TableStoreError) {
        try attempt("replacing the rows of \(describedTable)") {
            try transaction([BoundStatement(sql: statements.deleteAll, values: [])] + rows.map { statements.statement(for: .insert($0)) })
        }
    }

    private func transaction(_ bound: [BoundStatement]) throws {
        let connection = try open()
        _ = try wait(connection.query("BEGIN", logger: logger), on: connection)
        do {
            for statement in bound {
                _ = try wait(connection.query(try Self.query(statement), logger: logger), on: connection)
            }
            _ = try wait(connection.query("COMMIT", logger: logger), on: connection)
        } catch {
            // A broken connection rolls back by itself; a refused statement needs it said.
            if !connection.isClosed { _ = try? wait(connection.query("ROLLBACK", logger: logger), on: connection) }
            throw error
        }
    }

    /// The open connection, with the table created when missing.
    private func open() throws -> PostgresConnection {
        if let connection, !connection.isClosed { return connection }
        connection = nil
        var configuration = PostgresConnection.Configuration(host: address.host, port: address.port, username: address.username,
                                                             password: address.password, database: address.database, tls: .disable)
        configuration.options.connectTimeout = .seconds(10)
        let id = Self.connectionIDs.withLockedValue { $0 += 1; return $0 }
        let opened = try PostgresConnection.connect(on: eventLoop, configuration: configuration, id: id, logger: logger).wait()
        do {
            for sql in statements.create { _ = try wait(opened.query(PostgresQuery(unsafeSQL: sql), logger: logger), on: opened) }
        } catch {
            Self.discard(opened)
            throw error
        }
        connection = opened
        return opened
    }

    /// The answer of `future`, or a failure once `statementTimeout` passed (the connection is
    /// then closed, so that the statement cannot still land after the try was given up).
    private func wait<T: Sendable>(_ future: EventLoopFuture<T>, on connection: PostgresConnection) throws -> T {
        let timeout = eventLoop.scheduleTask(in: statementTimeout) { Self.discard(connection) }
        defer { timeout.cancel() }
        return try future.wait()
    }

    private func attempt<T>(_ what: String, _ body: () throws -> T) throws(TableStoreError) -> T {
        try retry.run(what, table: statements.table, logger: logger, classify: Self.classify, reset: {
            connection.map(Self.discard)
            connection = nil
        }, body)
    }

    /// Connection failures and the server's own troubles (SQLSTATE classes 08, 53, 57, 40 and
    /// 58) may pass; an error in what was asked (a constraint, a missing column) will not.
    static func classify(_ error: any Error) -> StoreFailureKind {
        guard let error = error as? PSQLError else { return StoreFailureKind(isTransient: true, message: "\(error)") }
        guard error.code == .server, let info = error.serverInfo else {
            return StoreFailureKind(isTransient: error.code != .tooManyParameters,
                                    message: "\(error.code)" + (error.underlying.map { ": \($0)" } ?? ""))
        }
        let state = info[.sqlState] ?? ""
        let message = "\(info[.message] ?? "error") (SQLSTATE \(state))"
        return StoreFailureKind(isTransient: ["08", "53", "57", "40", "58"].contains(String(state.prefix(2))), message: message)
    }

    static func query(_ statement: BoundStatement) throws -> PostgresQuery {
        var binds = PostgresBindings(capacity: statement.values.count)
        for value in statement.values {
            switch value {
            case .null: binds.appendNull()
            case .bool(let v): binds.append(v)
            case .int(let v): binds.append(v)
            case .long(let v): binds.append(v)
            case .float(let v): binds.append(v)
            case .double(let v): binds.append(v)
            case .string(let v): binds.append(v)
            }
        }
        return PostgresQuery(unsafeSQL: statement.sql, binds: binds)
    }

    static func value(_ cell: PostgresCell, as type: AttributeType) throws -> Value {
        switch type {
        case .string: try cell.decode(String?.self).map(Value.string) ?? .null
        case .int: try cell.decode(Int32?.self).map(Value.int) ?? .null
        case .long: try cell.decode(Int64?.self).map(Value.long) ?? .null
        case .float: try cell.decode(Float?.self).map(Value.float) ?? .null
        case .double: try cell.decode(Double?.self).map(Value.double) ?? .null
        case .bool: try cell.decode(Bool?.self).map(Value.bool) ?? .null
        case .object: .null
        }
    }
}
