import SluiceCore
import Foundation
import NIOCore
import NIOPosix

/// One-shot requests against a node's admin port: enough HTTP/1.1 for `/health`, `/status` and
/// `/query` without an HTTP client package.
public struct AdminClient: Sendable {
    public struct Response: Sendable {
        public var status: Int
        public var body: String
    }

    public var timeout: Duration
    private let group: any EventLoopGroup

    public init(timeout: Duration = .seconds(2), group: any EventLoopGroup = MultiThreadedEventLoopGroup.singleton) {
        self.timeout = timeout
        self.group = group
    }

    /// Throws when the node cannot be reached or does not answer within `timeout`.
    public func get(_ address: HostPort, path: String) async throws -> Response {
        try await send("GET", address, path: path, body: nil)
    }

    /// `POST path` with `body` as plain text.
    public func post(_ address: HostPort, path: String, body: String) async throws -> Response {
        try await send("POST", address, path: path, body: body)
    }

    private func send(_ method: String, _ address: HostPort, path: String, body: String?) async throws -> Response {
        let timeout = self.timeout
        return try await withThrowingTaskGroup(of: Response.self) { tasks in
            tasks.addTask { try await request(method, address, path: path, body: body) }
            tasks.addTask {
                try await Task.sleep(for: timeout)
                throw ClusterError("\(address) did not answer \(method) \(path) within \(timeout)")
            }
            defer { tasks.cancelAll() }
            return try await tasks.next()!
        }
    }

    /// `/health` as one word: `ok`, `stopping`, or `down` when nothing answers.
    public func health(_ address: HostPort) async -> String {
        guard let response = try? await get(address, path: "/health") else { return "down" }
        return response.status == 200 ? "ok" : "stopping"
    }

    private func request(_ method: String, _ address: HostPort, path: String, body: String?) async throws -> Response {
        let channel = try await ClientBootstrap(group: group)
            .connectTimeout(.seconds(1))
            .connect(host: address.host, port: address.port) { channel in
                channel.eventLoop.makeCompletedFuture {
                    try NIOAsyncChannel<ByteBuffer, ByteBuffer>(wrappingChannelSynchronously: channel)
                }
            }
        let raw = try await channel.executeThenClose { inbound, outbound in
            var head = "\(method) \(path) HTTP/1.1\r\nHost: \(address)\r\nConnection: close\r\n"
            if let body { head += "Content-Type: text/plain; charset=utf-8\r\nContent-Length: \(body.utf8.count)\r\n" }
            try await outbound.write(ByteBuffer(string: head + "\r\n" + (body ?? "")))
            var all = ByteBuffer()
            for try await chunk in inbound { all.writeImmutableBuffer(chunk) }
            return String(buffer: all)
        }
        guard let split = raw.range(of: "\r\n\r\n"),
              let status = raw[..<split.lowerBound].split(separator: " ").dropFirst().first.flatMap({ Int($0) }) else {
            throw ClusterError("\(address) answered \(method) \(path) with something that is not HTTP")
        }
        return Response(status: status, body: String(raw[split.upperBound...]))
    }
}
