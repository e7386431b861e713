/// Acknowledgements that wait for the sinks, on a node outside HA groups (the stateless and
/// partitioner tiers). A producer's batch is acknowledged once the engine has applied it and every
/// event its sinks took from it has been delivered, or given up by `on.error='LOG'` or `'STREAM'`.
/// A kill -9 of the node then loses nothing acknowledged: the producer resends what was not, through
/// another node, and the outputs' derived identities let the receivers drop what had arrived.
///
/// Batches are named by their derivation root (`OutputOrigin.derivationRoot`); `Ack` is what the
/// caller needs to send one acknowledgement. Called from the engine thread (hold, applied) and from
/// the sinks' completions (settle), under one lock.
struct DeliveryLedger<Ack: Sendable>: Sendable {
    private struct Entry: Sendable {
        var held = 0
        var applied = false
        var acks: [Ack] = []
    }

    private var entries: [UInt64: Entry] = [:]

    /// Batches whose acknowledgement still waits for a sink.
    var waiting: Int { entries.count }

    /// The sinks took `events` of batch `root`'s outputs (while the engine applied it).
    mutating func hold(_ root: UInt64, events: Int) {
        guard events > 0 else { return }
        entries[root, default: Entry()].held += events
    }

    /// `events` of batch `root`'s outputs were delivered or given up. Returns the acknowledgements
    /// now due.
    mutating func settle(_ root: UInt64, events: Int) -> [Ack] {
        guard var entry = entries[root] else { return [] }
        entry.held -= events
        guard entry.held <= 0, entry.applied else {
            entries[root] = entry
            return []
        }
        entries[root] = nil
        return entry.acks
    }

    /// The engine refused batch `root`: nothing will acknowledge it, whatever its sinks deliver.
    mutating func forget(_ root: UInt64) {
        entries[root] = nil
    }

    /// The engine applied batch `root`, or found it a duplicate of one it applied. Its `ack` is due
    /// now unless outputs of that batch are still held; then it goes with the last of them.
    mutating func applied(_ root: UInt64, ack: Ack) -> [Ack] {
        guard var entry = entries[root] else { return [ack] }
        entry.applied = true
        entry.acks.append(ack)
        if entry.held > 0 {
            entries[root] = entry
            return []
        }
        entries[root] = nil
        return entry.acks
    }
}

