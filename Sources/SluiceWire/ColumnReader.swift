import SluiceCore

/// Reads one `sluice.v1.Column` message into a `Column` of the type the stream expects, checking
/// that it is that type and holds exactly one value per event.
struct ColumnReader {
    typealias F = BatchCodec.ColumnField

    let base: UnsafeRawPointer
    let range: Range<Int>
    let type: AttributeType
    let events: Int
    let index: Int
    let arity: Int

    private var place: String { "attribute \(index + 1) of \(arity) (\(type))" }

    /// Refills `column`, reusing the capacity of its arrays.
    func read(into column: inout Column, strings scratch: inout StringScratch) throws {
        var longs = column.longs, doubles = column.doubles, bools = column.bools
        var strings = column.strings, nulls = column.nulls
        column = Column(type: type) // drops the last other reference, so the lanes refill in place
        longs.removeAll(keepingCapacity: true)
        doubles.removeAll(keepingCapacity: true)
        bools.removeAll(keepingCapacity: true)
        strings.removeAll(keepingCapacity: true)
        nulls.removeAll(keepingCapacity: true)
        // The batch's event count passed the size check, so this reserve is bounded by the input.
        switch type {
        case .int, .long: longs.reserveCapacity(events)
        case .float, .double: doubles.reserveCapacity(events)
        case .bool: bools.reserveCapacity(events)
        case .string: strings.reserveCapacity(rows: events)
        case .object: break
        }

        var fields = Fields()
        try wrap(.truncatedColumn, place) {
            fields = try readFields(longs: &longs, doubles: &doubles, bools: &bools)
        }
        guard fields.sawType else {
            throw WireError(.malformedMessage, "\(place): the column has no type")
        }
        switch type {
        case .int, .long:
            try expectCount(longs.count)
            if fields.longsDelta {
                var running: Int64 = 0
                for i in longs.indices {
                    running = running &+ longs[i]
                    longs[i] = running
                }
            }
            if type == .int {
                for v in longs where Int64(Int32(truncatingIfNeeded: v)) != v {
                    throw WireError(.malformedMessage, "\(place): \(v) is outside int's 32-bit range")
                }
            }
            column = Column(longs: longs, type: type)
        case .float, .double:
            try expectCount(doubles.count)
            column = Column(doubles: doubles, type: type)
        case .bool:
            try expectCount(bools.count)
            column = Column(bools: bools)
        case .string:
            if let refs = fields.stringRefs {
                // The lane stays in dictionary form: rows are copied only if something changes them.
                var values = StringLane()
                try readStrings(lengths: fields.stringLengths, arena: fields.stringArena, into: &values,
                                cut: &scratch.lengths)
                strings = StringLane(values: values, codes: try references(refs, distinct: values.count))
            } else {
                try readStrings(lengths: fields.stringLengths, arena: fields.stringArena, into: &strings,
                                cut: &scratch.lengths)
            }
            try expectCount(strings.count)
            column = Column(strings: strings)
        case .object:
            throw WireError(.unsupportedType, "\(place): object attributes have no wire form")
        }
        if let bitmap = fields.nullBitmap, !bitmap.isEmpty {
            try readNulls(bitmap, into: &nulls)
            if !nulls.isEmpty { column.nulls = nulls }
        }
    }

    /// Checks the column's type and steps over its values without reading them.
    func checkType() throws {
        var sawType = false
        try wrap(.truncatedColumn, place) {
            var reader = ProtoReader(base: base, range: range)
            while !reader.isAtEnd {
                let (field, wireType) = try reader.tag()
                guard field == F.type else {
                    try reader.skip(field: field, type: wireType)
                    continue
                }
                try expectWireType(field, wireType, .varint)
                let raw = try reader.varint()
                guard let wire = Sluice_V1_AttributeType(rawValue: Int(truncatingIfNeeded: raw)),
                      let sent = AttributeType(wireValue: wire) else {
                    throw WireError(.malformedMessage, "\(place): \(raw) is not an attribute type")
                }
                guard sent == type else { throw WireError(.schemaMismatch, "\(place): the batch's column is \(sent)") }
                sawType = true
            }
        }
        guard sawType else { throw WireError(.malformedMessage, "\(place): the column has no type") }
    }

    /// Where the length-delimited fields are, and the scalar fields, after one pass.
    private struct Fields {
        var sawType = false
        var longsDelta = false
        var stringLengths: Range<Int>?
        var stringArena: Range<Int>?
        var nullBitmap: Range<Int>?
        var stringRefs: Range<Int>?
    }

    private func readFields(longs: inout [Int64], doubles: inout [Double], bools: inout [Bool]) throws -> Fields {
        var fields = Fields()
        var reader = ProtoReader(base: base, range: range)
        while !reader.isAtEnd {
            let (field, wireType) = try reader.tag()
            switch field {
            case F.type:
                try expectWireType(field, wireType, .varint)
                let raw = try reader.varint()
                guard let wire = Sluice_V1_AttributeType(rawValue: Int(truncatingIfNeeded: raw)),
                      let sent = AttributeType(wireValue: wire) else {
                    throw WireError(.malformedMessage, "\(place): \(raw) is not an attribute type")
                }
                guard sent == type else {
                    throw WireError(.schemaMismatch, "\(place): the batch's column is \(sent)")
                }
                fields.sawType = true
            case F.longs:
                try expectLane(type.isIntegral, "int or long")
                try readVarints(wireType, &reader) { longs.append(unzigzag($0)) }
            case F.longsDelta:
                try expectWireType(field, wireType, .varint)
                fields.longsDelta = try reader.varint() != 0
            case F.floats:
                try expectLane(type == .float, "float")
                try readFixed(wireType, &reader, width: 4, count: doubles.count) { p in
                    doubles.append(Double(Float(bitPattern: UInt32(littleEndian: p.loadUnaligned(as: UInt32.self)))))
                }
            case F.doubles:
                try expectLane(type == .double, "double")
                try readFixed(wireType, &reader, width: 8, count: doubles.count) { p in
                    doubles.append(Double(bitPattern: UInt64(littleEndian: p.loadUnaligned(as: UInt64.self))))
                }
            case F.bools:
                try expectLane(type == .bool, "bool")
                try readVarints(wireType, &reader) { bools.append($0 != 0) }
            case F.stringLengths:
                try expectLane(type == .string, "string")
                try expectWireType(field, wireType, .lengthDelimited)
                guard fields.stringLengths == nil else {
                    throw WireError(.malformedMessage, "\(place): string lengths must be one packed field")
                }
                fields.stringLengths = try reader.lengthDelimited()
            case F.stringArena:
                try expectLane(type == .string, "string")
                try expectWireType(field, wireType, .lengthDelimited)
                fields.stringArena = try reader.lengthDelimited()
            case F.nullBitmap:
                try expectWireType(field, wireType, .lengthDelimited)
                fields.nullBitmap = try reader.lengthDelimited()
            case F.stringRefs:
                try expectLane(type == .string, "string")
                try expectWireType(field, wireType, .lengthDelimited)
                guard fields.stringRefs == nil else {
                    throw WireError(.malformedMessage, "\(place): string refs must be one packed field")
                }
                fields.stringRefs = try reader.lengthDelimited()
            default:
                try reader.skip(field: field, type: wireType)
            }
        }
        return fields
    }

    private func expectWireType(_ field: Int, _ actual: UInt8, _ expected: WireType) throws {
        guard actual == expected.rawValue else { throw ProtoReader.Failure.badWireType(field: field, type: actual) }
    }

    /// A value field of another type's lane: the producer's stream definition differs.
    private func expectLane(_ matches: Bool, _ sent: String) throws {
        guard matches else {
            throw WireError(.schemaMismatch, "\(place): the batch's column holds \(sent) values")
        }
    }

    private func expectCount(_ count: Int) throws {
        guard count == events else {
            throw WireError(.truncatedColumn, "\(place): \(count) values for \(events) events")
        }
    }

    /// A repeated varint field, packed or not, never past `events` values in all.
    private func readVarints(_ wireType: UInt8, _ reader: inout ProtoReader, _ append: (UInt64) -> Void) throws {
        if wireType == WireType.varint.rawValue {
            append(try reader.varint())
            return
        }
        guard wireType == WireType.lengthDelimited.rawValue else {
            throw ProtoReader.Failure.badWireType(field: 0, type: wireType)
        }
        var packed = ProtoReader(base: base, range: try reader.lengthDelimited())
        // A varint is at least one byte, so this bounds the values before reading them.
        var budget = events
        while !packed.isAtEnd {
            budget -= 1
            guard budget >= 0 else { throw tooMany() }
            append(try packed.varint())
        }
    }

    /// A repeated fixed-width field, packed or not.
    private func readFixed(_ wireType: UInt8, _ reader: inout ProtoReader, width: Int, count: Int,
                           _ append: (UnsafeRawPointer) -> Void) throws {
        let single: WireType = width == 4 ? .fixed32 : .fixed64
        let values: Range<Int>
        if wireType == single.rawValue {
            guard reader.end - reader.position >= width else { throw ProtoReader.Failure.truncated }
            values = reader.position..<(reader.position + width)
            reader.position += width
        } else if wireType == WireType.lengthDelimited.rawValue {
            values = try reader.lengthDelimited()
        } else {
            throw ProtoReader.Failure.badWireType(field: 0, type: wireType)
        }
        guard values.count % width == 0 else {
            throw WireError(.truncatedColumn, "\(place): \(values.count) bytes is not a whole number of \(width)-byte values")
        }
        guard count + values.count / width <= events else { throw tooMany() }
        for offset in stride(from: values.lowerBound, to: values.upperBound, by: width) {
            append(base + offset)
        }
    }

    private func tooMany() -> WireError {
        WireError(.malformedMessage, "\(place): more values than the batch's \(events) events")
    }

    /// Cuts the arena into strings by their lengths, at most one per event. Invalid UTF-8 is
    /// repaired with U+FFFD, as Java's String(bytes, UTF_8) does on the Siddhi side; an all-ASCII
    /// arena (the usual case) is checked once and copied whole.
    private func readStrings(lengths: Range<Int>?, arena: Range<Int>?, into strings: inout StringLane,
                             cut scratchLengths: inout [Int]) throws {
        guard let lengths else { return }
        let arena = arena ?? lengths.upperBound..<lengths.upperBound
        let arenaBytes = UnsafeRawBufferPointer(start: base + arena.lowerBound, count: arena.count)
        let ascii = isASCII(arenaBytes)
        var offset = arena.lowerBound
        var reader = ProtoReader(base: base, range: lengths)
        // A local (handed back at the end) rather than the inout parameter inside the closure.
        var cut: [Int] = []
        swap(&cut, &scratchLengths)
        cut.removeAll(keepingCapacity: true)
        defer { swap(&cut, &scratchLengths) }
        try wrap(.truncatedColumn, "\(place): string lengths") {
            if ascii {
                // Lengths first, checked against the arena, then one copy of the bytes.
                while !reader.isAtEnd {
                    let length = try reader.varint()
                    guard strings.count + cut.count < events else { throw tooMany() }
                    guard length <= UInt64(arena.upperBound - offset) else {
                        throw WireError(.truncatedColumn, "\(place): the string arena ends inside string \(strings.count + cut.count + 1)")
                    }
                    offset += Int(length)
                    cut.append(Int(length))
                }
                strings.append(validUTF8: UnsafeRawBufferPointer(rebasing: arenaBytes[..<(offset - arena.lowerBound)]),
                               rowLengths: cut)
            } else {
                while !reader.isAtEnd {
                    let length = try reader.varint()
                    guard strings.count < events else { throw tooMany() }
                    guard length <= UInt64(arena.upperBound - offset) else {
                        throw WireError(.truncatedColumn, "\(place): the string arena ends inside string \(strings.count + 1)")
                    }
                    strings.append(checking: UnsafeRawBufferPointer(start: base + offset, count: Int(length)))
                    offset += Int(length)
                }
            }
        }
        guard offset == arena.upperBound else {
            throw WireError(.malformedMessage, "\(place): the string arena has \(arena.upperBound - offset) bytes past its last string")
        }
    }

    /// Dictionary form: each row names one of the distinct values, checked against their count.
    private func references(_ refs: Range<Int>, distinct: Int) throws -> [UInt32] {
        let distinctCount = UInt64(distinct), events = self.events
        if refs.count == events, distinct <= 128 {
            // One byte per row: every reference is a one-byte varint, so each byte is the value.
            let bytes = UnsafeRawBufferPointer(start: base + refs.lowerBound, count: refs.count)
            var largest: UInt8 = 0
            let codes = [UInt32](unsafeUninitializedCapacity: events) { out, filled in
                for i in 0..<events {
                    let b = bytes[i]
                    largest = max(largest, b)
                    out[i] = UInt32(b)
                }
                filled = events
            }
            if UInt64(largest) < distinctCount { return codes }
            // A byte with the high bit set or a reference out of range: the general path says which.
        }
        var reader = ProtoReader(base: base, range: refs)
        // Filled in place: one capacity for the batch's events, which passed the size check.
        return try [UInt32](unsafeUninitializedCapacity: events) { out, filled in
            try wrap(.truncatedColumn, "\(place): string refs") {
                while !reader.isAtEnd {
                    let ref = try reader.varint()
                    guard filled < events else { throw tooMany() }
                    guard ref < distinctCount else {
                        throw WireError(.malformedMessage, "\(place): row \(filled + 1) refers to value \(ref) of \(distinctCount)")
                    }
                    out[filled] = UInt32(truncatingIfNeeded: ref)
                    filled += 1
                }
            }
        }
    }

    /// Bit i of the bitmap (least significant first) is row i's null flag. Leaves `nulls` empty
    /// when no row is null, as `Column` expects.
    private func readNulls(_ bitmap: Range<Int>, into nulls: inout [Bool]) throws {
        let expected = (events + 7) / 8
        guard bitmap.count == expected else {
            throw WireError(.malformedMessage, "\(place): the null bitmap has \(bitmap.count) bytes; \(events) events need \(expected)")
        }
        let bytes = UnsafeRawBufferPointer(start: base + bitmap.lowerBound, count: bitmap.count)
        func isNull(_ row: Int) -> Bool { bytes[row >> 3] & (1 << UInt8(row & 7)) != 0 }
        guard (0..<events).contains(where: isNull) else { return }
        nulls.reserveCapacity(events)
        for row in 0..<events { nulls.append(isNull(row)) }
    }
}
