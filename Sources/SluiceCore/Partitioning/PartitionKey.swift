/// The bytes a partition key hashes over, one encoding per attribute type (docs/partitioning.md):
///
/// | type | bytes |
/// |---|---|
/// | string | its UTF-8 bytes |
/// | int, long | the value as a 64-bit two's complement integer, 8 bytes little-endian |
/// | float, double | the value as an IEEE 754 double, 8 bytes little-endian; -0.0 as 0.0, every NaN as 0x7FF8000000000000 |
/// | bool | one byte, 1 or 0 |
/// | null | no bytes (the same as the empty string) |
///
/// An int and a long of the same value, or a float and a double, hash alike, so a key keeps its
/// destination when a schema widens it.
public enum PartitionKey {
    /// xxHash64 (seed 0) of the key bytes of `column` at `row`.
    @inline(__always)
    public static func hash(_ column: Column, row: Int) -> UInt64 {
        if column.isNull(row) { return emptyHash }
        switch column.type {
        case .string: return column.withUTF8(at: row) { XXHash64.hash($0) }
        default: return hash(column.value(at: row))
        }
    }

    /// xxHash64 (seed 0) of the key bytes of `value`.
    public static func hash(_ value: Value) -> UInt64 {
        switch value {
        case .null: return emptyHash
        case .string(let s): return XXHash64.hash(s)
        case .int(let i): return XXHash64.hash(UInt64(bitPattern: Int64(i)))
        case .long(let l): return XXHash64.hash(UInt64(bitPattern: l))
        case .float(let f): return hash(double: Double(f))
        case .double(let d): return hash(double: d)
        case .bool(let b): return withUnsafeBytes(of: b ? UInt8(1) : UInt8(0)) { XXHash64.hash($0) }
        }
    }

    static func hash(double d: Double) -> UInt64 {
        let bits: UInt64 = d.isNaN ? 0x7FF8_0000_0000_0000 : (d == 0 ? 0 : d.bitPattern)
        return XXHash64.hash(bits)
    }

    static let emptyHash: UInt64 = XXHash64.hash([UInt8]())
}
