/// Why the SDK could not do what it was asked.
public struct ClientError: Error, Sendable, CustomStringConvertible {
    public enum Code: Sendable, Hashable {
        case connectionFailed
        case schemaMismatch
        case authFailed
        case protocolError
        case closed
        case timedOut
    }

    public let code: Code
    public let message: String

    public init(_ code: Code, _ message: String) {
        self.code = code
        self.message = message
    }

    public var description: String { message }
}
