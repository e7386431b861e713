import NIOCore
import SwiftProtobuf

/// A generated message that travels as the payload of one frame kind. Event batches have their
/// own hand-written codec (`BatchCodec`); the other, small messages go through swift-protobuf.
public protocol WireMessage: SwiftProtobuf.Message {
    static var frameKind: FrameKind { get }
}

extension Sluice_V1_Hello: WireMessage { public static var frameKind: FrameKind { .hello } }
extension Sluice_V1_Welcome: WireMessage { public static var frameKind: FrameKind { .welcome } }
extension Sluice_V1_EventBatch: WireMessage { public static var frameKind: FrameKind { .eventBatch } }
extension Sluice_V1_Ack: WireMessage { public static var frameKind: FrameKind { .ack } }
extension Sluice_V1_Nack: WireMessage { public static var frameKind: FrameKind { .nack } }
extension Sluice_V1_Subscribe: WireMessage { public static var frameKind: FrameKind { .subscribe } }
extension Sluice_V1_Credit: WireMessage { public static var frameKind: FrameKind { .credit } }
extension Sluice_V1_Error: WireMessage { public static var frameKind: FrameKind { .error } }
extension Sluice_V1_VoteRequest: WireMessage { public static var frameKind: FrameKind { .voteRequest } }
extension Sluice_V1_VoteResponse: WireMessage { public static var frameKind: FrameKind { .voteResponse } }
extension Sluice_V1_ReplicationAppend: WireMessage { public static var frameKind: FrameKind { .replicationAppend } }
extension Sluice_V1_ReplicationAck: WireMessage { public static var frameKind: FrameKind { .replicationAck } }
extension Sluice_V1_SnapshotChunk: WireMessage { public static var frameKind: FrameKind { .snapshotChunk } }
extension Sluice_V1_WitnessSync: WireMessage { public static var frameKind: FrameKind { .witnessSync } }
extension Sluice_V1_WitnessSyncResponse: WireMessage { public static var frameKind: FrameKind { .witnessSyncResponse } }

extension Frame {
    /// A frame carrying `message`, of the message's kind.
    public init<M: WireMessage>(_ message: M, allocator: ByteBufferAllocator = ByteBufferAllocator()) throws {
        let bytes: [UInt8] = try message.serializedBytes()
        var payload = allocator.buffer(capacity: bytes.count)
        payload.writeBytes(bytes)
        self.init(kind: M.frameKind, payload: payload)
    }

    /// The frame's message. Throws `.unexpectedFrame` when the frame is of another kind and
    /// `.malformedMessage` when the payload does not parse.
    public func message<M: WireMessage>(as type: M.Type = M.self) throws -> M {
        guard kind == M.frameKind else {
            throw WireError(.unexpectedFrame, "expected a \(M.frameKind) frame, got \(kind)")
        }
        do {
            return try M(serializedBytes: Array(payload.readableBytesView))
        } catch {
            throw WireError(.malformedMessage, "\(kind) frame does not parse: \(error)")
        }
    }
}
