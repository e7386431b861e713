/// What a data node must write to its data directory (and fsync) before acting on it: the
/// current term and the vote cast in it. A node that forgot either could vote twice in a term.
public struct PersistentState: Sendable, Hashable, CustomStringConvertible {
    public var term: Term
    public var votedFor: NodeID?

    public init(term: Term = 0, votedFor: NodeID? = nil) {
        self.term = term
        self.votedFor = votedFor
    }

    public var description: String { "term \(term), voted for \(votedFor ?? "nobody")" }
}
