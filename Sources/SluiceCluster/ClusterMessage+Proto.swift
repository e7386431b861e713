import Foundation
import SluiceWire

// The thin mapping between the machines' messages and proto/sluice/v1/cluster.proto. Fields the
// proto does not carry yet (pre-vote, the delivered-output watermark, the follower's incarnation
// and applied index, the witness sync) are listed in docs/ha.md; until they are added, messages
// needing them map to nil rather than to something a receiver would misread.

extension LogEntry {
    public var wire: Sluice_V1_LogEntry {
        var e = Sluice_V1_LogEntry()
        e.index = index
        e.term = term
        switch record {
        case .batch(let bytes): e.record = .batch(Data(bytes))
        case .tick(let millis): e.record = .tickMillis(millis)
        // No record at all marks a term's start.
        case .termStart: e.record = nil
        }
        return e
    }

    public init(wire e: Sluice_V1_LogEntry) {
        let record: Record
        switch e.record {
        case .batch(let data): record = .batch([UInt8](data))
        case .tickMillis(let millis): record = .tick(millis: millis)
        case nil: record = .termStart
        }
        self.init(index: e.index, term: e.term, record: record)
    }
}

extension VoteRequest {
    /// nil for a pre-vote, which the proto cannot mark yet.
    public func wire(group: String) -> Sluice_V1_VoteRequest? {
        guard !isPreVote else { return nil }
        var m = Sluice_V1_VoteRequest()
        m.groupID = group
        m.term = term
        m.candidateID = candidate
        m.lastLogIndex = lastLog.index
        m.lastLogTerm = lastLog.term
        return m
    }

    public init(wire m: Sluice_V1_VoteRequest) {
        self.init(term: m.term, candidate: m.candidateID, lastLog: LogPosition(term: m.lastLogTerm, index: m.lastLogIndex),
                  isPreVote: false)
    }
}

extension VoteResponse {
    public func wire(group: String) -> Sluice_V1_VoteResponse? {
        guard !isPreVote else { return nil }
        var m = Sluice_V1_VoteResponse()
        m.groupID = group
        m.term = term
        m.voterID = voter
        m.granted = granted
        return m
    }

    public init(wire m: Sluice_V1_VoteResponse) {
        self.init(term: m.term, voter: m.voterID, granted: m.granted, isPreVote: false)
    }
}

extension AppendRequest {
    /// Drops `deliveredOutput` (no field yet): a new leader then resends more, which receivers dedup.
    public func wire(group: String) -> Sluice_V1_ReplicationAppend {
        var m = Sluice_V1_ReplicationAppend()
        m.groupID = group
        m.term = term
        m.leaderID = leader
        m.prevLogIndex = prev.index
        m.prevLogTerm = prev.term
        m.entries = entries.map(\.wire)
        m.leaderCommit = leaderCommit
        return m
    }

    public init(wire m: Sluice_V1_ReplicationAppend) {
        self.init(term: m.term, leader: m.leaderID, prev: LogPosition(term: m.prevLogTerm, index: m.prevLogIndex),
                  entries: m.entries.map(LogEntry.init(wire:)), leaderCommit: m.leaderCommit, deliveredOutput: 0)
    }
}

extension SnapshotRequest {
    /// The snapshot cut into chunks of at most `chunkSize` bytes (the checksum is left to the transport).
    public func chunks(group: String, chunkSize: Int = 1 << 20) -> [Sluice_V1_SnapshotChunk] {
        let size = max(1, chunkSize)
        var chunks: [Sluice_V1_SnapshotChunk] = []
        var offset = 0
        repeat {
            var c = Sluice_V1_SnapshotChunk()
            c.groupID = group
            c.term = term
            c.lastIncludedIndex = lastIncluded.index
            c.lastIncludedTerm = lastIncluded.term
            c.offset = UInt64(offset)
            let end = min(data.count, offset + size)
            c.data = Data(data[offset..<end])
            c.done = end == data.count
            chunks.append(c)
            offset = end
        } while offset < data.count
        return chunks
    }
}
