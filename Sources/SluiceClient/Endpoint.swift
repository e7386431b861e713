import NIOCore

/// A node address, `host:port`.
public struct Endpoint: Sendable, Hashable, CustomStringConvertible {
    public var host: String
    public var port: Int

    public init(host: String, port: Int) {
        self.host = host
        self.port = port
    }

    /// Parses `host:port` (IPv6 hosts in brackets: `[::1]:7070`).
    public init(parsing text: String) throws(ClientError) {
        let trimmed = text.trimmingWhitespace()
        guard let colon = trimmed.lastIndex(of: ":") else {
            throw ClientError(.connectionFailed, "endpoint '\(text)' is not host:port")
        }
        var host = String(trimmed[..<colon])
        if host.hasPrefix("["), host.hasSuffix("]") { host = String(host.dropFirst().dropLast()) }
        guard !host.isEmpty, let port = Int(trimmed[trimmed.index(after: colon)...]), (1...65535).contains(port) else {
            throw ClientError(.connectionFailed, "endpoint '\(text)' is not host:port")
        }
        self.init(host: host, port: port)
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

    public var description: String { host.contains(":") ? "[\(host)]:\(port)" : "\(host):\(port)" }
}

extension String {
    func trimmingWhitespace() -> Substring {
        var s = self[...]
        while let f = s.first, f.isWhitespace { s = s.dropFirst() }
        while let l = s.last, l.isWhitespace { s = s.dropLast() }
        return s
    }
}

extension Duration {
    /// NIO's time type; negative durations clamp to zero.
    var timeAmount: TimeAmount {
        let (seconds, attoseconds) = components
        let nanos = seconds.multipliedReportingOverflow(by: 1_000_000_000)
        guard !nanos.overflow else { return .nanoseconds(.max) }
        return .nanoseconds(max(0, nanos.partialValue + attoseconds / 1_000_000_000))
    }
}
