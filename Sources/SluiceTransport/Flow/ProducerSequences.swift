/// Which (producer, sequence) pairs a node has applied, so that a batch resent after a failure is
/// acknowledged again but applied once. Each producer keeps its most recent `memory` sequences;
/// anything at or below the oldest forgotten one counts as applied, since a producer only ever
/// resends batches that are still in flight, which are recent.
public struct ProducerSequences: Sendable {
    public let memory: Int
    private var applied: [UInt64: Recent] = [:]

    struct Recent: Sendable {
        var sequences: Set<UInt64> = []
        var order: [UInt64] = []
        var head = 0
        var forgottenUpTo: UInt64 = 0

        mutating func record(_ sequence: UInt64, memory: Int) {
            sequences.insert(sequence)
            order.append(sequence)
            if order.count - head > memory {
                let oldest = order[head]
                head += 1
                sequences.remove(oldest)
                forgottenUpTo = max(forgottenUpTo, oldest)
                if head > memory {
                    order.removeFirst(head)
                    head = 0
                }
            }
        }
    }

    public init(memory: Int = 4096) {
        self.memory = max(1, memory)
    }

    public func wasApplied(producer: UInt64, sequence: UInt64) -> Bool {
        guard let r = applied[producer] else { return false }
        return sequence <= r.forgottenUpTo || r.sequences.contains(sequence)
    }

    /// Records a batch as applied. Returns false when it already was (apply nothing, ack again).
    public mutating func apply(producer: UInt64, sequence: UInt64) -> Bool {
        if wasApplied(producer: producer, sequence: sequence) { return false }
        // In place: a copy out of the dictionary and back would copy the whole set per batch.
        applied[producer, default: Recent()].record(sequence, memory: memory)
        return true
    }

    public var producers: Int { applied.count }

    /// The whole state as numbers (for an engine snapshot): per producer, in producer order, its
    /// id, `forgottenUpTo`, the count of remembered sequences and those sequences oldest first.
    public var encoded: [UInt64] {
        var out: [UInt64] = []
        for producer in applied.keys.sorted() {
            let r = applied[producer]!
            let recent = r.order[r.head...]
            out += [producer, r.forgottenUpTo, UInt64(recent.count)]
            out += recent
        }
        return out
    }

    /// Restores `encoded`; nil when the numbers do not describe a state.
    public init?(memory: Int = 4096, encoded: [UInt64]) {
        self.init(memory: memory)
        var i = 0
        while i < encoded.count {
            guard i + 3 <= encoded.count else { return nil }
            let producer = encoded[i], forgotten = encoded[i + 1], count = Int(clamping: encoded[i + 2])
            i += 3
            guard count <= encoded.count - i else { return nil }
            var r = Recent()
            r.forgottenUpTo = forgotten
            r.order = Array(encoded[i..<i + count])
            r.sequences = Set(r.order)
            applied[producer] = r
            i += count
        }
    }
}
