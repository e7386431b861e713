import SluiceWire

/// A receiver's exactly-once filter for output batches (partitioners, subscribers, tcp sinks).
/// Per group it applies sequences in order, drops any it has applied already (a new leader
/// resends after the replicated delivered watermark, which may lag), refuses terms lower than
/// one seen (fencing), and refuses a gap so the sender resends in order.
public struct OutputDeduplicator: Sendable, Hashable {
    public enum Verdict: Sendable, Hashable {
        /// New: apply it, then report it delivered.
        case accept
        /// Applied before; acknowledge again, apply nothing.
        case duplicate
        /// From a leader older than one already seen.
        case fenced(highestTerm: Term)
        /// Sequences before it are missing; refuse and wait for them.
        case gap(expected: UInt64)
    }

    private var fence = TermFence()
    /// The last sequence applied per group (sequences start at 1).
    public private(set) var applied: [String: UInt64] = [:]

    public init() {}

    public mutating func receive(_ identity: OutputIdentity) -> Verdict {
        guard fence.admit(group: identity.group, term: identity.term) else {
            return .fenced(highestTerm: fence.highest[identity.group] ?? 0)
        }
        let last = applied[identity.group] ?? 0
        if identity.sequence <= last { return .duplicate }
        if identity.sequence > last + 1 { return .gap(expected: last + 1) }
        applied[identity.group] = identity.sequence
        return .accept
    }
}
