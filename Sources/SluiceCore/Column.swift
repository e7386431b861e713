/// One attribute's values for every row of a batch, in a typed lane:
/// int and long in `longs`, float and double in `doubles`, bool in `bools`, string in `strings`
/// (one byte arena, see `StringLane`).
/// An int column keeps 32-bit values; a float column keeps values that are exactly representable as `Float`.
/// `nulls` stays empty until the first null arrives, so null-free columns pay nothing for it.
public struct Column: Sendable {
    public let type: AttributeType
    public var longs: [Int64] = []
    public var doubles: [Double] = []
    public var bools: [Bool] = []
    public var strings = StringLane()
    public var objects: [Value] = []
    public var nulls: [Bool] = []
    public private(set) var count: Int = 0

    public init(type: AttributeType, capacity: Int = 0) {
        self.type = type
        if capacity > 0 { reserveCapacity(capacity) }
    }

    public init(longs: [Int64], type: AttributeType = .long) {
        self.type = type
        self.longs = longs
        self.count = longs.count
    }

    public init(doubles: [Double], type: AttributeType = .double) {
        self.type = type
        self.doubles = doubles
        self.count = doubles.count
    }

    public init(bools: [Bool]) {
        self.type = .bool
        self.bools = bools
        self.count = bools.count
    }

    public init(strings: [String]) {
        self.type = .string
        self.strings = StringLane(strings)
        self.count = strings.count
    }

    public init(strings: StringLane) {
        self.type = .string
        self.strings = strings
        self.count = strings.count
    }

    /// A column of `count` copies of one value.
    public init(repeating value: Value, type: AttributeType, count: Int) {
        var one = Column(type: type, capacity: 1)
        one.append(value)
        self.type = type
        self.count = count
        switch type {
        case .int, .long: longs = [Int64](repeating: one.longs[0], count: count)
        case .float, .double: doubles = [Double](repeating: one.doubles[0], count: count)
        case .bool: bools = [Bool](repeating: one.bools[0], count: count)
        case .string:
            strings.reserveCapacity(rows: count, bytes: one.strings.length(of: 0) * count)
            for _ in 0..<count { strings.append(from: one.strings, row: 0) }
        case .object: objects = [Value](repeating: one.objects[0], count: count)
        }
        if one.isNull(0) { nulls = [Bool](repeating: true, count: count) }
    }

    /// `count` rows of the type's zero value (0, false, empty string, null object), for an
    /// attribute that no operator downstream reads: one fill instead of a copy per row.
    public init(unread type: AttributeType, count: Int) {
        self.type = type
        switch type {
        case .int, .long: longs = [Int64](repeating: 0, count: count)
        case .float, .double: doubles = [Double](repeating: 0, count: count)
        case .bool: bools = [Bool](repeating: false, count: count)
        case .string: strings = StringLane(emptyRows: count)
        case .object: objects = [Value](repeating: .null, count: count)
        }
        self.count = count
    }

    public var hasNulls: Bool { !nulls.isEmpty }

    /// For builders that fill a lane directly.
    @inline(__always)
    mutating func setCount(_ n: Int) { count = n }

    @inline(__always)
    public func isNull(_ row: Int) -> Bool { !nulls.isEmpty && nulls[row] }

    public mutating func reserveCapacity(_ n: Int) {
        switch type {
        case .int, .long: longs.reserveCapacity(n)
        case .float, .double: doubles.reserveCapacity(n)
        case .bool: bools.reserveCapacity(n)
        case .string: strings.reserveCapacity(rows: n)
        case .object: objects.reserveCapacity(n)
        }
    }

    public mutating func removeAll(keepingCapacity: Bool = true) {
        longs.removeAll(keepingCapacity: keepingCapacity)
        doubles.removeAll(keepingCapacity: keepingCapacity)
        bools.removeAll(keepingCapacity: keepingCapacity)
        strings.removeAll(keepingCapacity: keepingCapacity)
        objects.removeAll(keepingCapacity: keepingCapacity)
        nulls.removeAll(keepingCapacity: keepingCapacity)
        count = 0
    }

    @inline(__always)
    private mutating func markNull(_ isNull: Bool) {
        if isNull {
            if nulls.isEmpty { nulls = Array(repeating: false, count: count) }
            nulls.append(true)
        } else if !nulls.isEmpty {
            nulls.append(false)
        }
    }

    private mutating func appendZero() {
        switch type {
        case .int, .long: longs.append(0)
        case .float, .double: doubles.append(0)
        case .bool: bools.append(false)
        case .string: strings.appendEmpty()
        case .object: objects.append(.null)
        }
    }

    /// Appends a zero value that is not null (the filler of marker rows, which carry no data).
    public mutating func appendDefault() {
        appendZero()
        if !nulls.isEmpty { nulls.append(false) }
        count += 1
    }

    public mutating func appendNull() {
        appendZero()
        markNull(true)
        count += 1
    }

    @inline(__always)
    public mutating func appendLong(_ v: Int64) {
        longs.append(v)
        if !nulls.isEmpty { nulls.append(false) }
        count += 1
    }

    @inline(__always)
    public mutating func appendDouble(_ v: Double) {
        doubles.append(v)
        if !nulls.isEmpty { nulls.append(false) }
        count += 1
    }

    @inline(__always)
    public mutating func appendBool(_ v: Bool) {
        bools.append(v)
        if !nulls.isEmpty { nulls.append(false) }
        count += 1
    }

    @inline(__always)
    public mutating func appendString(_ v: String) {
        strings.append(v)
        if !nulls.isEmpty { nulls.append(false) }
        count += 1
    }

    /// Appends a string given as bytes from outside; invalid UTF-8 is repaired (see `StringLane`).
    @inline(__always)
    public mutating func appendString(checking bytes: UnsafeRawBufferPointer) {
        strings.append(checking: bytes)
        if !nulls.isEmpty { nulls.append(false) }
        count += 1
    }

    /// Appends a value, converting between numeric types as Java's widening would.
    /// A value of an incompatible type is stored as null.
    public mutating func append(_ value: Value) {
        switch (type, value) {
        case (_, .null): appendNull()
        case (.int, _): if let v = value.asInt64 { appendLong(Int64(Int32(truncatingIfNeeded: v))) } else { appendNull() }
        case (.long, _): if let v = value.asInt64 { appendLong(v) } else { appendNull() }
        case (.float, _): if let v = value.asDouble { appendDouble(Double(Float(v))) } else { appendNull() }
        case (.double, _): if let v = value.asDouble { appendDouble(v) } else { appendNull() }
        case (.bool, .bool(let b)): appendBool(b)
        case (.string, .string(let s)): appendString(s)
        case (.object, _):
            objects.append(value)
            markNull(false)
            count += 1
        default: appendNull()
        }
    }

    /// Copies one row of another column of the same type.
    @inline(__always)
    public mutating func append(from other: Column, row: Int) {
        switch type {
        case .int, .long: longs.append(other.longs[row])
        case .float, .double: doubles.append(other.doubles[row])
        case .bool: bools.append(other.bools[row])
        case .string: strings.append(from: other.strings, row: row)
        case .object: objects.append(other.objects[row])
        }
        markNull(other.isNull(row))
        count += 1
    }

    /// Copies a run of rows of another column of the same type.
    public mutating func append(from other: Column, rows: Range<Int>) {
        guard !rows.isEmpty else { return }
        switch type {
        case .int, .long: longs.append(contentsOf: other.longs[rows])
        case .float, .double: doubles.append(contentsOf: other.doubles[rows])
        case .bool: bools.append(contentsOf: other.bools[rows])
        case .string: strings.append(from: other.strings, rows: rows)
        case .object: objects.append(contentsOf: other.objects[rows])
        }
        if other.hasNulls {
            if nulls.isEmpty { nulls = Array(repeating: false, count: count) }
            nulls.append(contentsOf: other.nulls[rows])
        } else if !nulls.isEmpty {
            nulls.append(contentsOf: repeatElement(false, count: rows.count))
        }
        count += rows.count
    }

    /// Copies the rows at `indices` of another column of the same type, in that order.
    public mutating func append(from other: Column, at indices: [Int]) {
        guard !indices.isEmpty else { return }
        // Plain loops: appending a lazy map goes through the generic slow path.
        switch type {
        case .int, .long: for i in indices { longs.append(other.longs[i]) }
        case .float, .double: for i in indices { doubles.append(other.doubles[i]) }
        case .bool: for i in indices { bools.append(other.bools[i]) }
        case .string: indices.withUnsafeBufferPointer { strings.append(rowsOf: other.strings, at: $0) }
        case .object: for i in indices { objects.append(other.objects[i]) }
        }
        if other.hasNulls {
            if nulls.isEmpty { nulls = Array(repeating: false, count: count) }
            for i in indices { nulls.append(other.nulls[i]) }
        } else if !nulls.isEmpty {
            nulls.append(contentsOf: repeatElement(false, count: indices.count))
        }
        count += indices.count
    }

    /// Drops the first `n` rows.
    public mutating func removeFirst(_ n: Int) {
        guard n > 0 else { return }
        switch type {
        case .int, .long: longs.removeFirst(n)
        case .float, .double: doubles.removeFirst(n)
        case .bool: bools.removeFirst(n)
        case .string: strings.removeFirst(n)
        case .object: objects.removeFirst(n)
        }
        if !nulls.isEmpty { nulls.removeFirst(n) }
        count -= n
    }

    /// Removes one row, keeping the order of the others.
    public mutating func remove(at row: Int) {
        switch type {
        case .int, .long: longs.remove(at: row)
        case .float, .double: doubles.remove(at: row)
        case .bool: bools.remove(at: row)
        case .string: strings.remove(at: row)
        case .object: objects.remove(at: row)
        }
        if !nulls.isEmpty { nulls.remove(at: row) }
        count -= 1
    }

    /// A string column's value at `row` ("" for a null).
    /// Allocates for strings over 15 bytes; hot paths use `withUTF8(at:_:)`.
    @inline(__always)
    public func string(at row: Int) -> String { strings[row] }

    /// Calls `body` with the UTF-8 bytes of a string column's value at `row`, without copying them.
    @inline(__always)
    public func withUTF8<R>(at row: Int, _ body: (UnsafeRawBufferPointer) throws -> R) rethrows -> R {
        try strings.withUTF8(at: row, body)
    }

    public func value(at row: Int) -> Value {
        if isNull(row) { return .null }
        switch type {
        case .int: return .int(Int32(truncatingIfNeeded: longs[row]))
        case .long: return .long(longs[row])
        case .float: return .float(Float(doubles[row]))
        case .double: return .double(doubles[row])
        case .bool: return .bool(bools[row])
        case .string: return .string(strings[row])
        case .object: return objects[row]
        }
    }

    /// The rows at `indices`, in that order.
    public func gather(_ indices: [Int]) -> Column {
        var out = Column(type: type)
        let n = indices.count
        @inline(__always)
        func pick<T>(_ lane: [T]) -> [T] {
            [T](unsafeUninitializedCapacity: n) { buf, count in
                lane.withUnsafeBufferPointer { src in
                    indices.withUnsafeBufferPointer { idx in
                        for i in 0..<n { (buf.baseAddress! + i).initialize(to: src[idx[i]]) }
                    }
                }
                count = n
            }
        }
        switch type {
        case .int, .long: out.longs = pick(longs)
        case .float, .double: out.doubles = pick(doubles)
        case .bool: out.bools = pick(bools)
        case .string: out.strings = strings.gather(indices)
        case .object: out.objects = pick(objects)
        }
        if hasNulls {
            let picked = pick(nulls)
            if picked.contains(true) { out.nulls = picked }
        }
        out.count = n
        return out
    }
}
