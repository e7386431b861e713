/// A string column's values: every row's UTF-8 bytes back to back in one arena, and the offset
/// where each row ends. Copying rows copies bytes, so batches never hold one heap object per
/// string, and the wire codec moves arenas with `memcpy`. The bytes are always valid UTF-8:
/// everything that appends unchecked bytes validates (and repairs) them first.
public struct StringLane: Sendable {
    @usableFromInline var _bytes = ByteArena()
    @usableFromInline var _ends: [Int] = []
    /// Set only while every row has one (see `ValueCodes`); any other change drops them.
    @usableFromInline var _codes: ValueCodes?

    @inlinable public var bytes: ByteArena { _bytes }
    /// `ends[row]` is where the row's bytes end; it starts where the previous row ends (0 for row 0).
    @inlinable public var ends: [Int] { _ends }
    /// Per-row codes of equal values, when the lane came from a dictionary (`ValueCodes`).
    @inlinable public var valueCodes: ValueCodes? { _codes }

    /// Records that rows with equal `codes` (each below `count`) hold equal bytes: the decoder
    /// knows this of a column that travelled in dictionary form.
    public mutating func setValueCodes(_ codes: [UInt32], count: Int) {
        precondition(codes.count == self.count && codes.allSatisfy { Int($0) < count }, "one code per row, each below count")
        _codes = ValueCodes(codes: codes, count: count)
    }

    public init() {}

    /// `rows` empty strings: one fill, no bytes.
    public init(emptyRows rows: Int) {
        _ends = [Int](repeating: 0, count: rows)
    }

    public init(_ strings: some Sequence<String>) {
        for s in strings { append(s) }
    }

    @inlinable
    public var count: Int { _ends.count }

    @inlinable
    public func start(of row: Int) -> Int { row == 0 ? 0 : _ends[row - 1] }

    @inlinable
    public func length(of row: Int) -> Int { _ends[row] - start(of: row) }

    /// Row `row` as a `String`. Strings over 15 bytes allocate: hot paths read bytes instead.
    public subscript(row: Int) -> String {
        withUTF8(at: row) { String(decoding: $0, as: UTF8.self) }
    }

    /// Calls `body` with row `row`'s bytes, in place.
    @inlinable
    public func withUTF8<R>(at row: Int, _ body: (UnsafeRawBufferPointer) throws -> R) rethrows -> R {
        let start = start(of: row), end = _ends[row]
        return try _bytes.withUnsafeBytes { try body(UnsafeRawBufferPointer(rebasing: $0[start..<end])) }
    }

    /// The arena and the row ends as raw buffers, for loops over many rows.
    @inlinable
    public func withUnsafeStorage<R>(_ body: (UnsafeRawBufferPointer, UnsafeBufferPointer<Int>) throws -> R) rethrows -> R {
        try _bytes.withUnsafeBytes { arena in try _ends.withUnsafeBufferPointer { try body(arena, $0) } }
    }

    public mutating func reserveCapacity(rows: Int, bytes byteCount: Int = 0) {
        _ends.reserveCapacity(rows)
        if byteCount > 0 { _bytes.reserveCapacity(_bytes.count + byteCount) }
    }

    public mutating func removeAll(keepingCapacity: Bool = true) {
        _codes = nil
        _bytes.removeAll(keepingCapacity: keepingCapacity)
        _ends.removeAll(keepingCapacity: keepingCapacity)
    }

    @inlinable
    public mutating func append(_ s: String) {
        _codes = nil
        var s = s
        s.withUTF8 { _bytes.append(UnsafeRawBufferPointer($0)) }
        _ends.append(_bytes.count)
    }

    /// Appends bytes known to be valid UTF-8 (taken from another lane or a `String`).
    @inlinable
    public mutating func append(validUTF8 raw: UnsafeRawBufferPointer) {
        _codes = nil
        _bytes.append(raw)
        _ends.append(_bytes.count)
    }

    /// Appends several rows with one copy: `raw` holds their bytes back to back (valid UTF-8),
    /// `rowLengths` each row's share, summing to `raw.count`.
    public mutating func append(validUTF8 raw: UnsafeRawBufferPointer, rowLengths: [Int]) {
        _codes = nil
        var end = _bytes.count
        _bytes.append(raw)
        reserveEnds(rowLengths.count)
        for length in rowLengths {
            end += length
            _ends.append(end)
        }
        precondition(end == _bytes.count, "row lengths do not cover the bytes")
    }

    /// Appends bytes from outside (a peer, a file), replacing invalid UTF-8 with U+FFFD as Java's
    /// `new String(bytes, UTF_8)` does.
    public mutating func append(checking raw: UnsafeRawBufferPointer) {
        if isASCII(raw) || String(validating: raw, as: UTF8.self) != nil {
            append(validUTF8: raw)
        } else {
            append(String(decoding: raw, as: UTF8.self))
        }
    }

    @inlinable
    public mutating func appendEmpty() {
        _codes = nil
        _ends.append(_bytes.count)
    }

    @inlinable
    public mutating func append(from other: StringLane, row: Int) {
        other.withUTF8(at: row) { append(validUTF8: $0) }
    }

    /// Copies a run of rows with one copy of their bytes.
    public mutating func append(from other: StringLane, rows: Range<Int>) {
        guard !rows.isEmpty else { return }
        _codes = count == 0 ? other._codes.map { ValueCodes(codes: Array($0.codes[rows]), count: $0.count) } : nil
        let from = other.start(of: rows.lowerBound), to = other._ends[rows.upperBound - 1]
        let shift = _bytes.count - from
        other._bytes.withUnsafeBytes { _bytes.append(UnsafeRawBufferPointer(rebasing: $0[from..<to])) }
        reserveEnds(rows.count)
        other._ends.withUnsafeBufferPointer { src in
            for row in rows { _ends.append(src[row] &+ shift) }
        }
    }

    /// Appends rows of `source`, chosen by index (a dictionary's values by reference), with one
    /// reservation for all their bytes. Every index must be below `source.count`.
    @inlinable
    public mutating func append<Index: FixedWidthInteger>(rowsOf source: StringLane, at indices: UnsafeBufferPointer<Index>) {
        let n = indices.count
        guard n > 0 else { return }
        _codes = count == 0 ? source._codes.map { c in ValueCodes(codes: indices.map { c.codes[Int($0)] }, count: c.count) } : nil
        source.withUnsafeStorage { arena, e in
            var total = 0
            for i in indices {
                let r = Int(i)
                total += e[r] - (r == 0 ? 0 : e[r - 1])
            }
            guard total > 0 else {
                _ends.append(contentsOf: repeatElement(_bytes.count, count: n))
                return
            }
            var position = _bytes.count
            let destination = _bytes.appendUninitialized(total) - position
            withUnsafeTemporaryAllocation(of: Int.self, capacity: n) { newEnds in
                for (k, i) in indices.enumerated() {
                    let r = Int(i)
                    let start = r == 0 ? 0 : e[r - 1], length = e[r] - start
                    copyBytes(to: destination + position, from: arena.baseAddress! + start, count: length)
                    position += length
                    newEnds[k] = position
                }
                _ends.append(contentsOf: UnsafeBufferPointer(newEnds))
            }
        }
    }

    /// Room for `extra` more rows, growing geometrically: reserving an exact size on every
    /// append would copy the whole array each time (quadratic in a window that keeps appending).
    @usableFromInline
    mutating func reserveEnds(_ extra: Int) {
        let needed = _ends.count + extra
        if needed > _ends.capacity { _ends.reserveCapacity(Swift.max(needed, 2 * _ends.capacity)) }
    }

    /// Drops the first `n` rows.
    public mutating func removeFirst(_ n: Int) {
        _codes = nil
        guard n > 0 else { return }
        let cut = _ends[n - 1]
        _bytes.removeFirst(cut)
        _ends.removeFirst(n)
        _ends.withUnsafeMutableBufferPointer { e in
            for i in e.indices { e[i] -= cut }
        }
    }

    public mutating func remove(at row: Int) {
        _codes = nil
        let start = start(of: row), end = _ends[row], length = end - start
        _bytes.removeSubrange(start..<end)
        _ends.remove(at: row)
        _ends.withUnsafeMutableBufferPointer { e in
            for i in row..<e.count { e[i] -= length }
        }
    }

    /// Whether row `row` equals row `otherRow` of `other`.
    @inlinable
    public func equals(row: Int, _ other: StringLane, row otherRow: Int) -> Bool {
        withUTF8(at: row) { a in other.withUTF8(at: otherRow) { b in equalBytes(a, b) } }
    }

    /// The rows at `indices`, in that order.
    public func gather(_ indices: [Int]) -> StringLane {
        var out = StringLane()
        indices.withUnsafeBufferPointer { out.append(rowsOf: self, at: $0) }
        return out
    }

    /// Row by row from one of two lanes: `sources[i]` 0 picks `first`, otherwise `second`.
    public init(picking rows: UnsafeBufferPointer<Int32>, sources: UnsafeBufferPointer<UInt8>,
                first: StringLane, second: StringLane) {
        var total = 0
        for i in 0..<rows.count {
            let lane = sources[i] == 0 ? first : second
            total += lane.length(of: Int(rows[i]))
        }
        reserveCapacity(rows: rows.count, bytes: total)
        first.withUnsafeStorage { a, ae in
            second.withUnsafeStorage { b, be in
                for i in 0..<rows.count {
                    let row = Int(rows[i])
                    let (arena, e) = sources[i] == 0 ? (a, ae) : (b, be)
                    let start = row == 0 ? 0 : e[row - 1]
                    append(validUTF8: UnsafeRawBufferPointer(rebasing: arena[start..<e[row]]))
                }
            }
        }
    }
}

/// Rows as `String`s, for edges and tests (each access over 15 bytes allocates).
extension StringLane: RandomAccessCollection {
    public var startIndex: Int { 0 }
    public var endIndex: Int { ends.count }
}

extension StringLane: ExpressibleByArrayLiteral {
    public init(arrayLiteral elements: String...) { self.init(elements) }
}

extension StringLane: Equatable {
    public static func == (a: StringLane, b: StringLane) -> Bool {
        a.count == b.count && (0..<a.count).allSatisfy { a.equals(row: $0, b, row: $0) }
    }
}

/// Whether every byte is below 0x80, eight at a time.
@inline(__always)
public func isASCII(_ raw: UnsafeRawBufferPointer) -> Bool {
    guard let p = raw.baseAddress else { return true }
    let n = raw.count
    var i = 0
    var acc: UInt64 = 0
    while i + 8 <= n {
        acc |= p.loadUnaligned(fromByteOffset: i, as: UInt64.self)
        i += 8
    }
    while i < n {
        acc |= UInt64(p.load(fromByteOffset: i, as: UInt8.self))
        i += 1
    }
    return acc & 0x8080_8080_8080_8080 == 0
}
