/// Who produced an output batch: its group, the term of the leader that sent it, and its place in
/// the group's output sequence. Both data nodes run the same log, so the same output has the same
/// sequence on either; the term only says which leadership sent it. A subscriber resumes after the
/// identity of the last batch it took.
public struct OutputIdentity: Sendable, Hashable, CustomStringConvertible {
    public var group: String
    public var term: UInt64
    public var sequence: UInt64

    public init(group: String, term: UInt64, sequence: UInt64) {
        self.group = group
        self.term = term
        self.sequence = sequence
    }

    public var description: String { "\(group)/\(term)/\(sequence)" }
}
