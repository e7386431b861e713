import SluiceCore
import SluiceWire

/// Which forwarded outputs of HA groups a node has applied. Per (group, receiving stream) it keeps
/// the highest term seen and, like `ProducerSequences`, the recent (sequence, part) pairs applied:
/// a pair seen before is a repeat (a new leader resends from its replicated watermark, a retry
/// follows a lost acknowledgement); a term lower than one seen is a deposed leader's (fenced).
/// Pairs are kept as a set, not a high-water mark, because a round-robin sink may reroute a
/// destination's chunks to another and so deliver them out of order.
public struct OriginSequences: Sendable {
    public enum Verdict: Sendable, Hashable {
        case apply
        case repeated
        case fenced
    }

    /// Highest term per "group\u{0}stream".
    public private(set) var terms: [String: UInt64]
    private var applied: ProducerSequences

    /// Parts of one output a pair can name.
    static let partBits: UInt64 = 20

    public init(memory: Int = 65_536, terms: [String: UInt64] = [:], applied: [UInt64] = []) {
        self.terms = terms
        self.applied = ProducerSequences(memory: memory, encoded: applied) ?? ProducerSequences(memory: memory)
    }

    /// Records `origin` arriving on `stream` unless it was applied before or is fenced.
    public mutating func admit(_ origin: OutputOrigin, stream: String) -> Verdict {
        let key = origin.group + "\u{0}" + stream
        if let highest = terms[key], origin.term < highest { return .fenced }
        terms[key] = max(terms[key] ?? 0, origin.term)
        let pair = origin.sequence << Self.partBits | UInt64(origin.part) & ((1 << Self.partBits) - 1)
        return applied.apply(producer: XXHash64.hash(key), sequence: pair) ? .apply : .repeated
    }

    /// The applied pairs as numbers, for a snapshot (`init(terms:applied:)` restores them).
    public var encodedApplied: [UInt64] { applied.encoded }
}
