/// What a frame's payload is: the `kind` byte of the header. Raw values are `sluice.v1.FrameKind`'s.
public enum FrameKind: UInt8, Sendable, Hashable, CaseIterable {
    case hello = 1
    case welcome = 2
    case eventBatch = 3
    case ack = 4
    case nack = 5
    case subscribe = 6
    case credit = 7
    case error = 8
    case voteRequest = 33
    case voteResponse = 34
    case replicationAppend = 35
    case replicationAck = 36
    case snapshotChunk = 37
    case witnessSync = 38
    case witnessSyncResponse = 39
}
