/// What identifies an event batch on the wire, beside its events: the stream it is for (an id
/// bound in the handshake) and the (producer, sequence) pair that acks and deduplication key on.
public struct BatchHeader: Sendable, Hashable {
    public var streamID: UInt32
    public var producerID: UInt64
    public var sequence: UInt64
    /// An HA group's output: the group and the sending leader's term ("" and 0 otherwise).
    public var outputGroup: String
    public var outputTerm: UInt64

    public init(streamID: UInt32, producerID: UInt64, sequence: UInt64, outputGroup: String = "", outputTerm: UInt64 = 0) {
        self.streamID = streamID
        self.producerID = producerID
        self.sequence = sequence
        self.outputGroup = outputGroup
        self.outputTerm = outputTerm
    }

    /// Longest group name a batch may carry.
    public static let maxGroupBytes = 256
}
