/// An error in what a peer sent, or in what we were asked to send. `code` is stable and travels in
/// `Error` and `Nack` frames (`sluice.v1.ErrorCode` has the same numbers); `message` says what to fix.
public struct WireError: Error, Sendable, Hashable, CustomStringConvertible {
    public enum Code: Int, Sendable, Hashable, CaseIterable {
        case frameTooLarge = 100
        case unknownFrameKind = 101
        case unknownFlags = 102
        case decompressedTooLarge = 103
        case compressionRatio = 104
        case corruptCompression = 105
        case truncatedFrame = 106
        case malformedMessage = 200
        case schemaMismatch = 201
        case truncatedColumn = 202
        case unsupportedType = 203
        case tooManyEvents = 204
        case unsupportedVersion = 300
        case authFailed = 301
        case unknownStream = 302
        case unexpectedFrame = 303
        case creditExceeded = 304
        case outputsNotRetained = 305
        case shuttingDown = 400
        case notLeader = 401
        case `internal` = 500
    }

    public let code: Code
    public let message: String

    public init(_ code: Code, _ message: String) {
        self.code = code
        self.message = message
    }

    public var description: String { "\(message) [wire error \(code.rawValue)]" }
}
