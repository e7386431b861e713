import SluiceCore

/// The state of a sliding window and the plan for one chunk's output. Expiring and admitting
/// events only moves indices and records plan entries; rows are copied once, column by column,
/// in `finish`. Events admitted earlier in the same chunk can expire within it.
struct SlidingBuffer {
    private(set) var queue: EventQueue
    private var plan = RowPlan()
    /// How many of the window's events (queued, then admitted this chunk) have expired this chunk.
    private var expired = 0
    /// Rows of the chunk admitted this chunk, in order.
    private var admitted: [Int] = []

    init(types: [AttributeType]) {
        queue = EventQueue(types: types)
    }

    var count: Int { queue.count + admitted.count - expired }

    /// The events held, between chunks: what a join searches.
    var contents: (batch: EventBatch, rows: Range<Int>) { (queue.storage, queue.row(0)..<queue.storage.count) }
    var isEmpty: Bool { count == 0 }

    /// The oldest event's position: in the queue's storage (source 1), or in the chunk (source 0).
    @inline(__always)
    private func oldest() -> (source: UInt8, row: Int) {
        expired < queue.count ? (1, queue.row(expired)) : (0, admitted[expired - queue.count])
    }

    @inline(__always)
    func oldestTimestamp(_ chunk: EventBatch) -> Int64 {
        let o = oldest()
        return o.source == 1 ? queue.storage.timestamps[o.row] : chunk.timestamps[o.row]
    }

    @inline(__always)
    func oldestLong(column: Int, _ chunk: EventBatch) -> Int64 {
        let o = oldest()
        return o.source == 1 ? queue.storage.columns[column].longs[o.row] : chunk.columns[column].longs[o.row]
    }

    /// Emits the oldest event as expired, stamped `timestamp`.
    @inline(__always)
    mutating func expireOldest(timestamp: Int64) {
        let o = oldest()
        plan.add(source: o.source, row: o.row, kind: .expired, timestamp: timestamp)
        expired += 1
    }

    /// Emits a chunk row as a current event.
    @inline(__always)
    mutating func emitCurrent(_ chunk: EventBatch, row: Int) {
        plan.add(source: 0, row: row, kind: .current, timestamp: chunk.timestamps[row])
    }

    /// Emits a chunk row as an expired event at once (a zero-length window).
    mutating func emitExpired(_ chunk: EventBatch, row: Int, timestamp: Int64) {
        plan.add(source: 0, row: row, kind: .expired, timestamp: timestamp)
    }

    @inline(__always)
    mutating func admit(row: Int) { admitted.append(row) }

    /// Builds the chunk's output and commits the window's new contents.
    mutating func finish(_ chunk: EventBatch) -> EventBatch? {
        let out = plan.isEmpty ? nil : EventBatch(plan: plan, first: chunk, second: queue.storage)
        let fromQueue = min(expired, queue.count)
        queue.dropFirst(fromQueue)
        // Admitted rows that expired within the chunk never reach the queue.
        var i = expired - fromQueue
        // The rest join the queue, in runs of consecutive rows.
        while i < admitted.count {
            var j = i + 1
            while j < admitted.count && admitted[j] == admitted[j - 1] + 1 { j += 1 }
            queue.append(from: chunk, rows: admitted[i]..<(admitted[j - 1] + 1))
            i = j
        }
        plan.removeAll()
        admitted.removeAll(keepingCapacity: true)
        expired = 0
        return out
    }

    func snapshot(into w: inout StateWriter) { queue.snapshot(into: &w) }
    mutating func restore(from r: inout StateReader) throws { try queue.restore(from: &r) }
}
