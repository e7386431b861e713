import SluiceCore
import NIOCore

/// A node address, `host:port` (SluiceCore's `HostPort`).
public typealias Endpoint = HostPort

extension HostPort {
    /// Parses `host:port` (IPv6 hosts in brackets: `[::1]:7070`).
    public init(parsing text: String) throws(ClientError) {
        guard let parsed = HostPort(text) else {
            throw ClientError(.connectionFailed, "endpoint '\(text)' is not host:port")
        }
        self = parsed
    }

    /// Parses a comma-separated list of `host:port`.
    public static func list(_ text: String) throws(ClientError) -> [Endpoint] {
        var out: [Endpoint] = []
        for part in text.split(separator: ",") where !part.allSatisfy(\.isWhitespace) {
            out.append(try Endpoint(parsing: String(part)))
        }
        guard !out.isEmpty else { throw ClientError(.connectionFailed, "no endpoint in '\(text)'") }
        return out
    }
}

extension Duration {
    /// NIO's time type; negative durations clamp to zero.
    public var timeAmount: TimeAmount {
        let (seconds, attoseconds) = components
        let nanos = seconds.multipliedReportingOverflow(by: 1_000_000_000)
        guard !nanos.overflow else { return .nanoseconds(.max) }
        return .nanoseconds(max(0, nanos.partialValue + attoseconds / 1_000_000_000))
    }
}
