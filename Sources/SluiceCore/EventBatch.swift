/// What a row of a batch means to the operators that receive it (Siddhi's event types).
public enum EventKind: UInt8, Sendable {
    /// A new event.
    case current = 0
    /// An event leaving a window; aggregations subtract it.
    case expired = 1
    /// A batch window starting over; aggregations reset. Carries no data.
    case reset = 2
}

/// A columnar batch of events: one timestamp column and one typed column per attribute.
/// A batch is also the unit of a Siddhi chunk: it is processed as one arrival.
public struct EventBatch: Sendable {
    public var timestamps: [Int64]
    public var kinds: [EventKind]
    public var columns: [Column]

    public init(types: [AttributeType], capacity: Int = 0) {
        timestamps = []
        kinds = []
        columns = types.map { Column(type: $0, capacity: capacity) }
        if capacity > 0 {
            timestamps.reserveCapacity(capacity)
            kinds.reserveCapacity(capacity)
        }
    }

    public init(timestamps: [Int64], kinds: [EventKind]? = nil, columns: [Column]) {
        self.timestamps = timestamps
        self.kinds = kinds ?? Array(repeating: .current, count: timestamps.count)
        self.columns = columns
    }

    @inline(__always)
    public var count: Int { timestamps.count }
    public var isEmpty: Bool { timestamps.isEmpty }
    public var types: [AttributeType] { columns.map(\.type) }

    public mutating func removeAll(keepingCapacity: Bool = true) {
        timestamps.removeAll(keepingCapacity: keepingCapacity)
        kinds.removeAll(keepingCapacity: keepingCapacity)
        for i in columns.indices { columns[i].removeAll(keepingCapacity: keepingCapacity) }
    }

    /// Appends one event given as values (edges and tests only).
    public mutating func append(timestamp: Int64, values: [Value], kind: EventKind = .current) {
        precondition(values.count == columns.count, "arity mismatch")
        timestamps.append(timestamp)
        kinds.append(kind)
        for i in columns.indices { columns[i].append(values[i]) }
    }

    /// Copies one row of a batch with the same schema, optionally changing its kind and timestamp.
    @inline(__always)
    public mutating func append(from other: EventBatch, row: Int, kind: EventKind? = nil, timestamp: Int64? = nil) {
        timestamps.append(timestamp ?? other.timestamps[row])
        kinds.append(kind ?? other.kinds[row])
        for i in columns.indices { columns[i].append(from: other.columns[i], row: row) }
    }

    /// Copies a run of rows of a batch with the same schema.
    public mutating func append(from other: EventBatch, rows: Range<Int>) {
        timestamps.append(contentsOf: other.timestamps[rows])
        kinds.append(contentsOf: other.kinds[rows])
        for i in columns.indices { columns[i].append(from: other.columns[i], rows: rows) }
    }

    /// Copies the rows at `indices` of a batch with the same schema, in that order.
    public mutating func append(from other: EventBatch, at indices: [Int]) {
        timestamps.append(contentsOf: indices.lazy.map { other.timestamps[$0] })
        kinds.append(contentsOf: indices.lazy.map { other.kinds[$0] })
        for i in columns.indices { columns[i].append(from: other.columns[i], at: indices) }
    }

    /// Copies a run of rows, giving them one kind and, optionally, one timestamp.
    public mutating func append(from other: EventBatch, rows: Range<Int>, kind: EventKind, timestamp: Int64? = nil) {
        if let timestamp {
            timestamps.append(contentsOf: repeatElement(timestamp, count: rows.count))
        } else {
            timestamps.append(contentsOf: other.timestamps[rows])
        }
        kinds.append(contentsOf: repeatElement(kind, count: rows.count))
        for i in columns.indices { columns[i].append(from: other.columns[i], rows: rows) }
    }

    /// A row with no data (a reset marker). Its cells hold zero values, not nulls, so that a
    /// marker does not give null-free columns a null bitmap; nothing reads them.
    public mutating func appendMarker(_ kind: EventKind, timestamp: Int64) {
        timestamps.append(timestamp)
        kinds.append(kind)
        for i in columns.indices { columns[i].appendDefault() }
    }

    /// Replaces row `row` with a row of another batch of the same schema.
    public mutating func replace(row: Int, with other: EventBatch, row source: Int) {
        var rebuilt = EventBatch(types: types, capacity: count)
        rebuilt.append(from: self, rows: 0..<row)
        rebuilt.append(from: other, row: source)
        rebuilt.append(from: self, rows: (row + 1)..<count)
        self = rebuilt
    }

    public mutating func removeFirst(_ n: Int) {
        guard n > 0 else { return }
        timestamps.removeFirst(n)
        kinds.removeFirst(n)
        for i in columns.indices { columns[i].removeFirst(n) }
    }

    public mutating func remove(at row: Int) {
        timestamps.remove(at: row)
        kinds.remove(at: row)
        for i in columns.indices { columns[i].remove(at: row) }
    }

    public func values(at row: Int) -> [Value] { columns.map { $0.value(at: row) } }

    /// A run of consecutive rows as a batch of its own (each column copied in one piece).
    public func slice(_ rows: Range<Int>) -> EventBatch {
        var out = EventBatch(timestamps: Array(timestamps[rows]), kinds: Array(kinds[rows]), columns: [])
        out.columns.reserveCapacity(columns.count)
        for column in columns {
            var c = Column(type: column.type, capacity: rows.count)
            c.append(from: column, rows: rows)
            out.columns.append(c)
        }
        return out
    }

    /// The rows at `indices`, in that order.
    public func gather(_ indices: [Int]) -> EventBatch {
        EventBatch(timestamps: indices.map { timestamps[$0] }, kinds: indices.map { kinds[$0] },
                   columns: columns.map { $0.gather(indices) })
    }

    /// Whether every row is a current event (the common case for stream input).
    public var isAllCurrent: Bool { !kinds.contains { $0 != .current } }
}
