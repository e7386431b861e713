/// A node address, `HOST:PORT`; IPv6 hosts in brackets (`[::1]:7701`). The SDK calls it `Endpoint`.
public struct HostPort: Sendable, Hashable, CustomStringConvertible {
    public var host: String
    /// 0 (where allowed) asks the system for a free port.
    public var port: Int

    public init(host: String, port: Int) {
        self.host = host
        self.port = port
    }

    /// nil unless `text` (surrounding whitespace aside) is HOST:PORT with a port in 1...65535,
    /// or 0...65535 with `allowingPortZero`.
    public init?(_ text: String, allowingPortZero: Bool = false) {
        var trimmed = text[...]
        while let f = trimmed.first, f.isWhitespace { trimmed = trimmed.dropFirst() }
        while let l = trimmed.last, l.isWhitespace { trimmed = trimmed.dropLast() }
        guard let colon = trimmed.lastIndex(of: ":"), let port = Int(trimmed[trimmed.index(after: colon)...]),
              ((allowingPortZero ? 0 : 1)...65535).contains(port) else { return nil }
        var host = String(trimmed[..<colon])
        if host.hasPrefix("["), host.hasSuffix("]") { host = String(host.dropFirst().dropLast()) }
        guard !host.isEmpty, !host.contains(" ") else { return nil }
        self.host = host
        self.port = port
    }

    public var description: String { host.contains(":") ? "[\(host)]:\(port)" : "\(host):\(port)" }
}
