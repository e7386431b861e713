import SluiceCore

/// The rows a probe searches (a window's, a table's) bucketed by the value of an attribute that
/// the condition requires to equal one of the probe's: a probe row is tested against its bucket
/// only. The whole condition still decides, so this only skips pairs that cannot match.
struct EqualKeyBuckets {
    /// Per bucket, its first row (relative to the window's first); -1 when empty.
    var first: [Int32]
    /// Per row, the next row of its bucket, oldest first; -1 at the end.
    var next: [Int32]
    /// Per probe row, its bucket.
    var bucket: [Int32]

    init(key: (mine: Int, theirs: Int), probe chunk: EventBatch, found: EventBatch, rows: Range<Int>) {
        let index = GroupKeyIndex()
        let theirs = rows.count == found.count ? found.columns[key.theirs] : found.columns[key.theirs].gather(Array(rows))
        let theirBuckets = index.ids(for: [theirs], kinds: [EventKind](repeating: .current, count: rows.count))
        bucket = index.ids(for: [chunk.columns[key.mine]], kinds: chunk.kinds)
        first = [Int32](repeating: -1, count: index.count)
        next = [Int32](repeating: -1, count: rows.count)
        for r in stride(from: rows.count - 1, through: 0, by: -1) {
            let b = Int(theirBuckets[r])
            next[r] = first[b]
            first[b] = Int32(r)
        }
    }
}
