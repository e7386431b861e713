/// A string column's values, in one of two forms:
/// - flat: every row's UTF-8 bytes back to back in one arena, and the offset where each row ends.
///   Copying rows copies bytes, so batches never hold one heap object per string, and the wire
///   codec moves arenas with `memcpy`;
/// - dictionary form (`ValueCodes`): the distinct values once, and one code per row. The decoder
///   produces it, and gathers and slices into an empty lane keep it, so columns that nothing reads
///   cross a node as 4 bytes per row. Any other change turns the lane flat first.
/// The bytes are always valid UTF-8: everything that appends unchecked bytes validates (and
/// repairs) them first.
public struct StringLane: Sendable {
    /// Flat form; both empty in dictionary form.
    @usableFromInline var _bytes = ByteArena()
    @usableFromInline var _ends: [Int] = []
    /// Dictionary form when set.
    @usableFromInline var _codes: ValueCodes?

    /// The arena of the flat form (copied out of dictionary form, so hot paths check `valueCodes`).
    public var bytes: ByteArena { _codes == nil ? _bytes : flattened._bytes }
    /// `ends[row]` is where the row's bytes end in `bytes`; it starts where the previous row ends (0 for row 0).
    public var ends: [Int] { _codes == nil ? _ends : flattened._ends }
    /// The values and per-row codes, when the lane is in dictionary form.
    @inlinable public var valueCodes: ValueCodes? { _codes }

    public init() {}

    /// Dictionary form: row i is `values[codes[i]]`. `values` is used flat (copied flat if it is not).
    public init(values: StringLane, codes: [UInt32]) {
        let flat = values.flattened
        precondition(codes.allSatisfy { Int($0) < flat.count }, "each code names one of the values")
        _codes = ValueCodes(values: StringValues(flat: flat), codes: codes)
    }

    /// `rows` empty strings: one fill, no bytes.
    public init(emptyRows rows: Int) {
        _ends = [Int](repeating: 0, count: rows)
    }

    public init(_ strings: some Sequence<String>) {
        for s in strings { append(s) }
    }

    @inlinable
    public var count: Int {
        if _slowPath(_codes != nil) { return _codes.unsafelyUnwrapped.codes.count }
        return _ends.count
    }

    /// The same rows in flat form: a copy of their bytes when in dictionary form.
    public var flattened: StringLane {
        guard let coded = _codes else { return self }
        var out = StringLane()
        coded.codes.withUnsafeBufferPointer { out.appendFlat(rowsOf: coded.values.lane, at: $0) }
        return out
    }

    @inlinable
    mutating func makeFlat() {
        if _slowPath(_codes != nil) { flatten() }
    }

    @usableFromInline
    mutating func flatten() { self = flattened }

    /// Where a row starts in the flat arena.
    @inlinable
    func start(of row: Int) -> Int { row == 0 ? 0 : _ends[row - 1] }

    @inlinable
    public func length(of row: Int) -> Int {
        if _slowPath(_codes != nil) { return codedLength(of: row) }
        return _ends[row] - start(of: row)
    }

    @usableFromInline
    func codedLength(of row: Int) -> Int {
        let coded = _codes.unsafelyUnwrapped
        return coded.values.lane.length(of: Int(coded.codes[row]))
    }

    /// Row `row` as a `String`. Strings over 15 bytes allocate: hot paths read bytes instead.
    public subscript(row: Int) -> String {
        withUTF8(at: row) { String(decoding: $0, as: UTF8.self) }
    }

    /// Calls `body` with row `row`'s bytes, in place.
    @inlinable @inline(__always)
    public func withUTF8<R>(at row: Int, _ body: (UnsafeRawBufferPointer) throws -> R) rethrows -> R {
        if _slowPath(_codes != nil) {
            let coded = _codes.unsafelyUnwrapped
            return try coded.values.lane.withUTF8(at: Int(coded.codes[row]), body)
        }
        let start = start(of: row), end = _ends[row]
        return try _bytes.withUnsafeBytes { try body(UnsafeRawBufferPointer(rebasing: $0[start..<end])) }
    }

    /// `withUTF8(at:)` for a lane known to be flat (one its owner only appends to), without the
    /// check for dictionary form: for lookup tables probed once per row.
    @inlinable @inline(__always)
    public func withFlatUTF8<R>(at row: Int, _ body: (UnsafeRawBufferPointer) throws -> R) rethrows -> R {
        let start = start(of: row), end = _ends[row]
        return try _bytes.withUnsafeBytes { try body(UnsafeRawBufferPointer(rebasing: $0[start..<end])) }
    }

    /// The flat arena and row ends as raw buffers, for loops over many rows. A lane in dictionary
    /// form is flattened into a copy first: loops that can work on codes check `valueCodes`.
    @inlinable @inline(__always)
    public func withUnsafeStorage<R>(_ body: (UnsafeRawBufferPointer, UnsafeBufferPointer<Int>) throws -> R) rethrows -> R {
        if _slowPath(_codes != nil) { return try flattened.withFlatStorage(body) }
        return try withFlatStorage(body)
    }

    @inlinable @inline(__always)
    func withFlatStorage<R>(_ body: (UnsafeRawBufferPointer, UnsafeBufferPointer<Int>) throws -> R) rethrows -> R {
        try _bytes.withUnsafeBytes { arena in try _ends.withUnsafeBufferPointer { try body(arena, $0) } }
    }

    public mutating func reserveCapacity(rows: Int, bytes byteCount: Int = 0) {
        if _codes != nil { return }
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
        makeFlat()
        var s = s
        s.withUTF8 { _bytes.append(UnsafeRawBufferPointer($0)) }
        _ends.append(_bytes.count)
    }

    /// Appends bytes known to be valid UTF-8 (taken from another lane or a `String`).
    @inlinable
    public mutating func append(validUTF8 raw: UnsafeRawBufferPointer) {
        makeFlat()
        _bytes.append(raw)
        _ends.append(_bytes.count)
    }

    /// Appends several rows with one copy: `raw` holds their bytes back to back (valid UTF-8),
    /// `rowLengths` each row's share, summing to `raw.count`.
    public mutating func append(validUTF8 raw: UnsafeRawBufferPointer, rowLengths: [Int]) {
        makeFlat()
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
        makeFlat()
        _ends.append(_bytes.count)
    }

    @inlinable
    public mutating func append(from other: StringLane, row: Int) {
        other.withUTF8(at: row) { append(validUTF8: $0) }
    }

    /// Copies a run of rows: their codes when `other` is in dictionary form and this lane is
    /// empty or shares its values, otherwise their bytes with one copy.
    public mutating func append(from other: StringLane, rows: Range<Int>) {
        guard !rows.isEmpty else { return }
        if let source = other._codes {
            if count == 0 {
                self = StringLane(coded: ValueCodes(values: source.values, codes: Array(source.codes[rows])))
                return
            }
            if _codes?.values === source.values {
                _codes!.codes.append(contentsOf: source.codes[rows])
                return
            }
            makeFlat()
            source.codes.withUnsafeBufferPointer { codes in
                appendFlat(rowsOf: source.values.lane, at: UnsafeBufferPointer(rebasing: codes[rows]))
            }
            return
        }
        makeFlat()
        let from = other.start(of: rows.lowerBound), to = other._ends[rows.upperBound - 1]
        let shift = _bytes.count - from
        other._bytes.withUnsafeBytes { _bytes.append(UnsafeRawBufferPointer(rebasing: $0[from..<to])) }
        reserveEnds(rows.count)
        other._ends.withUnsafeBufferPointer { src in
            for row in rows { _ends.append(src[row] &+ shift) }
        }
    }

    @usableFromInline
    init(coded: ValueCodes) {
        _codes = coded
    }

    /// Appends rows of `source`, chosen by index. From a lane in dictionary form into an empty
    /// lane (or one sharing its values) only the codes are copied; otherwise the bytes, with one
    /// reservation for all of them. Every index must be below `source.count`.
    @inlinable
    public mutating func append<Index: FixedWidthInteger>(rowsOf source: StringLane, at indices: UnsafeBufferPointer<Index>) {
        let n = indices.count
        guard n > 0 else { return }
        guard let coded = source._codes else {
            makeFlat()
            appendFlat(rowsOf: source, at: indices)
            return
        }
        withUnsafeTemporaryAllocation(of: UInt32.self, capacity: n) { picked in
            coded.codes.withUnsafeBufferPointer { codes in
                for k in 0..<n { picked[k] = codes[Int(indices[k])] }
            }
            if count == 0 {
                self = StringLane(coded: ValueCodes(values: coded.values, codes: Array(picked)))
            } else if _codes?.values === coded.values {
                appendCodes(UnsafeBufferPointer(picked))
            } else {
                makeFlat()
                appendFlat(rowsOf: coded.values.lane, at: UnsafeBufferPointer(picked))
            }
        }
    }

    /// More rows in dictionary form, naming this lane's values.
    @usableFromInline
    mutating func appendCodes(_ codes: UnsafeBufferPointer<UInt32>) {
        _codes!.codes.append(contentsOf: codes)
    }

    /// `append(rowsOf:at:)` between flat lanes: copies the bytes.
    @inlinable
    mutating func appendFlat<Index: FixedWidthInteger>(rowsOf source: StringLane, at indices: UnsafeBufferPointer<Index>) {
        let n = indices.count
        guard n > 0 else { return }
        source._bytes.withUnsafeBytes { arena in
        source._ends.withUnsafeBufferPointer { e in
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
            // The ends go to a scratch buffer first: appending them one by one checks capacity per row.
            withUnsafeTemporaryAllocation(of: Int.self, capacity: n) { newEnds in
                for (k, i) in indices.enumerated() {
                    let r = Int(i)
                    let start = r == 0 ? 0 : e[r - 1], length = e[r] - start
                    copyBytes(to: destination + position, from: arena.baseAddress! + start, count: length)
                    position += length
                    newEnds[k] = position
                }
                reserveEnds(n)
                _ends.append(contentsOf: UnsafeBufferPointer(newEnds))
            }
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

    /// Drops the first `n` rows (codes only, in dictionary form).
    public mutating func removeFirst(_ n: Int) {
        guard n > 0 else { return }
        if _codes != nil {
            _codes!.codes.removeFirst(n)
            return
        }
        let cut = _ends[n - 1]
        _bytes.removeFirst(cut)
        _ends.removeFirst(n)
        _ends.withUnsafeMutableBufferPointer { e in
            for i in e.indices { e[i] -= cut }
        }
    }

    public mutating func remove(at row: Int) {
        if _codes != nil {
            _codes!.codes.remove(at: row)
            return
        }
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
        let n = rows.count
        guard n > 0 else { return }
        // Raw buffers throughout: this runs once per row of a window's output.
        first.flattened.withUnsafeStorage { a, ae in
        second.flattened.withUnsafeStorage { b, be in
            var total = 0
            for i in 0..<n {
                let r = Int(rows[i]), e = sources[i] == 0 ? ae : be
                total += e[r] - (r == 0 ? 0 : e[r - 1])
            }
            let destination = total > 0 ? _bytes.appendUninitialized(total) : nil
            var position = 0
            _ends = [Int](unsafeUninitializedCapacity: n) { ends, filled in
                for i in 0..<n {
                    let r = Int(rows[i])
                    let (arena, e) = sources[i] == 0 ? (a, ae) : (b, be)
                    let start = r == 0 ? 0 : e[r - 1], length = e[r] - start
                    if length > 0 { copyBytes(to: destination! + position, from: arena.baseAddress! + start, count: length) }
                    position += length
                    ends[i] = position
                }
                filled = n
            }
        }
        }
    }
}

/// Rows as `String`s, for edges and tests (each access over 15 bytes allocates).
extension StringLane: RandomAccessCollection {
    public var startIndex: Int { 0 }
    public var endIndex: Int { count }
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
