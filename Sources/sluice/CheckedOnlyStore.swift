import SluiceCore
import SluiceQL
import SluiceRuntime
import SluiceStores

/// What `sluice check` gives a `@store` table: its options are validated as a node would, but no
/// database is opened, so an app checks the same wherever its databases are.
final class CheckedOnlyStore: TableStore {
    static func provider(_ request: TableStoreRequest) throws(Diagnostic) -> any TableStore {
        try RDBMSStores.validate(request)
        return CheckedOnlyStore()
    }

    func loadRows() throws(TableStoreError) -> [[Value]] { [] }

    func apply(_ changes: [TableChange]) throws(TableStoreError) {
        throw TableStoreError("sluice check runs no events")
    }

    func replaceAll(with rows: [[Value]]) throws(TableStoreError) {
        throw TableStoreError("sluice check runs no events")
    }
}
