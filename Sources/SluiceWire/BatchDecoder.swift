import NIOCore
import SluiceCore

/// Reads `sluice.v1.EventBatch` messages (see `BatchCodec` for the layout) into `EventBatch`es of
/// the schema the stream was bound with. Keep one per connection: it remembers recent strings,
/// so values that recur across batches (tenants, API names) are not allocated again.
public struct BatchDecoder: Sendable {
    public var limits: WireLimits
    private var scratch = StringScratch()
    /// Placeholder columns for skipped attributes, by type and row count: they are never changed,
    /// so batches share them.
    private var unread: [UnreadKey: Column] = [:]

    private struct UnreadKey: Hashable {
        var type: AttributeType
        var rows: Int
    }

    public init(limits: WireLimits = .default) {
        self.limits = limits
    }

    /// Reads one message (the whole of `payload`'s readable bytes) into a new batch.
    public mutating func decode(_ payload: ByteBuffer, schema: [AttributeType]) throws -> (header: BatchHeader, batch: EventBatch) {
        var batch = EventBatch(types: schema)
        let header = try decode(payload, schema: schema, into: &batch)
        return (header, batch)
    }

    /// Reads one message, leaving the columns marked in `skip` undecoded: their type is checked,
    /// and they hold zero values (`Column(unread:count:)`). For attributes nothing downstream reads.
    public mutating func decode(_ payload: ByteBuffer, schema: [AttributeType],
                                skip: [Bool]?) throws -> (header: BatchHeader, batch: EventBatch) {
        guard let skip else { return try decode(payload, schema: schema) }
        var batch = EventBatch(types: schema)
        var reader = BatchReader(schema: schema, limits: limits, scratch: scratch)
        reader.skip = skip
        scratch = StringScratch()
        defer { scratch = reader.scratch }
        let header = try payload.withUnsafeReadableBytes { bytes in try reader.read(bytes, into: &batch) }
        for (i, skipped) in skip.enumerated() where skipped && i < schema.count {
            let key = UnreadKey(type: schema[i], rows: batch.count)
            if let c = unread[key] {
                batch.columns[i] = c
            } else {
                if unread.count >= 64 { unread.removeAll(keepingCapacity: true) }
                let c = Column(unread: schema[i], count: batch.count)
                unread[key] = c
                batch.columns[i] = c
            }
        }
        return (header, batch)
    }

    /// Reads one message into `batch`, reusing its storage: a caller that recycles batches decodes
    /// with no allocation for values seen recently. On a throw `batch` holds partial rows and must
    /// be refilled before use.
    ///
    /// Throws `WireError`: `.schemaMismatch` when the columns' number or types differ from
    /// `schema`, `.truncatedColumn` when a column holds fewer values than the batch has events,
    /// `.tooManyEvents`, `.unsupportedType`, or `.malformedMessage` for anything else.
    public mutating func decode(_ payload: ByteBuffer, schema: [AttributeType], into batch: inout EventBatch) throws -> BatchHeader {
        var reader = BatchReader(schema: schema, limits: limits, scratch: scratch)
        scratch = StringScratch()
        defer { scratch = reader.scratch }
        return try payload.withUnsafeReadableBytes { bytes in
            try reader.read(bytes, into: &batch)
        }
    }
}

/// What string decoding keeps between columns and batches.
struct StringScratch {
    /// The lengths of a column's strings, read before its arena is copied.
    var lengths: [Int] = []
}

/// One decode: a first pass reads the header fields and counts columns, so that sizes are checked
/// before anything is reserved; a second pass fills the columns.
private struct BatchReader {
    typealias Field = BatchCodec.Field
    typealias ColumnField = BatchCodec.ColumnField

    let schema: [AttributeType]
    let limits: WireLimits
    var scratch: StringScratch
    /// Columns whose values are not read (only their type is checked).
    var skip: [Bool]?
    var bytes = UnsafeRawBufferPointer(start: nil, count: 0)
    var events = 0

    init(schema: [AttributeType], limits: WireLimits, scratch: StringScratch) {
        self.schema = schema
        self.limits = limits
        self.scratch = scratch
    }

    mutating func read(_ bytes: UnsafeRawBufferPointer, into batch: inout EventBatch) throws -> BatchHeader {
        self.bytes = bytes
        let header = try scan()
        for type in schema where type.wireValue == nil {
            throw WireError(.unsupportedType, "the stream has an attribute of type \(type), which has no wire form")
        }
        prepare(&batch)

        var reader = ProtoReader(bytes)
        var timestamps = batch.timestamps
        var kinds = batch.kinds
        batch.timestamps = []
        batch.kinds = []
        timestamps.removeAll(keepingCapacity: true)
        kinds.removeAll(keepingCapacity: true)
        timestamps.reserveCapacity(events)
        var column = 0
        try wrap(.malformedMessage, "event batch") {
            while !reader.isAtEnd {
                let (field, type) = try reader.tag()
                switch field {
                case Field.timestampDeltas:
                    try readTimestamps(type, &reader, into: &timestamps)
                case Field.columns:
                    let range = try reader.lengthDelimited()
                    try readColumn(range, index: column, into: &batch.columns[column])
                    column += 1
                case Field.kinds:
                    try readKinds(type, &reader, into: &kinds)
                default:
                    try reader.skip(field: field, type: type)
                }
            }
        }
        guard timestamps.count == events else {
            throw WireError(.truncatedColumn, "timestamps: \(timestamps.count) values for \(events) events")
        }
        if kinds.isEmpty {
            kinds.append(contentsOf: repeatElement(.current, count: events))
        } else if kinds.count != events {
            throw WireError(.truncatedColumn, "kinds: \(kinds.count) values for \(events) events")
        }
        batch.timestamps = timestamps
        batch.kinds = kinds
        return header
    }

    /// First pass: header scalars, wire types of known fields, the column count, and whether the
    /// claimed event count is plausible for the message's size.
    private mutating func scan() throws -> BatchHeader {
        var header = BatchHeader(streamID: 0, producerID: 0, sequence: 0)
        var eventCount: UInt64 = 0
        var columns = 0
        var reader = ProtoReader(bytes)
        try wrap(.malformedMessage, "event batch") {
            while !reader.isAtEnd {
                let (field, type) = try reader.tag()
                switch field {
                case Field.outputGroup:
                    guard type == WireType.lengthDelimited.rawValue else { throw ProtoReader.Failure.badWireType(field: field, type: type) }
                    let range = try reader.lengthDelimited()
                    guard range.count <= BatchHeader.maxGroupBytes else {
                        throw WireError(.malformedMessage, "output group name of \(range.count) bytes is over \(BatchHeader.maxGroupBytes)")
                    }
                    header.outputGroup = String(decoding: bytes[range], as: UTF8.self)
                case Field.streamID, Field.producerID, Field.sequence, Field.eventCount, Field.outputTerm, Field.outputSequence,
                     Field.outputPart:
                    guard type == WireType.varint.rawValue else { throw ProtoReader.Failure.badWireType(field: field, type: type) }
                    let value = try reader.varint()
                    switch field {
                    case Field.streamID: header.streamID = UInt32(truncatingIfNeeded: value)
                    case Field.producerID: header.producerID = value
                    case Field.sequence: header.sequence = value
                    case Field.outputTerm: header.outputTerm = value
                    case Field.outputSequence: header.outputSequence = value
                    case Field.outputPart: header.outputPart = value
                    default: eventCount = UInt64(UInt32(truncatingIfNeeded: value))
                    }
                case Field.columns:
                    guard type == WireType.lengthDelimited.rawValue else { throw ProtoReader.Failure.badWireType(field: field, type: type) }
                    _ = try reader.lengthDelimited()
                    columns += 1
                case Field.timestampDeltas, Field.kinds:
                    guard type == WireType.lengthDelimited.rawValue || type == WireType.varint.rawValue else {
                        throw ProtoReader.Failure.badWireType(field: field, type: type)
                    }
                    try reader.skip(field: field, type: type)
                default:
                    try reader.skip(field: field, type: type)
                }
            }
        }
        guard columns == schema.count else {
            throw WireError(.schemaMismatch, "the batch has \(columns) columns but the stream has \(schema.count) attributes")
        }
        guard eventCount <= UInt64(limits.maxEventsPerBatch) else {
            throw WireError(.tooManyEvents, "the batch claims \(eventCount) events, over the limit of \(limits.maxEventsPerBatch)")
        }
        // Every event takes at least a byte of timestamp and a byte in each column.
        guard eventCount * UInt64(1 + schema.count) <= UInt64(bytes.count) else {
            throw WireError(.truncatedColumn, "the batch claims \(eventCount) events but is only \(bytes.count) bytes long")
        }
        events = Int(eventCount)
        return header
    }

    /// Makes `batch` an empty batch of `schema`, keeping its storage when its columns match.
    private func prepare(_ batch: inout EventBatch) {
        var matches = batch.columns.count == schema.count
        if matches {
            for i in schema.indices where batch.columns[i].type != schema[i] { matches = false; break }
        }
        if !matches { batch = EventBatch(types: schema) }
    }

    private func readTimestamps(_ type: UInt8, _ reader: inout ProtoReader, into timestamps: inout [Int64]) throws {
        var previous = timestamps.last ?? 0
        try readVarints(type, &reader, what: "timestamps", already: timestamps.count) { value in
            previous = previous &+ unzigzag(value)
            timestamps.append(previous)
        }
    }

    private func readKinds(_ type: UInt8, _ reader: inout ProtoReader, into kinds: inout [EventKind]) throws {
        try readVarints(type, &reader, what: "kinds", already: kinds.count) { value in
            guard value <= 2, let kind = EventKind(rawValue: UInt8(value)) else {
                throw WireError(.malformedMessage, "kinds: \(value) is not an event kind")
            }
            kinds.append(kind)
        }
    }

    /// A repeated varint field, packed or not. Refuses to go past `events` values, so a lying
    /// message cannot grow an array beyond what the event count allowed for.
    private func readVarints(_ type: UInt8, _ reader: inout ProtoReader, what: String, already: Int,
                             _ append: (UInt64) throws -> Void) throws {
        let events = self.events
        var count = already
        func take(_ value: UInt64) throws {
            count += 1
            guard count <= events else {
                throw WireError(.malformedMessage, "\(what): more values than the \(events) events")
            }
            try append(value)
        }
        if type == WireType.varint.rawValue {
            try take(try reader.varint())
        } else {
            let range = try reader.lengthDelimited()
            var packed = ProtoReader(base: reader.base, range: range)
            while !packed.isAtEnd { try take(try packed.varint()) }
        }
    }

    // MARK: Columns

    private mutating func readColumn(_ range: Range<Int>, index: Int, into column: inout Column) throws {
        // Take the column's storage so that its arrays are uniquely referenced while refilled.
        var taken = Column(type: schema[index])
        swap(&taken, &column)
        let reader = ColumnReader(base: ProtoReader.address(of: bytes), range: range, type: schema[index],
                                  events: events, index: index, arity: schema.count)
        if let skip, index < skip.count, skip[index] {
            try reader.checkType()
            return
        }
        try reader.read(into: &taken, strings: &scratch)
        column = taken
    }
}

/// Runs `body`, turning a bare reader failure into a `WireError` that says where it happened.
func wrap<T>(_ code: WireError.Code, _ context: @autoclosure () -> String, _ body: () throws -> T) throws -> T {
    do {
        return try body()
    } catch let failure as ProtoReader.Failure {
        let code: WireError.Code = if case .truncated = failure { code } else { .malformedMessage }
        throw WireError(code, "\(context()): \(failure)")
    }
}
