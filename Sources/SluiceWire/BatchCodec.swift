import NIOCore
import SluiceCore

/// The columnar event batch (`sluice.v1.EventBatch` in `proto/sluice/v1/batch.proto`), written and
/// read by hand in protobuf's wire format straight between `EventBatch` columns and a `ByteBuffer`.
/// swift-protobuf's generated `Sluice_V1_EventBatch` reads the same bytes, and this codec reads
/// what it writes; the encoder emits fields in number order and omits defaults, as it does.
///
///     EventBatch                            Column (one per attribute, in schema order)
///     1 stream_id         varint            1 type            varint (AttributeType)
///     2 producer_id       varint            2 longs           packed sint64      int, long
///     3 sequence          varint            3 longs_delta     bool
///     4 event_count       varint            4 floats          packed fixed32     float
///     5 timestamp_deltas  packed sint64     5 doubles         packed fixed64     double
///     6 columns           Column, repeated  6 bools           packed varint      bool
///     7 kinds             packed enum       7 string_lengths  packed varint      string
///                                           8 string_arena    bytes              string
///                                           9 null_bitmap     bytes, LSB first
///                                          10 string_refs     packed varint      string, dictionary form
///
/// `BatchEncoder` and `BatchDecoder` keep scratch state between batches; the static functions
/// here make a fresh one per call. With kept state, the encoder allocates nothing per batch
/// beyond the output buffer's growth, and the decoder refills a recycled batch in place, except
/// string columns in dictionary form: those keep that form (`ValueCodes`), with a values lane and
/// a codes array of their own, so that rows nothing reads are never copied out byte by byte.
public enum BatchCodec {
    enum Field {
        static let streamID = 1, producerID = 2, sequence = 3, eventCount = 4
        static let timestampDeltas = 5, columns = 6, kinds = 7, outputGroup = 8, outputTerm = 9, outputSequence = 10, outputPart = 11
    }

    enum ColumnField {
        static let type = 1, longs = 2, longsDelta = 3, floats = 4, doubles = 5, bools = 6
        static let stringLengths = 7, stringArena = 8, nullBitmap = 9, stringRefs = 10
    }

    /// Appends `batch` to `out` as one message, with a fresh `BatchEncoder`.
    public static func encode(_ batch: EventBatch, header: BatchHeader, into out: inout ByteBuffer) throws {
        var encoder = BatchEncoder()
        try encoder.encode(batch, header: header, into: &out)
    }

    /// Reads one message into a new batch of the stream's `schema`, with a fresh `BatchDecoder`.
    public static func decode(_ payload: ByteBuffer, schema: [AttributeType],
                              limits: WireLimits = .default) throws -> (header: BatchHeader, batch: EventBatch) {
        var decoder = BatchDecoder(limits: limits)
        return try decoder.decode(payload, schema: schema)
    }

    /// Reads one message into `batch`, reusing its storage, with a fresh `BatchDecoder`.
    public static func decode(_ payload: ByteBuffer, schema: [AttributeType], into batch: inout EventBatch,
                              limits: WireLimits = .default) throws -> BatchHeader {
        var decoder = BatchDecoder(limits: limits)
        return try decoder.decode(payload, schema: schema, into: &batch)
    }
}
