import SluiceCore
import SluiceWire

/// Which forwarded outputs a node has applied (docs/ha.md, "Output identity and fencing"). Per
/// (group, receiving stream) it keeps the identities of the last `memory` batches it applied,
/// exactly, oldest out first, and per HA group the highest term seen. A batch whose identity is in
/// the window is a repeat (a new leader resends from its watermark, a producer retried through
/// another node); a term lower than one seen is a deposed leader's (fenced). Identities are kept as
/// a set, not a high-water mark: a round-robin sink may reroute chunks, and derived identities are
/// hashes. One that fell out of the window counts as new: a very late repeat is applied again
/// rather than a new batch dropped.
public struct OriginSequences: Sendable {
    public enum Verdict: Sendable, Hashable {
        case apply
        case repeated
        case fenced
    }

    /// One applied identity: (sequence, part) under its key.
    public struct Applied: Sendable, Hashable {
        public var key: String
        public var sequence: UInt64
        public var part: UInt64

        public init(key: String, sequence: UInt64, part: UInt64) {
            self.key = key
            self.sequence = sequence
            self.part = part
        }
    }

    public let memory: Int
    /// Highest term per key ("group\u{0}stream").
    public private(set) var terms: [String: UInt64]
    private var applied: Set<Applied> = []
    /// `applied` in arrival order, for eviction.
    private var order: [Applied] = []
    private var head = 0

    public init(memory: Int = 262_144, terms: [String: UInt64] = [:], applied: [Applied] = []) {
        self.memory = max(1, memory)
        self.terms = terms
        for a in applied { remember(a) }
    }

    /// Records `origin` arriving on `stream` unless it was applied before or is fenced.
    public mutating func admit(_ origin: OutputOrigin, stream: String) -> Verdict {
        let key = origin.group + "\u{0}" + stream
        if let highest = terms[key], origin.term < highest { return .fenced }
        if origin.term > 0 { terms[key] = max(terms[key] ?? 0, origin.term) }
        let id = Applied(key: key, sequence: origin.sequence, part: origin.part)
        guard !applied.contains(id) else { return .repeated }
        remember(id)
        return .apply
    }

    /// What is remembered, oldest first (for a snapshot).
    public var remembered: ArraySlice<Applied> { order[head...] }

    private mutating func remember(_ id: Applied) {
        applied.insert(id)
        order.append(id)
        if order.count - head > memory {
            applied.remove(order[head])
            head += 1
            if head > memory {
                order.removeFirst(head)
                head = 0
            }
        }
    }
}

extension OutputOrigin {
    /// Where the identities of the outputs of this (forwarded) batch are derived from.
    public var derivationRoot: UInt64 { XXHash64.hash(group, seed: XXHash64.hash(sequence, seed: part)) }

    /// The same for a producer's batch, which has no identity but its (producer id, sequence).
    public static func derivationRoot(producer: UInt64, sequence: UInt64) -> UInt64 {
        XXHash64.hash(sequence, seed: ~producer)
    }

    /// The identity of the `index`-th output with a sink that a node outside HA groups emits while
    /// applying a batch of root `root`: the same batch yields the same identities on any node.
    public static func derived(root: UInt64, index: UInt64) -> OutputOrigin {
        OutputOrigin(group: derivedGroup, term: 0, sequence: XXHash64.hash(index, seed: root), part: XXHash64.hash(index, seed: ~root))
    }
}
