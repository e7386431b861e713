/// A chunk's changes to a `@store` table that its database refused, after the store's own retries.
public struct StoreWriteFailure: Sendable, Hashable, CustomStringConvertible {
    public var table: String
    /// How many row changes the failed transaction carried.
    public var changes: Int
    public var reason: String
    /// True when the engine tries the same write again (the input's `@OnError(action='WAIT')`);
    /// false when it gave up and rolled the table back to what the database holds.
    public var willRetry: Bool

    public init(table: String, changes: Int, reason: String, willRetry: Bool) {
        self.table = table
        self.changes = changes
        self.reason = reason
        self.willRetry = willRetry
    }

    public var description: String {
        "table '\(table)': \(reason)" + (willRetry ? "; retrying" : "; the changes were rolled back")
    }
}
