import SluiceCore

/// A FIFO of events in columnar storage. Popping moves a head index; the storage is compacted
/// once the dead prefix outgrows the live part, so steady state does not reallocate.
struct EventQueue {
    private(set) var storage: EventBatch
    private var head = 0

    init(types: [AttributeType]) {
        storage = EventBatch(types: types)
    }

    var count: Int { storage.count - head }
    var isEmpty: Bool { count == 0 }

    @inline(__always)
    func timestamp(_ i: Int) -> Int64 { storage.timestamps[head + i] }

    @inline(__always)
    func long(column: Int, _ i: Int) -> Int64 { storage.columns[column].longs[head + i] }

    /// Absolute storage row of the i-th queued event.
    @inline(__always)
    func row(_ i: Int) -> Int { head + i }

    mutating func append(from batch: EventBatch, row: Int) {
        storage.append(from: batch, row: row, kind: .current)
    }

    mutating func append(from batch: EventBatch, rows: Range<Int>) {
        storage.append(from: batch, rows: rows, kind: .current)
    }

    /// Moves the oldest event to `out` as an expired event stamped `timestamp`.
    mutating func popFirst(into out: inout EventBatch, kind: EventKind = .expired, timestamp: Int64) {
        out.append(from: storage, row: head, kind: kind, timestamp: timestamp)
        head += 1
        compactIfWorthIt()
    }

    mutating func dropFirst(_ n: Int = 1) {
        head += n
        compactIfWorthIt()
    }

    /// Copies every queued event to `out` with the given kind.
    func copyAll(into out: inout EventBatch, kind: EventKind, timestamp: Int64? = nil) {
        out.append(from: storage, rows: head..<storage.count, kind: kind, timestamp: timestamp)
    }

    mutating func removeAll() {
        storage.removeAll()
        head = 0
    }

    mutating func remove(at i: Int) {
        storage.remove(at: head + i)
    }

    private mutating func compactIfWorthIt() {
        if head == storage.count {
            storage.removeAll()
            head = 0
        } else if head >= 1024 && head * 2 >= storage.count {
            storage.removeFirst(head)
            head = 0
        }
    }

    /// The live events as a batch of their own.
    var live: EventBatch {
        var b = EventBatch(types: storage.types)
        b.append(from: storage, rows: head..<storage.count)
        return b
    }

    func snapshot(into w: inout StateWriter) { w.write(live) }

    mutating func restore(from r: inout StateReader) throws {
        storage = try r.readBatch()
        head = 0
    }
}
