import Foundation
import NIOCore
import SluiceCore
import Testing
@testable import SluiceWire

@Suite struct BatchCodecTests {
    let header = BatchHeader(streamID: 7, producerID: 0xDEAD_BEEF_CAFE, sequence: 42)

    func encode(_ batch: EventBatch, header: BatchHeader? = nil) throws -> ByteBuffer {
        var out = ByteBuffer()
        try BatchCodec.encode(batch, header: header ?? self.header, into: &out)
        return out
    }

    @Test(arguments: 0..<40)
    func randomBatchesRoundTrip(seed: Int) throws {
        var rng = SplitMix64(seed: UInt64(seed))
        let schema = TestBatches.schema(arity: Int.random(in: 0...12, using: &rng), using: &rng)
        let count = [0, 1, 7, 8, 9, 100, 1024].randomElement(using: &rng)!
        let batch = TestBatches.batch(schema, count: count, nullRate: [0, 0.1, 1].randomElement(using: &rng)!,
                                      kinds: seed % 3 == 0, using: &rng)
        let (decodedHeader, decoded) = try BatchCodec.decode(encode(batch), schema: schema)
        #expect(decodedHeader == header)
        #expect(sameEvents(decoded, batch))
    }

    /// Columns nothing reads can be left undecoded: they hold zero values, the others decode
    /// exactly, and a skipped column of the wrong type is still refused.
    @Test(arguments: 0..<10)
    func skippedColumnsAreCheckedButNotRead(seed: Int) throws {
        var rng = SplitMix64(seed: UInt64(seed))
        let schema = TestBatches.schema(arity: Int.random(in: 1...12, using: &rng), using: &rng)
        let batch = TestBatches.batch(schema, count: [1, 9, 1024].randomElement(using: &rng)!, using: &rng)
        let skip = schema.map { _ in Bool.random(using: &rng) }
        var decoder = BatchDecoder()
        let (_, decoded) = try decoder.decode(encode(batch), schema: schema, skip: skip)
        #expect(decoded.timestamps == batch.timestamps && decoded.kinds == batch.kinds)
        for (i, skipped) in skip.enumerated() {
            let column = decoded.columns[i]
            #expect(column.count == batch.count)
            if skipped {
                #expect(!column.hasNulls && (0..<column.count).allSatisfy { column.value(at: $0) == Column(unread: schema[i], count: 1).value(at: 0) })
            } else {
                #expect((0..<column.count).allSatisfy { column.value(at: $0) == batch.columns[i].value(at: $0) })
            }
        }
        // The same bytes with a schema whose skipped column has another type: refused.
        if let i = skip.firstIndex(of: true) {
            var other = schema
            other[i] = schema[i] == .long ? .string : .long
            #expect(throws: WireError.self) { _ = try decoder.decode(try encode(batch), schema: other, skip: skip) }
        }
    }

    @Test func emptyBatchKeepsItsColumns() throws {
        let schema = TestBatches.allTypes
        let buffer = try encode(EventBatch(types: schema), header: BatchHeader(streamID: 0, producerID: 0, sequence: 0))
        let (h, decoded) = try BatchCodec.decode(buffer, schema: schema)
        #expect(h == BatchHeader(streamID: 0, producerID: 0, sequence: 0))
        #expect(decoded.isEmpty && decoded.types == schema)
        // Six columns of two bytes each (type only), each with a tag and a length.
        #expect(buffer.readableBytes == 6 * 4)
    }

    @Test func nullsSurviveInEveryLane() throws {
        var batch = EventBatch(types: TestBatches.allTypes)
        batch.append(timestamp: 1, values: Array(repeating: .null, count: 6))
        batch.append(timestamp: 2, values: [.string("x"), .int(1), .long(2), .float(3), .double(4), .bool(true)])
        let decoded = try BatchCodec.decode(encode(batch), schema: batch.types).batch
        #expect(decoded.values(at: 0) == Array(repeating: .null, count: 6))
        #expect(decoded.values(at: 1) == [.string("x"), .int(1), .long(2), .float(3), .double(4), .bool(true)])
    }

    @Test func unicodeStringsKeepTheirBytes() throws {
        var batch = EventBatch(types: [.string])
        for s in TestBatches.strings { batch.append(timestamp: 0, values: [.string(s)]) }
        let decoded = try BatchCodec.decode(encode(batch), schema: [.string]).batch
        #expect(Array(decoded.columns[0].strings) == TestBatches.strings)
    }

    @Test func clusteredLongsAreDeltaCoded() throws {
        let times = (0..<100).map { 1_700_000_000_000 + Int64($0) }
        let batch = EventBatch(timestamps: times, columns: [Column(longs: times)])
        let buffer = try encode(batch)
        // 100 one-byte timestamp deltas and 100 one-byte column deltas, plus a few bytes of framing.
        #expect(buffer.readableBytes < 2 * 100 + 40)
        #expect(try BatchCodec.decode(buffer, schema: [.long]).batch.columns[0].longs == times)
    }

    @Test func repeatedStringsTravelOnceInDictionaryForm() throws {
        let values = ["tenant-one.example.com", "tenant-two.example.com", "é", "e\u{301}"]
        var batch = EventBatch(types: [.string])
        for i in 0..<400 { batch.append(timestamp: Int64(i), values: [.string(values[i % 4])]) }
        let buffer = try encode(batch)
        let message = try Sluice_V1_EventBatch(serializedBytes: Array(buffer.readableBytesView))
        // Canonically equivalent strings are different bytes, so different values.
        #expect(message.columns[0].stringLengths.count == 4)
        #expect(message.columns[0].stringRefs.count == 400)
        let decoded = try BatchCodec.decode(buffer, schema: [.string]).batch
        #expect(decoded.columns[0].strings.map { Array($0.utf8) } == batch.columns[0].strings.map { Array($0.utf8) })
    }

    @Test func decodedDictionaryReferencesReEncodeWithoutHashing() throws {
        let values = ["tenant-one.example.com", "tenant-two.example.com", "é", "", "e\u{301}"]
        var batch = EventBatch(types: [.string, .long])
        for i in 0..<300 { batch.append(timestamp: Int64(i), values: [.string(values[(i * 7) % 5]), .long(Int64(i))]) }
        let first = try encode(batch)
        let decoded = try BatchCodec.decode(first, schema: batch.types).batch
        let codes = try #require(decoded.columns[0].strings.valueCodes)
        #expect(codes.count == 5 && codes.codes.count == 300)
        // Built from the codes, the dictionary is the one hashing finds: the same bytes.
        #expect(try encode(decoded) == first)
        // Rows gathered into a new lane keep their codes; the subset re-encodes to the same values.
        let rows = Array(stride(from: 3, to: 300, by: 4))
        let part = decoded.gather(rows)
        #expect(part.columns[0].strings.valueCodes?.codes == rows.map { codes.codes[$0] })
        #expect(sameEvents(try BatchCodec.decode(encode(part), schema: batch.types).batch, batch.gather(rows)))
        #expect(try encode(part) == encode(batch.gather(rows)))
    }

    /// A decoded lane stays in dictionary form through changes that only drop or reorder rows of
    /// its own values, and turns flat (with the same rows) on any other change.
    @Test func changingALaneKeepsItsRowsInEitherForm() throws {
        var batch = EventBatch(types: [.string])
        for i in 0..<20 { batch.append(timestamp: Int64(i), values: [.string(["a", "bb", "ccc"][i % 3])]) }
        let decoded = try BatchCodec.decode(encode(batch), schema: [.string]).batch.columns[0].strings
        let other = try BatchCodec.decode(encode(batch), schema: [.string]).batch.columns[0].strings
        #expect(decoded.valueCodes != nil)
        let rows = Array(decoded)
        let changes: [(name: String, keepsCodes: Bool, change: (inout StringLane) -> Void, expected: [String])] = [
            ("append a string", false, { $0.append("d") }, rows + ["d"]),
            ("append empty", false, { $0.appendEmpty() }, rows + [""]),
            ("remove first", true, { $0.removeFirst(2) }, Array(rows.dropFirst(2))),
            ("remove one", true, { $0.remove(at: 3) }, Array(rows[..<3] + rows[4...])),
            ("append a row of its own values", false, { $0.append(from: decoded, row: 0) }, rows + [rows[0]]),
            ("append a run of its own values", true, { $0.append(from: decoded, rows: 1..<3) }, rows + rows[1..<3]),
            ("append a run of other values", false, { $0.append(from: other, rows: 1..<3) }, rows + rows[1..<3]),
            ("gather from other values", false, { lane in [4, 0].withUnsafeBufferPointer { lane.append(rowsOf: other, at: $0) } },
             rows + [rows[4], rows[0]]),
            ("remove all", false, { $0.removeAll() }, []),
        ]
        for (name, keepsCodes, change, expected) in changes {
            var lane = decoded
            change(&lane)
            #expect((lane.valueCodes != nil) == keepsCodes, "\(name)")
            #expect(Array(lane) == expected, "\(name)")
            #expect(Array(lane.flattened) == expected && lane.flattened.valueCodes == nil, "\(name)")
            #expect(lane.ends.count == expected.count, "\(name)")
        }
        // Into an empty lane, gathers and runs take codes only.
        var empty = StringLane()
        [5, 1].withUnsafeBufferPointer { empty.append(rowsOf: decoded, at: $0) }
        #expect(empty.valueCodes?.values === decoded.valueCodes?.values && Array(empty) == [rows[5], rows[1]])
    }

    /// References one byte each are read without the varint loop, and still checked.
    @Test func oneByteReferencesAreChecked() throws {
        func decode(refs: [UInt32]) throws -> [String] {
            var m = Reference.message(EventBatch(timestamps: [1, 2, 3], columns: [Column(strings: ["ab", "cd", "ab"])]), header: header,
                                      deltaLongs: false, dictionaryStrings: true)
            m.columns[0].stringLengths = [2, 2]
            m.columns[0].stringArena = Data("abcd".utf8)
            m.columns[0].stringRefs = refs
            let bytes: [UInt8] = try m.serializedBytes()
            return Array(try BatchCodec.decode(ByteBuffer(bytes: bytes), schema: [.string]).batch.columns[0].strings)
        }
        #expect(try decode(refs: [0, 1, 0]) == ["ab", "cd", "ab"])
        #expect(throws: WireError.self) { try decode(refs: [0, 2, 1]) }
        #expect(throws: WireError.self) { try decode(refs: [0, 200, 1]) }
        #expect(throws: WireError.self) { try decode(refs: [0, 1]) }
    }

    @Test func duplicateDictionaryValuesStayCorrect() throws {
        var m = Reference.message(EventBatch(timestamps: [1, 2, 3], columns: [Column(strings: ["ab", "ab", "cd"])]), header: header,
                                  deltaLongs: false, dictionaryStrings: true)
        m.columns[0].stringLengths = [2, 2, 2]
        m.columns[0].stringArena = Data("ababcd".utf8)
        m.columns[0].stringRefs = [0, 1, 2]
        let bytes: [UInt8] = try m.serializedBytes()
        let decoded = try BatchCodec.decode(ByteBuffer(bytes: bytes), schema: [.string]).batch
        #expect(Array(decoded.columns[0].strings) == ["ab", "ab", "cd"])
        #expect(Array(try BatchCodec.decode(encode(decoded), schema: [.string]).batch.columns[0].strings) == ["ab", "ab", "cd"])
    }

    @Test func dictionaryRefsOutOfRangeAreRefused() throws {
        var m = Reference.message(EventBatch(timestamps: [1, 2], columns: [Column(strings: ["ab", "ab"])]), header: header,
                                  deltaLongs: false, dictionaryStrings: true)
        m.columns[0].stringRefs = [0, 1]
        let bytes: [UInt8] = try m.serializedBytes()
        #expect(code { _ = try BatchCodec.decode(ByteBuffer(bytes: bytes), schema: [.string]) } == .malformedMessage)
    }

    @Test func aKeptDecoderRecoversFromARefusedBatch() throws {
        var decoder = BatchDecoder()
        let good = EventBatch(timestamps: [1, 2, 3], columns: [Column(strings: ["x", "y", "x"])])
        var bad = Reference.message(good, header: header, deltaLongs: false, dictionaryStrings: true)
        bad.columns[0].stringRefs = [0, 1, 7]
        let badBytes: [UInt8] = try bad.serializedBytes()
        #expect(throws: WireError.self) { try decoder.decode(ByteBuffer(bytes: badBytes), schema: [.string]) }
        let goodBytes: [UInt8] = try Reference.message(good, header: header, deltaLongs: false, dictionaryStrings: true).serializedBytes()
        #expect(try decoder.decode(ByteBuffer(bytes: goodBytes), schema: [.string]).batch.columns[0].strings == ["x", "y", "x"])
    }

    @Test func aKeptDecoderReusesStringsAcrossBatches() throws {
        var rng = SplitMix64(seed: 12)
        var decoder = BatchDecoder()
        let batch = TestBatches.batch([.string, .string], count: 300, nullRate: 0, using: &rng)
        let buffer = try encode(batch)
        let first = try decoder.decode(buffer, schema: [.string, .string]).batch
        let second = try decoder.decode(buffer, schema: [.string, .string]).batch
        #expect(sameEvents(first, batch) && sameEvents(second, batch))
    }

    @Test func decodingIntoARecycledBatchReusesIt() throws {
        var rng = SplitMix64(seed: 99)
        let schema: [AttributeType] = [.string, .long, .double, .bool]
        var target = EventBatch(types: [.int])
        for count in [50, 3, 0, 200] {
            let batch = TestBatches.batch(schema, count: count, using: &rng)
            _ = try BatchCodec.decode(encode(batch), schema: schema, into: &target)
            #expect(sameEvents(target, batch))
        }
    }

    @Test func objectColumnsCannotBeSent() {
        let batch = EventBatch(types: [.object])
        #expect(throws: WireError.self) { try encode(batch) }
        #expect((try? BatchCodec.decode(ByteBuffer(), schema: [.object])) == nil)
    }

    // MARK: Refusals

    func code(_ body: () throws -> Void) -> WireError.Code? {
        do {
            try body()
            return nil
        } catch let error as WireError {
            #expect(!error.message.isEmpty)
            return error.code
        } catch {
            Issue.record("not a WireError: \(error)")
            return nil
        }
    }

    @Test func arityMismatchIsASchemaError() throws {
        var rng = SplitMix64(seed: 1)
        let buffer = try encode(TestBatches.batch([.string, .long], count: 3, using: &rng))
        #expect(code { _ = try BatchCodec.decode(buffer, schema: [.string]) } == .schemaMismatch)
        #expect(code { _ = try BatchCodec.decode(buffer, schema: [.string, .long, .bool]) } == .schemaMismatch)
    }

    @Test func typeMismatchSaysWhichAttribute() throws {
        var rng = SplitMix64(seed: 2)
        let buffer = try encode(TestBatches.batch([.string, .long], count: 3, using: &rng))
        do {
            _ = try BatchCodec.decode(buffer, schema: [.string, .double])
            Issue.record("decoded a long column as double")
        } catch let error as WireError {
            #expect(error.code == .schemaMismatch)
            #expect(error.message.contains("attribute 2 of 2"))
            #expect(error.message.contains("long"))
        }
        // int and long share a lane but are different types on the wire.
        #expect(code { _ = try BatchCodec.decode(buffer, schema: [.string, .int]) } == .schemaMismatch)
    }

    @Test func everyTruncationIsRefused() throws {
        var rng = SplitMix64(seed: 3)
        let schema = TestBatches.allTypes
        let buffer = try encode(TestBatches.batch(schema, count: 20, using: &rng))
        for length in 0..<buffer.readableBytes {
            let cut = buffer.getSlice(at: buffer.readerIndex, length: length)!
            let result = code { _ = try BatchCodec.decode(cut, schema: schema) }
            #expect(result != nil, "a batch cut to \(length) of \(buffer.readableBytes) bytes decoded")
        }
    }

    @Test func aColumnShortOfValuesIsTruncated() throws {
        // Two events claimed, a long column with one value.
        var m = Reference.message(EventBatch(timestamps: [1, 2], columns: [Column(longs: [5, 6])]), header: header, deltaLongs: false)
        m.columns[0].longs = [5]
        let bytes: [UInt8] = try m.serializedBytes()
        #expect(code { _ = try BatchCodec.decode(ByteBuffer(bytes: bytes), schema: [.long]) } == .truncatedColumn)
    }

    @Test func anEventCountOverTheLimitIsRefused() throws {
        var m = Sluice_V1_EventBatch()
        m.eventCount = 1_000_000
        m.timestampDeltas = Array(repeating: 0, count: 1_000_000)
        let bytes: [UInt8] = try m.serializedBytes()
        #expect(code { _ = try BatchCodec.decode(ByteBuffer(bytes: bytes), schema: [], limits: WireLimits(maxEventsPerBatch: 1000)) } == .tooManyEvents)
    }

    @Test func aCountTheBytesCannotHoldIsRefusedBeforeReserving() throws {
        var m = Sluice_V1_EventBatch()
        m.eventCount = 200_000
        let bytes: [UInt8] = try m.serializedBytes()
        #expect(code { _ = try BatchCodec.decode(ByteBuffer(bytes: bytes), schema: []) } == .truncatedColumn)
    }

    @Test func intValuesOutsideThirtyTwoBitsAreRefused() throws {
        var m = Reference.message(EventBatch(timestamps: [1], columns: [Column(longs: [1], type: .int)]), header: header, deltaLongs: false)
        m.columns[0].longs = [Int64(Int32.max) + 1]
        let bytes: [UInt8] = try m.serializedBytes()
        #expect(code { _ = try BatchCodec.decode(ByteBuffer(bytes: bytes), schema: [.int]) } == .malformedMessage)
    }

    @Test func stringArenaMustMatchItsLengths() throws {
        var m = Reference.message(EventBatch(timestamps: [1, 2], columns: [Column(strings: ["ab", "cd"])]), header: header, deltaLongs: false)
        m.columns[0].stringLengths = [2, 3]
        var bytes: [UInt8] = try m.serializedBytes()
        #expect(code { _ = try BatchCodec.decode(ByteBuffer(bytes: bytes), schema: [.string]) } == .truncatedColumn)
        m.columns[0].stringLengths = [1, 1]
        bytes = try m.serializedBytes()
        #expect(code { _ = try BatchCodec.decode(ByteBuffer(bytes: bytes), schema: [.string]) } == .malformedMessage)
    }

    @Test func aColumnWithoutTypeIsRefused() throws {
        var m = Reference.message(EventBatch(timestamps: [1], columns: [Column(longs: [1])]), header: header, deltaLongs: false)
        m.columns[0].type = .unspecified
        let bytes: [UInt8] = try m.serializedBytes()
        #expect(code { _ = try BatchCodec.decode(ByteBuffer(bytes: bytes), schema: [.long]) } == .malformedMessage)
    }

    @Test func aNullBitmapOfTheWrongSizeIsRefused() throws {
        var m = Reference.message(EventBatch(timestamps: [1], columns: [Column(longs: [1])]), header: header, deltaLongs: false)
        m.columns[0].nullBitmap = Data([1, 0])
        let bytes: [UInt8] = try m.serializedBytes()
        #expect(code { _ = try BatchCodec.decode(ByteBuffer(bytes: bytes), schema: [.long]) } == .malformedMessage)
    }

    @Test func unknownFieldsFromANewerPeerAreSkipped() throws {
        var rng = SplitMix64(seed: 4)
        let batch = TestBatches.batch([.long], count: 3, using: &rng)
        var buffer = try encode(batch)
        // Field 20 (varint), field 21 (fixed64), field 22 (bytes), field 23 (fixed32).
        buffer.writeBytes([0xA0, 0x01, 0x96, 0x01] + [0xA9, 0x01] + [UInt8](repeating: 1, count: 8)
                          + [0xB2, 0x01, 0x02, 0xFF, 0xFF] + [0xBD, 0x01, 0, 0, 0, 0])
        #expect(sameEvents(try BatchCodec.decode(buffer, schema: [.long]).batch, batch))
    }

    @Test func anHAOutputCarriesItsGroupAndTermAndOthersCarryNone() throws {
        var batch = EventBatch(types: [.long])
        batch.append(timestamp: 5, values: [.long(1)])
        var payload = ByteBuffer()
        let stamped = BatchHeader(streamID: 1, producerID: 0, sequence: 77, outputGroup: "g1", outputTerm: 3)
        try BatchCodec.encode(batch, header: stamped, into: &payload)
        var decoder = BatchDecoder()
        let (header, back) = try decoder.decode(payload, schema: [.long])
        #expect(header == stamped && back.count == 1)
        // The generated types read the same fields.
        let generated = try Sluice_V1_EventBatch(serializedBytes: Array(payload.readableBytesView))
        #expect(generated.outputGroup == "g1" && generated.outputTerm == 3 && generated.sequence == 77)

        var plain = ByteBuffer()
        try BatchCodec.encode(batch, header: BatchHeader(streamID: 1, producerID: 9, sequence: 1), into: &plain)
        let unstamped = try decoder.decode(plain, schema: [.long]).header
        #expect(unstamped.outputGroup.isEmpty && unstamped.outputTerm == 0)

        var tooLong = ByteBuffer()
        let long = BatchHeader(streamID: 1, producerID: 0, sequence: 1, outputGroup: String(repeating: "g", count: 300), outputTerm: 1)
        #expect(throws: WireError.self) { try BatchCodec.encode(batch, header: long, into: &tooLong) }
    }
}
