/// A leadership epoch of one HA group. Terms only grow; a term has at most one leader.
public typealias Term = UInt64

/// A node of an HA group (a data node or the witness), as named in the configuration.
public typealias NodeID = String

/// Where a log ends, compared as Raft does: the later term wins, then the longer log.
public struct LogPosition: Sendable, Hashable, Comparable, CustomStringConvertible {
    public var term: Term
    public var index: UInt64

    public init(term: Term, index: UInt64) {
        self.term = term
        self.index = index
    }

    public static let zero = LogPosition(term: 0, index: 0)

    public static func < (a: LogPosition, b: LogPosition) -> Bool { (a.term, a.index) < (b.term, b.index) }

    public var description: String { "\(index)@\(term)" }
}

/// One record of a group's input log. The engine replays these in order on both data nodes, so
/// given the same log they reach the same state and produce the same outputs.
public struct LogEntry: Sendable, Hashable {
    public enum Record: Sendable, Hashable {
        /// An accepted input batch, as the bytes the producer sent (opaque here).
        case batch([UInt8])
        /// An accepted input batch the producer sent compressed, as its frame's LZ4 payload: the
        /// leader forwards it as it arrived rather than compress it again.
        case lz4Batch([UInt8])
        /// The leader's clock moved on: live-mode time is an input, not something a replica reads.
        case tick(millis: Int64)
        /// Appended by every new leader. Raft commits only entries of the current term by
        /// counting copies, so this lets the new leader commit the tail it inherited at once.
        case termStart
    }

    public var index: UInt64
    public var term: Term
    public var record: Record

    public init(index: UInt64, term: Term, record: Record) {
        self.index = index
        self.term = term
        self.record = record
    }

    public var position: LogPosition { LogPosition(term: term, index: index) }
}
