/// The in-memory input log of one data node: entries after `base`, where `base` is the last
/// entry covered by the engine's state (trimmed after both nodes applied it, or restored from a
/// snapshot). Memory stays bounded because applied entries are trimmed.
public struct ReplicatedLog: Sendable, Hashable {
    /// The entry just before `entries`; its record is gone but its term still answers
    /// consistency checks.
    public private(set) var base: LogPosition
    public private(set) var entries: [LogEntry]

    public init(base: LogPosition = .zero, entries: [LogEntry] = []) {
        self.base = base
        self.entries = entries
    }

    public var last: LogPosition { entries.last?.position ?? base }
    public var count: Int { entries.count }

    /// The term of the entry at `index`: nil when it is past the end or trimmed before `base`.
    public func term(at index: UInt64) -> Term? {
        if index == base.index { return base.term }
        guard index > base.index, index <= last.index else { return nil }
        return entries[Int(index - base.index - 1)].term
    }

    public func entry(at index: UInt64) -> LogEntry? {
        guard index > base.index, index <= last.index else { return nil }
        return entries[Int(index - base.index - 1)]
    }

    /// Up to `limit` entries from `index` on; nil when `index` was trimmed (a snapshot is needed).
    public func entries(from index: UInt64, limit: Int) -> [LogEntry]? {
        guard index > base.index else { return nil }
        guard index <= last.index else { return [] }
        let start = Int(index - base.index - 1)
        return Array(entries[start..<min(entries.count, start + limit)])
    }

    /// Appends a new entry of `term` (the leader's own input).
    public mutating func append(_ record: LogEntry.Record, term: Term) -> LogEntry {
        let entry = LogEntry(index: last.index + 1, term: term, record: record)
        entries.append(entry)
        return entry
    }

    /// Raft's follower append: entries after `prev` replace a divergent tail. Returns false when
    /// this log does not hold `prev` (the leader must back off). `committed` is never truncated.
    public mutating func appendReplicated(after prev: LogPosition, _ incoming: [LogEntry], committed: UInt64) -> Bool {
        // An entry at or before `base` is applied here, so it matches: skip what the engine has.
        if prev.index >= base.index {
            guard term(at: prev.index) == prev.term else { return false }
        }
        for entry in incoming where entry.index > base.index {
            if let existing = term(at: entry.index) {
                if existing == entry.term { continue }
                precondition(entry.index > committed, "a leader asked to truncate committed entry \(entry.index)")
                entries.removeLast(Int(last.index - entry.index + 1))
            }
            precondition(entry.index == last.index + 1, "gap in replicated entries")
            entries.append(entry)
        }
        return true
    }

    /// Forgets entries through `index` (the engine has applied them on every node that needs them).
    public mutating func trim(through index: UInt64) {
        guard index > base.index else { return }
        let upTo = min(index, last.index)
        guard let term = term(at: upTo) else { return }
        entries.removeFirst(Int(upTo - base.index))
        base = LogPosition(term: term, index: upTo)
    }

    /// Replaces everything with a snapshot's position: the engine's restored state covers it.
    public mutating func reset(to snapshot: LogPosition) {
        base = snapshot
        entries = []
    }
}
