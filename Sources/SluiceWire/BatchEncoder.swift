import NIOCore
import SluiceCore

/// Writes event batches as `sluice.v1.EventBatch` messages (see `BatchCodec` for the layout).
/// Keep one per connection or producer: it holds the string dictionary's tables between batches,
/// so encoding allocates nothing once they have grown to the batch size.
public struct BatchEncoder: Sendable {
    typealias Field = BatchCodec.Field
    typealias ColumnField = BatchCodec.ColumnField

    private var dictionary = StringDictionary()

    public init() {}

    /// Appends `batch` to `out` as one message. Each column is sized first so that its length
    /// prefix is exact, then written in place. Throws for a batch that cannot travel: an `object`
    /// attribute, or columns whose lengths disagree.
    public mutating func encode(_ batch: EventBatch, header: BatchHeader, into out: inout ByteBuffer) throws {
        let n = batch.count
        guard n <= Int(UInt32.max), batch.kinds.count == n else {
            throw WireError(.malformedMessage, "batch has \(n) timestamps and \(batch.kinds.count) kinds")
        }
        try encodeHead(batch.timestamps, header: header, into: &out)
        for (index, column) in batch.columns.enumerated() {
            try encodeColumn(column, index: index, of: batch.columns.count, events: n, into: &out)
        }
        try encodeKinds(batch.kinds, into: &out)
        if !header.outputGroup.isEmpty || header.outputTerm != 0 || header.outputSequence != 0 || header.outputPart != 0 {
            try encodeOutputIdentity(header, into: &out)
        }
    }

    private func encodeOutputIdentity(_ header: BatchHeader, into out: inout ByteBuffer) throws {
        var group = header.outputGroup
        let size = group.utf8.count
        guard size <= BatchHeader.maxGroupBytes else {
            throw WireError(.malformedMessage, "output group name of \(size) bytes is over \(BatchHeader.maxGroupBytes)")
        }
        out.writeWithUnsafeMutableBytes(minimumWritableBytes: 4 * 11 + size) { raw in
            var w = ProtoWriter(raw.baseAddress!)
            if size > 0 {
                w.tag(Field.outputGroup, .lengthDelimited)
                w.varint(UInt64(size))
                group.withUTF8 { w.bytes(UnsafeRawBufferPointer($0)) }
            }
            w.varintField(Field.outputTerm, header.outputTerm)
            w.varintField(Field.outputSequence, header.outputSequence)
            w.varintField(Field.outputPart, header.outputPart)
            return w.cursor - raw.baseAddress!
        }
    }

    private func encodeHead(_ timestamps: [Int64], header: BatchHeader, into out: inout ByteBuffer) throws {
        let n = timestamps.count
        var deltasSize = 0
        timestamps.withUnsafeBufferPointer { ts in
            var previous: Int64 = 0
            for t in ts {
                deltasSize += varintSize(zigzag(t &- previous))
                previous = t
            }
        }
        // Three 10-byte varints, a 5-byte count, each with its tag; then the packed deltas.
        let bound = 3 * 11 + 6 + 1 + 5 + deltasSize
        out.writeWithUnsafeMutableBytes(minimumWritableBytes: bound) { raw in
            var w = ProtoWriter(raw.baseAddress!)
            w.varintField(Field.streamID, UInt64(header.streamID))
            w.varintField(Field.producerID, header.producerID)
            w.varintField(Field.sequence, header.sequence)
            if n > 0 {
                w.tag(Field.eventCount, .varint)
                w.varint(UInt64(n))
                w.tag(Field.timestampDeltas, .lengthDelimited)
                w.varint(UInt64(deltasSize))
                timestamps.withUnsafeBufferPointer { ts in
                    var previous: Int64 = 0
                    for t in ts {
                        w.varint(zigzag(t &- previous))
                        previous = t
                    }
                }
            }
            return w.cursor - raw.baseAddress!
        }
    }

    private mutating func encodeColumn(_ column: Column, index: Int, of arity: Int, events n: Int,
                                       into out: inout ByteBuffer) throws {
        guard let wireType = column.type.wireValue else {
            throw WireError(.unsupportedType, "attribute \(index + 1) of \(arity) has type object, which has no wire form")
        }
        guard column.count == n, column.nulls.isEmpty || column.nulls.count == n else {
            throw WireError(.malformedMessage, "attribute \(index + 1) of \(arity) has \(column.count) values for \(n) events")
        }
        let plan = ColumnPlan(column, dictionary: &dictionary)
        let total = 1 + varintSize(UInt64(plan.bodySize)) + plan.bodySize
        out.writeWithUnsafeMutableBytes(minimumWritableBytes: total) { raw in
            var w = ProtoWriter(raw.baseAddress!)
            w.tag(Field.columns, .lengthDelimited)
            w.varint(UInt64(plan.bodySize))
            w.tag(ColumnField.type, .varint)
            w.varint(UInt64(wireType.rawValue))
            plan.writeValues(column, dictionary: dictionary, into: &w)
            plan.writeNullBitmap(column, into: &w)
            plan.writeRefs(dictionary, into: &w)
            precondition(w.cursor - raw.baseAddress! == total, "column size plan was wrong")
            return total
        }
    }

    private func encodeKinds(_ kinds: [EventKind], into out: inout ByteBuffer) throws {
        guard kinds.contains(where: { $0 != .current }) else { return }
        let n = kinds.count
        out.writeWithUnsafeMutableBytes(minimumWritableBytes: 1 + 10 + n) { raw in
            var w = ProtoWriter(raw.baseAddress!)
            w.tag(Field.kinds, .lengthDelimited)
            w.varint(UInt64(n))
            // Every EventKind is below 128, so each packed varint is its raw byte.
            for kind in kinds { w.byte(kind.rawValue) }
            return w.cursor - raw.baseAddress!
        }
    }
}

/// The sizes of one column's fields, measured before writing so length prefixes are exact.
private struct ColumnPlan {
    /// Bytes of the packed value field's content (longs, floats, doubles, bools or string lengths).
    var valuesSize = 0
    var longsDelta = false
    var arenaSize = 0
    /// Strings in dictionary form: bytes of the refs field's content, 0 when plain.
    var refsSize = 0
    var bitmapSize = 0
    var bodySize = 0

    init(_ column: Column, dictionary: inout StringDictionary) {
        let n = column.count
        switch column.type {
        case .int, .long:
            var plain = 0, delta = 0
            column.longs.withUnsafeBufferPointer { values in
                var previous: Int64 = 0
                for v in values {
                    plain += varintSize(zigzag(v))
                    delta += varintSize(zigzag(v &- previous))
                    previous = v
                }
            }
            // Deltas win for clustered values such as times; plain for independent ones.
            longsDelta = delta < plain
            valuesSize = longsDelta ? delta : plain
        case .float: valuesSize = 4 * n
        case .double: valuesSize = 8 * n
        case .bool: valuesSize = n
        case .string:
            let sizes = dictionary.build(column.strings)
            // Dictionary form when it is smaller: repeated values (tenants, API names) are sent
            // once per batch and decoded once.
            if sizes.dictionary < sizes.plain, n > 1 {
                valuesSize = sizes.dictionaryLengths
                arenaSize = sizes.dictionaryArena
                refsSize = sizes.refs
            } else {
                valuesSize = sizes.plainLengths
                arenaSize = sizes.plainArena
            }
        case .object: break
        }
        if column.nulls.contains(true) { bitmapSize = (n + 7) / 8 }

        bodySize = 2 // type
        if valuesSize > 0 { bodySize += 1 + varintSize(UInt64(valuesSize)) + valuesSize }
        if longsDelta { bodySize += 2 }
        if arenaSize > 0 { bodySize += 1 + varintSize(UInt64(arenaSize)) + arenaSize }
        if bitmapSize > 0 { bodySize += 1 + varintSize(UInt64(bitmapSize)) + bitmapSize }
        if refsSize > 0 { bodySize += 1 + varintSize(UInt64(refsSize)) + refsSize }
    }

    /// Writes the value fields in field-number order, as swift-protobuf would.
    func writeValues(_ column: Column, dictionary: StringDictionary, into w: inout ProtoWriter) {
        typealias F = BatchCodec.ColumnField
        switch column.type {
        case .int, .long:
            guard valuesSize > 0 else { return }
            w.tag(F.longs, .lengthDelimited)
            w.varint(UInt64(valuesSize))
            column.longs.withUnsafeBufferPointer { values in
                if longsDelta {
                    var previous: Int64 = 0
                    for v in values {
                        w.varint(zigzag(v &- previous))
                        previous = v
                    }
                } else {
                    for v in values { w.varint(zigzag(v)) }
                }
            }
            if longsDelta {
                w.tag(F.longsDelta, .varint)
                w.byte(1)
            }
        case .float:
            guard valuesSize > 0 else { return }
            w.tag(F.floats, .lengthDelimited)
            w.varint(UInt64(valuesSize))
            for v in column.doubles { w.fixed32(Float(v).bitPattern) }
        case .double:
            guard valuesSize > 0 else { return }
            w.tag(F.doubles, .lengthDelimited)
            w.varint(UInt64(valuesSize))
            #if _endian(little)
            column.doubles.withUnsafeBytes { w.bytes($0) }
            #else
            for v in column.doubles { w.fixed64(v.bitPattern) }
            #endif
        case .bool:
            guard valuesSize > 0 else { return }
            w.tag(F.bools, .lengthDelimited)
            w.varint(UInt64(valuesSize))
            // A Bool is stored as one byte, 0 or 1: the packed varint form already.
            column.bools.withUnsafeBytes { w.bytes($0) }
        case .string:
            guard valuesSize > 0 else { return }
            // Dictionary form writes each distinct value, in first-seen order; plain form every row.
            // Plain form walks the flat arena: a lane in dictionary form whose values rarely repeat is flattened once.
            let strings = refsSize > 0 ? column.strings : column.strings.flattened
            w.tag(F.stringLengths, .lengthDelimited)
            w.varint(UInt64(valuesSize))
            if refsSize > 0 {
                dictionary.forEachValue(of: strings) { w.varint(UInt64($0.count)) }
            } else {
                strings.withUnsafeStorage { _, ends in
                    var start = 0
                    for end in ends {
                        w.varint(UInt64(end - start))
                        start = end
                    }
                }
            }
            guard arenaSize > 0 else { return }
            w.tag(F.stringArena, .lengthDelimited)
            w.varint(UInt64(arenaSize))
            if refsSize > 0 {
                dictionary.forEachValue(of: strings) { w.bytes($0) }
            } else {
                strings.bytes.withUnsafeBytes { w.bytes($0) }
            }
        case .object: break
        }
    }

    func writeRefs(_ dictionary: StringDictionary, into w: inout ProtoWriter) {
        guard refsSize > 0 else { return }
        w.tag(BatchCodec.ColumnField.stringRefs, .lengthDelimited)
        w.varint(UInt64(refsSize))
        for ref in dictionary.refs { w.varint(UInt64(ref)) }
    }

    func writeNullBitmap(_ column: Column, into w: inout ProtoWriter) {
        guard bitmapSize > 0 else { return }
        w.tag(BatchCodec.ColumnField.nullBitmap, .lengthDelimited)
        w.varint(UInt64(bitmapSize))
        column.nulls.withUnsafeBufferPointer { nulls in
            var row = 0
            for _ in 0..<bitmapSize {
                var byte: UInt8 = 0
                for bit in 0..<8 where row + bit < nulls.count && nulls[row + bit] {
                    byte |= 1 << bit
                }
                w.byte(byte)
                row += 8
            }
        }
    }
}
