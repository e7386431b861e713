/// Protobuf's binary wire format on raw memory, for the hand-written batch codec. The generated
/// types use swift-protobuf's own encoder; this one exists so the hot path writes and reads
/// columns in place, with no intermediate message objects.
enum WireType: UInt8 {
    case varint = 0
    case fixed64 = 1
    case lengthDelimited = 2
    case startGroup = 3
    case endGroup = 4
    case fixed32 = 5
}

@inline(__always)
func zigzag(_ v: Int64) -> UInt64 { UInt64(bitPattern: (v << 1) ^ (v >> 63)) }

@inline(__always)
func unzigzag(_ v: UInt64) -> Int64 { Int64(bitPattern: v >> 1) ^ -Int64(bitPattern: v & 1) }

@inline(__always)
func varintSize(_ v: UInt64) -> Int {
    let bits = 64 - (v | 1).leadingZeroBitCount
    return (bits + 6) / 7
}

@inline(__always)
func tagByte(_ field: Int, _ type: WireType) -> UInt8 { UInt8(field << 3) | type.rawValue }

/// Writes into memory the caller has already sized exactly; no bounds checks.
struct ProtoWriter {
    private(set) var cursor: UnsafeMutableRawPointer

    init(_ start: UnsafeMutableRawPointer) { cursor = start }

    @inline(__always)
    mutating func byte(_ b: UInt8) {
        cursor.storeBytes(of: b, as: UInt8.self)
        cursor += 1
    }

    /// Field numbers below 16 only: their tag is one byte.
    @inline(__always)
    mutating func tag(_ field: Int, _ type: WireType) { byte(tagByte(field, type)) }

    /// A varint field, left out when zero as proto3 leaves out defaults.
    @inline(__always)
    mutating func varintField(_ field: Int, _ value: UInt64) {
        guard value != 0 else { return }
        tag(field, .varint)
        varint(value)
    }

    @inline(__always)
    mutating func varint(_ value: UInt64) {
        var v = value
        while v >= 0x80 {
            byte(UInt8(truncatingIfNeeded: v) | 0x80)
            v >>= 7
        }
        byte(UInt8(v))
    }

    @inline(__always)
    mutating func fixed32(_ v: UInt32) {
        cursor.storeBytes(of: v.littleEndian, as: UInt32.self)
        cursor += 4
    }

    @inline(__always)
    mutating func fixed64(_ v: UInt64) {
        cursor.storeBytes(of: v.littleEndian, as: UInt64.self)
        cursor += 8
    }

    @inline(__always)
    mutating func bytes(_ source: UnsafeRawBufferPointer) {
        guard let base = source.baseAddress, source.count > 0 else { return }
        cursor.copyMemory(from: base, byteCount: source.count)
        cursor += source.count
    }
}

/// Reads a message in place. Every read is bounds-checked against `end`; a failure carries no
/// context, which the batch decoder adds (which column, which field).
struct ProtoReader {
    enum Failure: Error, CustomStringConvertible {
        case truncated
        case overlongVarint
        case badWireType(field: Int, type: UInt8)
        case groupsUnsupported(field: Int)
        case badFieldNumber(UInt64)

        var description: String {
            switch self {
            case .truncated: "the message ends inside a field"
            case .overlongVarint: "a varint is longer than 10 bytes"
            case .badWireType(let field, let type): "field \(field) has wire type \(type), which it cannot have"
            case .groupsUnsupported(let field): "field \(field) is a group, which Sluice's messages never use"
            case .badFieldNumber(let number): "\(number) is not a valid field number"
            }
        }
    }

    let base: UnsafeRawPointer
    var position: Int
    var end: Int

    init(_ bytes: UnsafeRawBufferPointer) {
        base = Self.address(of: bytes)
        position = 0
        end = bytes.count
    }

    /// An empty buffer may have no address; any non-nil pointer will do, since nothing is read.
    static func address(of bytes: UnsafeRawBufferPointer) -> UnsafeRawPointer {
        bytes.baseAddress ?? UnsafeRawPointer(bitPattern: 1)!
    }

    init(base: UnsafeRawPointer, range: Range<Int>) {
        self.base = base
        position = range.lowerBound
        end = range.upperBound
    }

    @inline(__always)
    var isAtEnd: Bool { position >= end }

    @inline(__always)
    mutating func varint() throws(Failure) -> UInt64 {
        // Fast path: one byte, the common case for tags, lengths and small deltas.
        guard position < end else { throw .truncated }
        let first = base.load(fromByteOffset: position, as: UInt8.self)
        position += 1
        if first < 0x80 { return UInt64(first) }
        var result = UInt64(first & 0x7F)
        var shift: UInt64 = 7
        while true {
            guard position < end else { throw .truncated }
            let b = base.load(fromByteOffset: position, as: UInt8.self)
            position += 1
            result |= UInt64(b & 0x7F) << shift
            if b < 0x80 { return result }
            shift += 7
            if shift >= 70 { throw .overlongVarint }
        }
    }

    /// A field's number and wire type. Numbers run from 1 to 2^29 - 1, as in protobuf.
    @inline(__always)
    mutating func tag() throws(Failure) -> (field: Int, type: UInt8) {
        let key = try varint()
        let field = key >> 3
        guard field > 0, field < 1 << 29 else { throw .badFieldNumber(field) }
        return (Int(field), UInt8(key & 7))
    }

    /// The byte range of a length-delimited field's content; moves past it.
    @inline(__always)
    mutating func lengthDelimited() throws(Failure) -> Range<Int> {
        let length = try varint()
        guard length <= UInt64(end - position) else { throw .truncated }
        let start = position
        position += Int(length)
        return start..<position
    }

    @inline(__always)
    mutating func fixed32() throws(Failure) -> UInt32 {
        guard end - position >= 4 else { throw .truncated }
        defer { position += 4 }
        return UInt32(littleEndian: base.loadUnaligned(fromByteOffset: position, as: UInt32.self))
    }

    @inline(__always)
    mutating func fixed64() throws(Failure) -> UInt64 {
        guard end - position >= 8 else { throw .truncated }
        defer { position += 8 }
        return UInt64(littleEndian: base.loadUnaligned(fromByteOffset: position, as: UInt64.self))
    }

    /// Skips a field this decoder does not know (a newer peer's addition).
    mutating func skip(field: Int, type: UInt8) throws(Failure) {
        switch WireType(rawValue: type) {
        case .varint: _ = try varint()
        case .fixed64: _ = try fixed64()
        case .lengthDelimited: _ = try lengthDelimited()
        case .fixed32: _ = try fixed32()
        case .startGroup, .endGroup: throw .groupsUnsupported(field: field)
        case nil: throw .badWireType(field: field, type: type)
        }
    }
}
