import Foundation
import SluiceWire

// The mapping between the machines' messages and proto/sluice/v1/cluster.proto, and their frames
// on the peer link. Every field the machines use travels.

extension LogEntry {
    public var wire: Sluice_V1_LogEntry {
        var e = Sluice_V1_LogEntry()
        e.index = index
        e.term = term
        switch record {
        case .batch(let bytes): e.record = .batch(Data(bytes))
        case .lz4Batch(let bytes): e.record = .batchLz4(Data(bytes))
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
        case .batchLz4(let data): record = .lz4Batch([UInt8](data))
        case .tickMillis(let millis): record = .tick(millis: millis)
        case nil: record = .termStart
        }
        self.init(index: e.index, term: e.term, record: record)
    }

    /// Bytes this entry adds to an append message, near enough to keep frames under their limit.
    public var wireSize: Int {
        switch record {
        case .batch(let bytes), .lz4Batch(let bytes): bytes.count + 32
        case .tick, .termStart: 32
        }
    }

    /// Bytes of this entry that are LZ4 blocks already.
    var compressedSize: Int {
        if case .lz4Batch(let bytes) = record { return bytes.count }
        return 0
    }
}

extension VoteRequest {
    public func wire(group: String) -> Sluice_V1_VoteRequest {
        var m = Sluice_V1_VoteRequest()
        m.groupID = group
        m.term = term
        m.candidateID = candidate
        m.lastLogIndex = lastLog.index
        m.lastLogTerm = lastLog.term
        m.preVote = isPreVote
        return m
    }

    public init(wire m: Sluice_V1_VoteRequest) {
        self.init(term: m.term, candidate: m.candidateID, lastLog: LogPosition(term: m.lastLogTerm, index: m.lastLogIndex),
                  isPreVote: m.preVote)
    }
}

extension VoteResponse {
    public func wire(group: String) -> Sluice_V1_VoteResponse {
        var m = Sluice_V1_VoteResponse()
        m.groupID = group
        m.term = term
        m.voterID = voter
        m.granted = granted
        m.preVote = isPreVote
        return m
    }

    public init(wire m: Sluice_V1_VoteResponse) {
        self.init(term: m.term, voter: m.voterID, granted: m.granted, isPreVote: m.preVote)
    }
}

extension AppendRequest {
    public func wire(group: String) -> Sluice_V1_ReplicationAppend {
        var m = Sluice_V1_ReplicationAppend()
        m.groupID = group
        m.term = term
        m.leaderID = leader
        m.prevLogIndex = prev.index
        m.prevLogTerm = prev.term
        m.entries = entries.map(\.wire)
        m.leaderCommit = leaderCommit
        m.deliveredOutput = deliveredOutput
        if let followerIncarnation { m.followerIncarnation = followerIncarnation }
        return m
    }

    public init(wire m: Sluice_V1_ReplicationAppend) {
        self.init(term: m.term, leader: m.leaderID, prev: LogPosition(term: m.prevLogTerm, index: m.prevLogIndex),
                  entries: m.entries.map(LogEntry.init(wire:)), leaderCommit: m.leaderCommit, deliveredOutput: m.deliveredOutput,
                  followerIncarnation: m.hasFollowerIncarnation ? m.followerIncarnation : nil)
    }
}

extension AppendResponse {
    public func wire(group: String) -> Sluice_V1_ReplicationAck {
        var m = Sluice_V1_ReplicationAck()
        m.groupID = group
        m.term = term
        m.followerID = follower
        m.success = success
        m.matchIndex = matchIndex
        m.incarnation = incarnation
        m.appliedIndex = appliedIndex
        return m
    }

    public init(wire m: Sluice_V1_ReplicationAck) {
        self.init(term: m.term, follower: m.followerID, incarnation: m.incarnation, success: m.success,
                  matchIndex: m.matchIndex, appliedIndex: m.appliedIndex)
    }
}

extension WitnessSync {
    public func wire(group: String) -> Sluice_V1_WitnessSync {
        var m = Sluice_V1_WitnessSync()
        m.groupID = group
        m.term = term
        m.leaderID = leader
        m.lastLogIndex = last.index
        m.lastLogTerm = last.term
        return m
    }

    public init(wire m: Sluice_V1_WitnessSync) {
        self.init(term: m.term, leader: m.leaderID, last: LogPosition(term: m.lastLogTerm, index: m.lastLogIndex))
    }
}

extension WitnessSyncResponse {
    public func wire(group: String) -> Sluice_V1_WitnessSyncResponse {
        var m = Sluice_V1_WitnessSyncResponse()
        m.groupID = group
        m.term = term
        m.success = success
        m.confirmedIndex = confirmed.index
        m.confirmedTerm = confirmed.term
        return m
    }

    public init(wire m: Sluice_V1_WitnessSyncResponse) {
        self.init(term: m.term, success: m.success, confirmed: LogPosition(term: m.confirmedTerm, index: m.confirmedIndex))
    }
}

extension SnapshotRequest {
    /// The snapshot cut into chunks of at most `chunkSize` bytes; the last carries the checksum.
    public func chunks(group: String, chunkSize: Int = 1 << 20) -> [Sluice_V1_SnapshotChunk] {
        let size = max(1, chunkSize)
        var chunks: [Sluice_V1_SnapshotChunk] = []
        var offset = 0
        repeat {
            var c = Sluice_V1_SnapshotChunk()
            c.groupID = group
            c.term = term
            c.leaderID = leader
            c.lastIncludedIndex = lastIncluded.index
            c.lastIncludedTerm = lastIncluded.term
            c.deliveredOutput = deliveredOutput
            c.totalSize = UInt64(data.count)
            c.offset = UInt64(offset)
            let end = min(data.count, offset + size)
            c.data = Data(data[offset..<end])
            c.done = end == data.count
            if c.done { c.checksum = CRC32C.checksum(data) }
            chunks.append(c)
            offset = end
        } while offset < data.count
        return chunks
    }
}

extension ClusterMessage {
    /// The frames that carry this message for `group` (a snapshot may take several).
    public func frames(group: String) -> [Frame] {
        func frame<M: WireMessage>(_ m: M) -> Frame {
            // Serialising plain fields cannot fail.
            (try? Frame(m)) ?? Frame(kind: M.frameKind, payload: .init())
        }
        switch self {
        case .voteRequest(let m): return [frame(m.wire(group: group))]
        case .voteResponse(let m): return [frame(m.wire(group: group))]
        case .append(let m):
            var f = frame(m.wire(group: group))
            // Mostly forwarded LZ4 blocks: compressing again would cost a pass and save nothing.
            f.isCompressible = m.entries.reduce(0) { $0 + $1.compressedSize } * 2 < f.payload.readableBytes
            return [f]
        case .appendResponse(let m): return [frame(m.wire(group: group))]
        case .snapshot(let m): return m.chunks(group: group).map(frame)
        case .witnessSync(let m): return [frame(m.wire(group: group))]
        case .witnessSyncResponse(let m): return [frame(m.wire(group: group))]
        }
    }
}

/// Turns peer-link frames back into messages. Snapshot chunks are collected until the last one;
/// a snapshot larger than `maxSnapshotBytes`, out-of-order chunks or a bad checksum are refused.
public struct ClusterFrameDecoder: Sendable {
    public let maxSnapshotBytes: Int
    private var pending: (key: [UInt64], data: [UInt8])?

    public init(maxSnapshotBytes: Int = 1 << 30) {
        self.maxSnapshotBytes = maxSnapshotBytes
    }

    public static func isClusterFrame(_ kind: FrameKind) -> Bool {
        switch kind {
        case .voteRequest, .voteResponse, .replicationAppend, .replicationAck, .snapshotChunk, .witnessSync, .witnessSyncResponse: true
        default: false
        }
    }

    /// The group and message in `frame`; nil while a snapshot is still arriving. Throws `WireError`.
    public mutating func decode(_ frame: Frame) throws -> (group: String, message: ClusterMessage)? {
        switch frame.kind {
        case .voteRequest:
            let m = try frame.message(as: Sluice_V1_VoteRequest.self)
            return (m.groupID, .voteRequest(VoteRequest(wire: m)))
        case .voteResponse:
            let m = try frame.message(as: Sluice_V1_VoteResponse.self)
            return (m.groupID, .voteResponse(VoteResponse(wire: m)))
        case .replicationAppend:
            let m = try frame.message(as: Sluice_V1_ReplicationAppend.self)
            return (m.groupID, .append(AppendRequest(wire: m)))
        case .replicationAck:
            let m = try frame.message(as: Sluice_V1_ReplicationAck.self)
            return (m.groupID, .appendResponse(AppendResponse(wire: m)))
        case .witnessSync:
            let m = try frame.message(as: Sluice_V1_WitnessSync.self)
            return (m.groupID, .witnessSync(WitnessSync(wire: m)))
        case .witnessSyncResponse:
            let m = try frame.message(as: Sluice_V1_WitnessSyncResponse.self)
            return (m.groupID, .witnessSyncResponse(WitnessSyncResponse(wire: m)))
        case .snapshotChunk:
            return try chunk(try frame.message(as: Sluice_V1_SnapshotChunk.self))
        default:
            throw WireError(.unexpectedFrame, "a \(frame.kind) frame is not a cluster message")
        }
    }

    private mutating func chunk(_ c: Sluice_V1_SnapshotChunk) throws -> (group: String, message: ClusterMessage)? {
        guard c.totalSize <= UInt64(maxSnapshotBytes) else {
            throw WireError(.frameTooLarge, "a snapshot of \(c.totalSize) bytes exceeds the limit of \(maxSnapshotBytes) bytes")
        }
        let key = [c.term, c.lastIncludedIndex, c.lastIncludedTerm, c.totalSize]
        if c.offset == 0 { pending = (key, []) }
        guard let received = pending, received.key == key, UInt64(received.data.count) == c.offset,
              UInt64(received.data.count + c.data.count) <= c.totalSize else {
            pending = nil
            throw WireError(.malformedMessage, "snapshot chunk at offset \(c.offset) does not continue the snapshot being received")
        }
        pending = nil
        var data = received.data
        data.append(contentsOf: c.data)
        guard c.done else {
            pending = (key, data)
            return nil
        }
        guard UInt64(data.count) == c.totalSize, CRC32C.checksum(data) == c.checksum else {
            throw WireError(.malformedMessage, "snapshot of \(data.count) bytes fails its checksum")
        }
        return (c.groupID, .snapshot(SnapshotRequest(
            term: c.term, leader: c.leaderID, lastIncluded: LogPosition(term: c.lastIncludedTerm, index: c.lastIncludedIndex),
            data: data, deliveredOutput: c.deliveredOutput)))
    }
}

/// CRC-32C (Castagnoli), bitwise with a table: snapshots are checked once per transfer.
enum CRC32C {
    static let table: [UInt32] = (0..<256).map { i in
        var c = UInt32(i)
        for _ in 0..<8 { c = c & 1 != 0 ? 0x82F6_3B78 ^ (c >> 1) : c >> 1 }
        return c
    }

    static func checksum(_ bytes: [UInt8]) -> UInt32 {
        var c: UInt32 = 0xFFFF_FFFF
        for b in bytes { c = table[Int((c ^ UInt32(b)) & 0xFF)] ^ (c >> 8) }
        return c ^ 0xFFFF_FFFF
    }
}
