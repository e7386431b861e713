import Logging
import SluiceCore
import SluiceQL
import SluiceRuntime

/// Opens the database of each `@store(type='rdbms', …)` table: a SQLite file in `dataDirectory`
/// when `jdbc.url` is absent or `jdbc:sqlite:` (a relative path is taken from `dataDirectory`),
/// or a PostgreSQL table for `jdbc:postgresql://…`. Pass `provider` to `AppRuntime`.
public struct RDBMSStores: Sendable {
    public var dataDirectory: String
    public var retry: StoreRetry
    /// False on a node of an HA group: both replicas apply the same events, so a database they
    /// shared would get every change twice. Each replica then keeps its own SQLite file.
    public var allowsSharedDatabases: Bool
    public var logger: Logger

    public init(dataDirectory: String, retry: StoreRetry = StoreRetry(), allowsSharedDatabases: Bool = true,
                logger: Logger = Logger(label: "sluice.store")) {
        self.dataDirectory = dataDirectory
        self.retry = retry
        self.allowsSharedDatabases = allowsSharedDatabases
        self.logger = logger
    }

    public var provider: TableStoreProvider {
        { request throws(Diagnostic) in try self.open(request) }
    }

    public func open(_ request: TableStoreRequest) throws(Diagnostic) -> any TableStore {
        let options = try StoreOptions(request, dataDirectory: dataDirectory)
        switch options.location {
        case .sqlite(let path):
            return SQLiteTableStore(path: path, statements: statements(options, request, .sqlite), retry: retry, logger: logger)
        case .postgres(let address):
            guard allowsSharedDatabases else {
                throw Diagnostic("table '\(request.schema.name)': both nodes of an HA group apply every event, so a PostgreSQL table they "
                                 + "shared would get each change twice; on a group's node, keep the table in each node's own SQLite "
                                 + "file (leave out jdbc.url)", at: request.store.range)
            }
            return PostgresTableStore(address: address, statements: statements(options, request, .postgres), retry: retry, logger: logger)
        }
    }

    /// Checks a `@store` annotation's options without opening anything (`sluice check`).
    public static func validate(_ request: TableStoreRequest) throws(Diagnostic) {
        _ = try StoreOptions(request, dataDirectory: ".")
    }

    private func statements(_ options: StoreOptions, _ request: TableStoreRequest, _ dialect: SQLDialect) -> TableStatements {
        TableStatements(dialect: dialect, table: options.tableName, schema: request.schema, primaryKey: request.primaryKey,
                        indexes: request.indexes, fieldLengths: options.fieldLengths)
    }
}
