import SluiceCore
import SluiceQL

/// One change a query made to a stored table, with the row's values as the table held them.
/// A store finds the changed row by its primary key, or, in a table without one, by all of its
/// values (rows with equal values are interchangeable).
public enum TableChange: Sendable, Hashable {
    case insert([Value])
    case delete([Value])
    case update(old: [Value], new: [Value])
}

/// What a `@store` table is kept in: the runtime reads every row once at deploy and afterwards
/// writes each chunk's changes as one transaction. The in-memory copy stays what queries read.
///
/// Both calls run on the engine's thread and may block: a store retries a database that is down
/// (with its own clock) before it throws. The runtime never waits on a clock itself.
public protocol TableStore: AnyObject {
    /// The rows the database holds, in the order it keeps them.
    func loadRows() throws(TableStoreError) -> [[Value]]
    /// Applies `changes`, in order, all or nothing.
    func apply(_ changes: [TableChange]) throws(TableStoreError)
    /// Makes the database hold exactly `rows` (a snapshot restored), all or nothing.
    func replaceAll(with rows: [[Value]]) throws(TableStoreError)
}

/// A store that could not do what it was asked, after its retries.
public struct TableStoreError: Error, Sendable, Hashable, CustomStringConvertible {
    public var description: String
    /// Whether trying again may succeed (the database is down or busy), rather than the write
    /// being refused for what it is (a constraint, a value too long).
    public var isTransient: Bool
    public init(_ description: String, isTransient: Bool = true) {
        self.description = description
        self.isTransient = isTransient
    }
}

/// What a store provider is given for one `define table` carrying `@store`.
public struct TableStoreRequest: Sendable {
    public var definition: TableDefinition
    /// The `@store(…)` annotation itself, for its options and for diagnostics.
    public var store: Annotation
    public var schema: StreamSchema
    /// `@PrimaryKey` attribute names, in order; empty without one.
    public var primaryKey: [String]
    /// One entry per `@Index(…)`: the attribute names it covers.
    public var indexes: [[String]]
    /// The app's name, for stores that name files after it.
    public var appName: String

    public init(definition: TableDefinition, store: Annotation, schema: StreamSchema, primaryKey: [String], indexes: [[String]],
                appName: String) {
        self.definition = definition
        self.store = store
        self.schema = schema
        self.primaryKey = primaryKey
        self.indexes = indexes
        self.appName = appName
    }
}

/// Opens the store of a `@store` table; a `Diagnostic` at the annotation when its options are wrong.
public typealias TableStoreProvider = (TableStoreRequest) throws(Diagnostic) -> any TableStore
