/// What identifies an event batch on the wire, beside its events: the stream it is for (an id
/// bound in the handshake) and the (producer, sequence) pair that acks and deduplication key on.
public struct BatchHeader: Sendable, Hashable {
    public var streamID: UInt32
    public var producerID: UInt64
    public var sequence: UInt64
    /// An HA group's output: the group and the sending leader's term ("" and 0 otherwise).
    public var outputGroup: String
    public var outputTerm: UInt64
    /// A group's output forwarded by its sink: the output's sequence and the part of it (else 0).
    public var outputSequence: UInt64
    public var outputPart: UInt64

    public init(streamID: UInt32, producerID: UInt64, sequence: UInt64, outputGroup: String = "", outputTerm: UInt64 = 0,
                outputSequence: UInt64 = 0, outputPart: UInt64 = 0) {
        self.streamID = streamID
        self.producerID = producerID
        self.sequence = sequence
        self.outputGroup = outputGroup
        self.outputTerm = outputTerm
        self.outputSequence = outputSequence
        self.outputPart = outputPart
    }

    /// A group's forwarded output, when the header names one.
    public var origin: OutputOrigin? {
        guard !outputGroup.isEmpty, outputSequence != 0 else { return nil }
        return OutputOrigin(group: outputGroup, term: outputTerm, sequence: outputSequence, part: outputPart)
    }

    /// Longest group name a batch may carry.
    public static let maxGroupBytes = 256
}

/// The identity a forwarded batch carries (docs/ha.md, "Output identity"): an HA group's output
/// (group, term, output sequence, part), or one derived from the input batch that produced it
/// (group `derivedGroup`, term 0, two hashes).
public struct OutputOrigin: Sendable, Hashable, CustomStringConvertible {
    public var group: String
    public var term: UInt64
    public var sequence: UInt64
    public var part: UInt64

    public init(group: String, term: UInt64, sequence: UInt64, part: UInt64) {
        self.group = group
        self.term = term
        self.sequence = sequence
        self.part = part
    }

    public var description: String { "\(group)/\(term)/\(sequence).\(part)" }

    /// The group name of identities derived from input batches on nodes outside HA groups.
    public static let derivedGroup = "~"

    /// The identity of part `k` of this output, when a sink cuts it into several batches.
    public func piece(_ k: UInt64) -> OutputOrigin {
        OutputOrigin(group: group, term: term, sequence: sequence, part: part ^ k)
    }
}
