/// What identifies an event batch on the wire, beside its events: the stream it is for (an id
/// bound in the handshake) and the (producer, sequence) pair that acks and deduplication key on.
public struct BatchHeader: Sendable, Hashable {
    public var streamID: UInt32
    public var producerID: UInt64
    public var sequence: UInt64

    public init(streamID: UInt32, producerID: UInt64, sequence: UInt64) {
        self.streamID = streamID
        self.producerID = producerID
        self.sequence = sequence
    }
}
