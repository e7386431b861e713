// libFuzzer entry for the wire's frame layer: FrameCodec.decode over a byte stream, then each
// frame's payload through its decoder (BatchCodec for batches, swift-protobuf for the others,
// and the peer link's ClusterFrameDecoder, snapshot chunks included, for cluster messages, with
// the LZ4 batches an append forwards).
// Built with `-parse-as-library`, so this file has no top-level code; libFuzzer provides main().
import FuzzWireSupport
import NIOCore
import SluiceCluster
import SluiceWire

private let codec = FrameCodec(limits: fuzzLimits, compressionThreshold: 64)

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzWireFrame(_ start: UnsafeRawPointer?, _ count: Int) -> CInt {
    var buffer = ByteBuffer(bytes: UnsafeRawBufferPointer(start: start, count: count))
    var cluster = ClusterFrameDecoder(maxSnapshotBytes: 1 << 20)
    // A WireError ends the stream, as it closes a connection; only a crash is a finding.
    while let frame = try? codec.decode(from: &buffer) {
        checkFrame(frame, codec: codec)
        if ClusterFrameDecoder.isClusterFrame(frame.kind), let decoded = try? cluster.decode(frame) {
            checkClusterRoundTrip(decoded.group, decoded.message)
            if case .append(let append) = decoded.message { checkForwardedBatches(append.entries) }
        }
        switch frame.kind {
        case .eventBatch: checkBatch(frame.payload, schema: fuzzSchemas[0])
        case .hello: _ = try? frame.message(as: Sluice_V1_Hello.self)
        case .welcome: _ = try? frame.message(as: Sluice_V1_Welcome.self)
        case .ack: _ = try? frame.message(as: Sluice_V1_Ack.self)
        case .nack: _ = try? frame.message(as: Sluice_V1_Nack.self)
        case .subscribe: _ = try? frame.message(as: Sluice_V1_Subscribe.self)
        case .credit: _ = try? frame.message(as: Sluice_V1_Credit.self)
        case .error: _ = try? frame.message(as: Sluice_V1_Error.self)
        case .voteRequest: _ = try? frame.message(as: Sluice_V1_VoteRequest.self)
        case .voteResponse: _ = try? frame.message(as: Sluice_V1_VoteResponse.self)
        case .replicationAppend: _ = try? frame.message(as: Sluice_V1_ReplicationAppend.self)
        case .replicationAck: _ = try? frame.message(as: Sluice_V1_ReplicationAck.self)
        case .snapshotChunk: _ = try? frame.message(as: Sluice_V1_SnapshotChunk.self)
        case .witnessSync: _ = try? frame.message(as: Sluice_V1_WitnessSync.self)
        case .witnessSyncResponse: _ = try? frame.message(as: Sluice_V1_WitnessSyncResponse.self)
        }
    }
    return 0
}

/// A follower expands forwarded LZ4 entries within its own limits, then decodes them.
private func checkForwardedBatches(_ entries: [LogEntry]) {
    for entry in entries {
        guard case .lz4Batch(let bytes) = entry.record,
              let payload = try? codec.decompress(lz4Payload: ByteBuffer(bytes: bytes), kind: .eventBatch) else { continue }
        checkBatch(payload, schema: fuzzSchemas[0])
    }
}

/// A message the peer link accepted goes out and comes back as itself.
private func checkClusterRoundTrip(_ group: String, _ message: ClusterMessage) {
    var decoder = ClusterFrameDecoder(maxSnapshotBytes: 1 << 20)
    var back: (group: String, message: ClusterMessage)?
    for frame in message.frames(group: group) {
        do {
            back = try decoder.decode(frame)
        } catch {
            fatalError("a decoded cluster message does not decode again: \(error)")
        }
    }
    guard let back, back.group == group, back.message == message else {
        fatalError("a cluster message changed in a round trip: \(message)")
    }
}
