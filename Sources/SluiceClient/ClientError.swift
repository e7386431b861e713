import SluiceWire

/// Why the SDK could not do what it was asked.
public struct ClientError: Error, Sendable, Hashable, CustomStringConvertible {
    public enum Code: Sendable, Hashable {
        /// No endpoint could be reached (after every endpoint was tried once).
        case connectionFailed
        /// The node's definition of a stream differs from ours, or it does not know the stream.
        case schemaMismatch
        case authFailed
        /// The peer broke docs/protocol.md (or speaks another version).
        case protocolError
        /// The producer or subscriber was closed while the call waited.
        case closed
        case timedOut
        /// An event or batch does not fit its stream's schema; nothing was sent.
        case invalidEvent
        /// The stream was not declared to the producer.
        case unknownStream
        /// The node refused a batch for good (a Nack that is not retryable, or too many attempts).
        case rejected
        /// A subscriber cannot resume where it stopped: the node no longer retains outputs after
        /// that point. Subscribing again without a resume position starts from the live output.
        case outputsNotRetained
    }

    public let code: Code
    public let message: String

    public init(_ code: Code, _ message: String) {
        self.code = code
        self.message = message
    }

    public var description: String { message }

    /// The client-side meaning of an Error frame the node sent.
    static func fromWire(_ error: Sluice_V1_Error, endpoint: String) -> ClientError {
        let text = "\(endpoint): \(error.message.isEmpty ? "\(error.code)" : error.message)"
        switch error.code {
        case .authFailed: return ClientError(.authFailed, text)
        case .schemaMismatch, .unknownStream: return ClientError(.schemaMismatch, text)
        case .outputsNotRetained: return ClientError(.outputsNotRetained, text)
        default: return ClientError(.protocolError, text + " [wire error \(error.code.rawValue)]")
        }
    }

    /// Whether a handshake refused with this code would be refused again on retry.
    static func isFatal(_ code: Sluice_V1_ErrorCode) -> Bool {
        switch code {
        case .authFailed, .schemaMismatch, .unknownStream, .unsupportedVersion, .outputsNotRetained: true
        default: false
        }
    }
}
