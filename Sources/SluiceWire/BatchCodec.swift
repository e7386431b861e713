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
///
/// Per batch the encoder allocates nothing beyond the output buffer's growth, and the decoder
/// allocates one array per column plus timestamps and kinds (none when it refills a batch).
public enum BatchCodec {
    enum Field {
        static let streamID = 1, producerID = 2, sequence = 3, eventCount = 4
        static let timestampDeltas = 5, columns = 6, kinds = 7
    }

    enum ColumnField {
        static let type = 1, longs = 2, longsDelta = 3, floats = 4, doubles = 5, bools = 6
        static let stringLengths = 7, stringArena = 8, nullBitmap = 9
    }
}
