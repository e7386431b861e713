import SluiceCore

/// A batch's rows grouped by their partition key: keys in the order they first appear, each
/// key's rows in arrival order. Computed with one fixed-hash pass and a counting sort.
struct RowsByKey {
    /// Each distinct key, in first-seen order.
    let keys: [Value]
    /// Row numbers, key by key: key `k` owns `rows[starts[k]..<starts[k + 1]]`.
    let rows: [Int]
    let starts: [Int]

    init(keys column: Column, kinds: [EventKind]) {
        let index = GroupKeyIndex()
        let ids = index.ids(for: [column], kinds: kinds)
        keys = index.keys.map { $0[0] }
        var starts = [Int](repeating: 0, count: keys.count + 1)
        for id in ids { starts[Int(id) + 1] += 1 }
        for k in 0..<keys.count { starts[k + 1] += starts[k] }
        var cursor = starts
        var rows = [Int](repeating: 0, count: ids.count)
        for (row, id) in ids.enumerated() {
            rows[cursor[Int(id)]] = row
            cursor[Int(id)] += 1
        }
        self.rows = rows
        self.starts = starts
    }

    func rows(ofKey k: Int) -> ArraySlice<Int> { rows[starts[k]..<starts[k + 1]] }
}
