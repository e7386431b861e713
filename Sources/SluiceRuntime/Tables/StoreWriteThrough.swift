extension ExecutionContext {
    /// Runs `write` (one transaction to the store of `table`). A failure is reported; when the
    /// input waits for its stores (`@OnError(action='WAIT')`) the same write is tried again until
    /// it lands. False when it was given up on: the caller then rolls back to what the store holds.
    func writeThrough(table: String, changes: Int, _ write: () throws(TableStoreError) -> Void) -> Bool {
        while true {
            do {
                try write()
                return true
            } catch {
                // Only a database that may come back is waited for: a refused write would be refused forever.
                let waits = storeWritesWait && error.isTransient
                storeWriteFailed(StoreWriteFailure(table: table, changes: changes, reason: error.description, willRetry: waits))
                if !waits { return false }
            }
        }
    }
}
