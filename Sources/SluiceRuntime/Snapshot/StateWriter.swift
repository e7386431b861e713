import SluiceCore

/// Little-endian binary encoding of operator state for snapshots.
public struct StateWriter {
    public private(set) var bytes: [UInt8] = []

    public init() {}

    public mutating func write(_ v: UInt8) { bytes.append(v) }
    public mutating func write(_ v: Bool) { bytes.append(v ? 1 : 0) }

    public mutating func write(_ v: UInt64) {
        var x = v.littleEndian
        withUnsafeBytes(of: &x) { bytes.append(contentsOf: $0) }
    }

    public mutating func write(_ v: Int64) { write(UInt64(bitPattern: v)) }
    public mutating func write(_ v: Int) { write(Int64(v)) }
    public mutating func write(_ v: Double) { write(v.bitPattern) }
    /// A presence flag, then the value (0 when absent): pending times and running extremes.
    public mutating func write(_ v: Int64?) {
        write(v != nil)
        write(v ?? 0)
    }

    public mutating func write(_ s: String) {
        let utf8 = Array(s.utf8)
        write(utf8.count)
        bytes.append(contentsOf: utf8)
    }

    public mutating func write(_ v: Value) {
        switch v {
        case .null: write(UInt8(0))
        case .bool(let b): write(UInt8(1)); write(b)
        case .int(let i): write(UInt8(2)); write(Int64(i))
        case .long(let l): write(UInt8(3)); write(l)
        case .float(let f): write(UInt8(4)); write(Double(f))
        case .double(let d): write(UInt8(5)); write(d)
        case .string(let s): write(UInt8(6)); write(s)
        }
    }

    public mutating func write(_ values: [Value]) {
        write(values.count)
        for v in values { write(v) }
    }

    public mutating func write(_ column: Column) {
        write(column.type.rawValue)
        write(column.count)
        write(column.hasNulls)
        if column.hasNulls { for n in column.nulls { write(n) } }
        switch column.type {
        case .int, .long: for v in column.longs { write(v) }
        case .float, .double: for v in column.doubles { write(v) }
        case .bool: for v in column.bools { write(v) }
        case .string: for row in 0..<column.count { write(column.strings[row]) }
        case .object: for v in column.objects { write(v) }
        }
    }

    public mutating func write(_ batch: EventBatch) {
        write(batch.count)
        write(batch.columns.count)
        for t in batch.timestamps { write(t) }
        for k in batch.kinds { write(k.rawValue) }
        for c in batch.columns { write(c) }
    }

    public mutating func write(_ values: [Int64]) {
        write(values.count)
        for v in values { write(v) }
    }

    public mutating func write(_ values: [Double]) {
        write(values.count)
        for v in values { write(v) }
    }
}

public struct SnapshotError: Error, CustomStringConvertible, Sendable {
    public var description: String
    public init(_ description: String) { self.description = description }
}

/// Reads what `StateWriter` wrote; every read is bounds-checked.
public struct StateReader {
    private let bytes: [UInt8]
    private var offset = 0

    public init(_ bytes: [UInt8]) { self.bytes = bytes }

    public var isAtEnd: Bool { offset == bytes.count }

    private mutating func take(_ n: Int) throws -> ArraySlice<UInt8> {
        guard n >= 0, bytes.count - offset >= n else { throw SnapshotError("snapshot is truncated at byte \(offset)") }
        defer { offset += n }
        return bytes[offset..<offset + n]
    }

    public mutating func readUInt8() throws -> UInt8 { try take(1).first! }
    public mutating func readBool() throws -> Bool { try readUInt8() != 0 }

    public mutating func readUInt64() throws -> UInt64 {
        var v: UInt64 = 0
        for (i, b) in try take(8).enumerated() { v |= UInt64(b) << (UInt64(i) * 8) }
        return v
    }

    public mutating func readInt64() throws -> Int64 { Int64(bitPattern: try readUInt64()) }
    public mutating func readDouble() throws -> Double { Double(bitPattern: try readUInt64()) }
    /// What `write(_: Int64?)` wrote.
    public mutating func readOptionalInt64() throws -> Int64? {
        let present = try readBool()
        let v = try readInt64()
        return present ? v : nil
    }

    public mutating func readCount() throws -> Int {
        let n = try readInt64()
        guard n >= 0, n <= Int64(bytes.count) * 8 + 1024 else { throw SnapshotError("implausible count \(n) at byte \(offset)") }
        return Int(n)
    }

    public mutating func readInt() throws -> Int { Int(try readInt64()) }

    public mutating func readString() throws -> String {
        let n = try readCount()
        return String(decoding: try take(n), as: UTF8.self)
    }

    public mutating func readValue() throws -> Value {
        switch try readUInt8() {
        case 0: return .null
        case 1: return .bool(try readBool())
        case 2: return .int(Int32(truncatingIfNeeded: try readInt64()))
        case 3: return .long(try readInt64())
        case 4: return .float(Float(try readDouble()))
        case 5: return .double(try readDouble())
        case 6: return .string(try readString())
        case let tag: throw SnapshotError("unknown value tag \(tag)")
        }
    }

    public mutating func readValues() throws -> [Value] {
        let n = try readCount()
        var out = [Value]()
        out.reserveCapacity(n)
        for _ in 0..<n { out.append(try readValue()) }
        return out
    }

    public mutating func readLongs() throws -> [Int64] {
        let n = try readCount()
        var out = [Int64]()
        out.reserveCapacity(n)
        for _ in 0..<n { out.append(try readInt64()) }
        return out
    }

    public mutating func readDoubles() throws -> [Double] {
        let n = try readCount()
        var out = [Double]()
        out.reserveCapacity(n)
        for _ in 0..<n { out.append(try readDouble()) }
        return out
    }

    public mutating func readColumn() throws -> Column {
        guard let type = AttributeType(rawValue: try readUInt8()) else { throw SnapshotError("unknown column type") }
        let n = try readCount()
        let hasNulls = try readBool()
        var nulls = [Bool]()
        if hasNulls { for _ in 0..<n { nulls.append(try readBool()) } }
        var c = Column(type: type, capacity: n)
        for i in 0..<n {
            let isNull = hasNulls && nulls[i]
            switch type {
            case .int, .long:
                let v = try readInt64()
                if isNull { c.appendNull() } else { c.appendLong(v) }
            case .float, .double:
                let v = try readDouble()
                if isNull { c.appendNull() } else { c.appendDouble(v) }
            case .bool:
                let v = try readBool()
                if isNull { c.appendNull() } else { c.appendBool(v) }
            case .string:
                let v = try readString()
                if isNull { c.appendNull() } else { c.appendString(v) }
            case .object:
                c.append(try readValue())
            }
        }
        return c
    }

    public mutating func readBatch() throws -> EventBatch {
        let n = try readCount()
        let columnCount = try readCount()
        var timestamps = [Int64]()
        for _ in 0..<n { timestamps.append(try readInt64()) }
        var kinds = [EventKind]()
        for _ in 0..<n {
            guard let k = EventKind(rawValue: try readUInt8()) else { throw SnapshotError("unknown event kind") }
            kinds.append(k)
        }
        var columns = [Column]()
        for _ in 0..<columnCount { columns.append(try readColumn()) }
        return EventBatch(timestamps: timestamps, kinds: kinds, columns: columns)
    }
}

/// A component whose state goes into an app snapshot.
protocol Snapshottable: AnyObject {
    func snapshot(into w: inout StateWriter)
    func restore(from r: inout StateReader) throws
}
