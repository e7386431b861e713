import Foundation
import NIOCore
import SluiceCluster
import SluiceWire
import SwiftProtobuf
import Testing

/// The machines' messages survive the trip through proto/sluice/v1/cluster.proto's types and their
/// serialized bytes; every field the machines use.
@Suite struct ProtoMappingTests {
    /// Through bytes, as a peer would see them.
    func viaBytes<M: SwiftProtobuf.Message>(_ m: M) throws -> M {
        try M(serializedBytes: try m.serializedBytes() as [UInt8])
    }

    @Test func logEntriesOfEveryKindRoundTrip() throws {
        let entries = [
            LogEntry(index: 7, term: 3, record: .batch([0, 1, 2, 255])),
            LogEntry(index: 8, term: 3, record: .tick(millis: 1_700_000_000_123)),
            LogEntry(index: 9, term: 4, record: .termStart),
            LogEntry(index: 10, term: 4, record: .batch([])),
            LogEntry(index: 11, term: 4, record: .lz4Batch([0, 0, 0, 9, 1, 2, 3])),
        ]
        // A oneof member is sent even when empty, so an empty batch stays a batch, apart from a term start.
        for e in entries {
            #expect(LogEntry(wire: try viaBytes(e.wire)) == e)
        }
    }

    @Test func votesAndPreVotesRoundTrip() throws {
        for preVote in [false, true] {
            let request = VoteRequest(term: 5, candidate: "a1", lastLog: LogPosition(term: 4, index: 99), isPreVote: preVote)
            let wire = request.wire(group: "g1")
            #expect(wire.groupID == "g1")
            #expect(VoteRequest(wire: try viaBytes(wire)) == request)
            let response = VoteResponse(term: 5, voter: "w", granted: true, isPreVote: preVote)
            #expect(VoteResponse(wire: try viaBytes(response.wire(group: "g1"))) == response)
        }
    }

    @Test func appendsAndTheirAnswersRoundTripWithEveryField() throws {
        for incarnation in [nil, UInt64(0), 2] {
            let append = AppendRequest(term: 6, leader: "a1", prev: LogPosition(term: 5, index: 41),
                                       entries: [LogEntry(index: 42, term: 6, record: .batch([9, 9])),
                                                 LogEntry(index: 43, term: 6, record: .tick(millis: 12))],
                                       leaderCommit: 41, deliveredOutput: 17, followerIncarnation: incarnation)
            #expect(AppendRequest(wire: try viaBytes(append.wire(group: "g1"))) == append)
        }
        let response = AppendResponse(term: 6, follower: "b1", incarnation: 3, success: true, matchIndex: 43, appliedIndex: 40)
        #expect(AppendResponse(wire: try viaBytes(response.wire(group: "g1"))) == response)
    }

    @Test func witnessSyncsRoundTrip() throws {
        let sync = WitnessSync(term: 7, leader: "a1", last: LogPosition(term: 7, index: 1_000))
        #expect(WitnessSync(wire: try viaBytes(sync.wire(group: "g2"))) == sync)
        let answer = WitnessSyncResponse(term: 7, success: true, confirmed: LogPosition(term: 7, index: 999))
        #expect(WitnessSyncResponse(wire: try viaBytes(answer.wire(group: "g2"))) == answer)
    }

    @Test func everyMessageSurvivesItsFramesAndTheDecoder() throws {
        let messages: [ClusterMessage] = [
            .voteRequest(VoteRequest(term: 2, candidate: "a", lastLog: .zero, isPreVote: true)),
            .voteResponse(VoteResponse(term: 2, voter: "w", granted: false, isPreVote: false)),
            .append(AppendRequest(term: 2, leader: "a", prev: .zero, entries: [], leaderCommit: 0, deliveredOutput: 0)),
            .appendResponse(AppendResponse(term: 2, follower: "b", incarnation: 1, success: false, matchIndex: 0, appliedIndex: 0)),
            .snapshot(SnapshotRequest(term: 2, leader: "a", lastIncluded: LogPosition(term: 2, index: 9),
                                      data: (0..<3_000_000).map { UInt8(truncatingIfNeeded: $0 &* 7) }, deliveredOutput: 4)),
            .witnessSync(WitnessSync(term: 2, leader: "a", last: .zero)),
            .witnessSyncResponse(WitnessSyncResponse(term: 2, success: true, confirmed: .zero)),
        ]
        var decoder = ClusterFrameDecoder()
        for message in messages {
            let frames = message.frames(group: "g9")
            var decoded: [(group: String, message: ClusterMessage)] = []
            for frame in frames {
                #expect(ClusterFrameDecoder.isClusterFrame(frame.kind))
                if let d = try decoder.decode(frame) { decoded.append(d) }
            }
            #expect(decoded.count == 1)
            #expect(decoded.first?.group == "g9")
            #expect(decoded.first?.message == message)
        }
    }

    @Test func anAppendOfForwardedLZ4BatchesIsNotCompressedAgain() throws {
        func append(_ record: LogEntry.Record) -> ClusterMessage {
            .append(AppendRequest(term: 2, leader: "a", prev: .zero, entries: (1...4).map { LogEntry(index: $0, term: 2, record: record) },
                                  leaderCommit: 0, deliveredOutput: 0))
        }
        let block = (0..<2_000).map { UInt8(truncatingIfNeeded: $0 % 5) }
        #expect(append(.lz4Batch(block)).frames(group: "g").map(\.isCompressible) == [false])
        #expect(append(.batch(block)).frames(group: "g").map(\.isCompressible) == [true])
        #expect(append(.tick(millis: 5)).frames(group: "g").map(\.isCompressible) == [true])
    }

    @Test func aSnapshotWithAMissingChunkOrOverTheLimitIsRefused() throws {
        let snapshot = ClusterMessage.snapshot(SnapshotRequest(term: 1, leader: "a", lastIncluded: LogPosition(term: 1, index: 1),
                                                               data: Array(repeating: 1, count: 2_500_000), deliveredOutput: 0))
        let frames = snapshot.frames(group: "g")
        #expect(frames.count == 3)
        var decoder = ClusterFrameDecoder()
        _ = try decoder.decode(frames[0])
        #expect(throws: WireError.self) { try decoder.decode(frames[2]) }
        var small = ClusterFrameDecoder(maxSnapshotBytes: 1_000_000)
        #expect(throws: WireError.self) { try small.decode(frames[0]) }
    }

    @Test func snapshotsAreCutIntoChunksThatReassemble() throws {
        let data = (0..<2_500).map { UInt8(truncatingIfNeeded: $0 &* 31) }
        let snapshot = SnapshotRequest(term: 3, leader: "a1", lastIncluded: LogPosition(term: 3, index: 77), data: data,
                                       deliveredOutput: 0)
        let chunks = try snapshot.chunks(group: "g1", chunkSize: 1_000).map(viaBytes)
        #expect(chunks.count == 3)
        #expect(chunks.map(\.offset) == [0, 1_000, 2_000])
        #expect(chunks.map(\.done) == [false, false, true])
        #expect(chunks.allSatisfy { $0.lastIncludedIndex == 77 && $0.lastIncludedTerm == 3 && $0.groupID == "g1" })
        #expect(chunks.flatMap { [UInt8]($0.data) } == data)
        let empty = SnapshotRequest(term: 1, leader: "a1", lastIncluded: LogPosition(term: 0, index: 0), data: [], deliveredOutput: 0)
        #expect(empty.chunks(group: "g1").map(\.done) == [true], "an empty snapshot is still one chunk")
    }

    /// The fuzzer's peer-link seed (written by hand from cluster.proto, not by this code) decodes
    /// to one message per kind, the two snapshot chunks to one snapshot.
    @Test func theHandWrittenPeerLinkSeedDecodes() throws {
        let path = URL(fileURLWithPath: #filePath).deletingLastPathComponent()
            .appendingPathComponent("../FuzzCorpus/wire-frame/valid-peer-link").standardized.path
        var buffer = ByteBuffer(bytes: try #require(FileManager.default.contents(atPath: path)))
        let codec = FrameCodec()
        var decoder = ClusterFrameDecoder()
        var messages: [ClusterMessage] = []
        while let frame = try codec.decode(from: &buffer) {
            if let (group, message) = try decoder.decode(frame) {
                #expect(group == "g1")
                messages.append(message)
            }
        }
        #expect(messages.count == 7)
        guard case .snapshot(let snapshot) = messages[4] else {
            Issue.record("expected the snapshot fifth")
            return
        }
        #expect(snapshot.data == Array((0..<768).map { UInt8($0 % 256) }) && snapshot.lastIncluded == LogPosition(term: 5, index: 12))
        guard case .append(let append) = messages[2] else {
            Issue.record("expected the append third")
            return
        }
        #expect(append.entries.map(\.record) == [.batch([8, 1, 16, 7, 24, 2]), .tick(millis: 1_700_000_000_000), .termStart])
        #expect(append.followerIncarnation == 1 && append.deliveredOutput == 3)
    }
}
