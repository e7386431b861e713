import SluiceCore
import Foundation
import Hummingbird
import Logging
import NIOConcurrencyHelpers
import NIOCore
import ServiceLifecycle

/// Where the admin HTTP server binds, and what it reports about the node.
public struct AdminConfiguration: Sendable {
    public var host: String
    /// 0 picks a free port (tests); `AdminServer.port()` tells which.
    public var port: Int
    /// The node's binary-protocol address, as `/status` reports it.
    public var listenAddress: String
    /// Where the node sits in a deployment, from its config; `/status` reports them.
    public var placement: NodePlacement

    public init(host: String = "127.0.0.1", port: Int = 9701, listenAddress: String,
                placement: NodePlacement = NodePlacement()) {
        self.host = host
        self.port = port
        self.listenAddress = listenAddress
        self.placement = placement
    }
}

/// The node's operator port: `GET /health`, `GET /status` (JSON), `GET /metrics` (Prometheus text)
/// and `POST /query` (an on-demand query of the app's tables and named windows).
/// A `Service`: run it in the same `ServiceGroup` as the node, after it, so that graceful shutdown
/// stops the admin port before the node.
public final class AdminServer: Service, Sendable {
    public let configuration: AdminConfiguration
    private let node: Node
    private let metrics: NodeMetrics
    private let logger: Logger
    private let startedAt: ContinuousClock.Instant
    private let lifecycle = NIOLockedValueBox(Lifecycle())

    public init(node: Node, configuration: AdminConfiguration, logger: Logger = Logger(label: "sluice.admin"),
                startedAt: ContinuousClock.Instant = .now) {
        self.node = node
        self.configuration = configuration
        self.logger = logger
        self.startedAt = startedAt
        let status = node.status()
        metrics = NodeMetrics(nodeID: status.nodeID, app: status.app)
    }

    public func run() async throws {
        let app = Application(
            router: makeRouter(),
            configuration: .init(address: .hostname(configuration.host, port: configuration.port),
                                 serverName: "sluice-admin"),
            onServerRunning: { [lifecycle, logger, configuration] channel in
                let port = channel.localAddress?.port ?? configuration.port
                let waiters = lifecycle.withLockedValue { $0.bound(port: port) }
                for waiter in waiters { waiter.resume(returning: port) }
                logger.info("admin listening", metadata: ["address": "\(configuration.host):\(port)"])
            },
            logger: logger)
        do {
            try await withGracefulShutdownHandler {
                try await app.run()
            } onGracefulShutdown: { [lifecycle] in
                lifecycle.withLockedValue { $0.draining = true }
            }
        } catch {
            // Before binding, the address is what an operator needs to see.
            let bound = lifecycle.withLockedValue { $0.port != nil }
            let reported: any Error = bound ? error : AdminServerError(
                message: "admin server cannot listen on \(HostPort(host: configuration.host, port: configuration.port)): \(error)")
            for waiter in lifecycle.withLockedValue({ $0.failed(reported) }) { waiter.resume(throwing: reported) }
            throw reported
        }
        for waiter in lifecycle.withLockedValue({ $0.failed(CancellationError()) }) { waiter.resume(throwing: CancellationError()) }
    }

    /// The bound port, once the server listens; throws if it never does.
    public func port() async throws -> Int {
        try await withCheckedThrowingContinuation { continuation in
            let ready = lifecycle.withLockedValue { state -> Result<Int, any Error>? in
                if let port = state.port { return .success(port) }
                if let error = state.error { return .failure(error) }
                state.waiters.append(continuation)
                return nil
            }
            if let ready { continuation.resume(with: ready) }
        }
    }

    private func makeRouter() -> Router<BasicRequestContext> {
        let router = Router()
        router.get("health") { [lifecycle, node] _, _ -> Response in
            // 503 once shutdown starts or while the node does not accept connections, so a load
            // balancer stops sending here first.
            lifecycle.withLockedValue(\.draining) || !node.status().isListening
                ? Self.json(#"{"status":"stopping"}"#, status: .serviceUnavailable)
                : Self.json(#"{"status":"ok"}"#)
        }
        router.get("status") { _, _ -> Response in
            Self.json(try self.statusJSON())
        }
        // An on-demand query: the body is its text; the answer is `{"attributes":[…],"records":[…]}`,
        // or 400 with `{"error":"line:column: message"}`.
        router.post("query") { request, context -> Response in
            let body = try await request.body.collect(upTo: Self.maxQueryBytes)
            switch await self.node.query(String(buffer: body)) {
            case .success(let result): return Self.json(QueryAnswer.json(result))
            case .failure(let error): return Self.json(QueryAnswer.error(error.description), status: .badRequest)
            }
        }
        router.get("metrics") { _, _ -> Response in
            let text = self.metrics.render(self.node.status())
            return Response(status: .ok, headers: [.contentType: "text/plain; version=0.0.4; charset=utf-8"],
                            body: .init(byteBuffer: ByteBuffer(string: text)))
        }
        return router
    }

    static let maxQueryBytes = 64 << 10

    /// The configured listen address with the port the node actually bound (it differs for port 0).
    static func listenAddress(_ configured: String, port: Int) -> String {
        guard port != 0, let colon = configured.lastIndex(of: ":") else { return configured }
        return String(configured[..<colon]) + ":\(port)"
    }

    /// `NodeStatus` plus where the node listens and how long it has run.
    func statusJSON() throws -> String {
        let port = lifecycle.withLockedValue(\.port) ?? configuration.port
        let uptime = ContinuousClock.now - startedAt
        let report = StatusReport(
            status: node.status(), listen: Self.listenAddress(configuration.listenAddress, port: node.status().listeningPort),
            admin: HostPort(host: configuration.host, port: port).description, placement: configuration.placement,
            uptimeSeconds: (Double(uptime.components.attoseconds / 1_000_000_000_000_000) / 1000)
                + Double(uptime.components.seconds))
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys]
        return String(decoding: try encoder.encode(report), as: UTF8.self)
    }

    private static func json(_ body: String, status: HTTPResponse.Status = .ok) -> Response {
        Response(status: status, headers: [.contentType: "application/json"],
                 body: .init(byteBuffer: ByteBuffer(string: body)))
    }
}

public struct AdminServerError: Error, CustomStringConvertible {
    public var message: String
    public var description: String { message }
}

/// The admin server's lifecycle; port waiters are resumed outside the lock.
private struct Lifecycle {
    var port: Int?
    var error: (any Error)?
    var draining = false
    var waiters: [CheckedContinuation<Int, any Error>] = []

    mutating func bound(port: Int) -> [CheckedContinuation<Int, any Error>] {
        self.port = port
        defer { waiters = [] }
        return waiters
    }

    mutating func failed(_ error: any Error) -> [CheckedContinuation<Int, any Error>] {
        if port == nil { self.error = error }
        defer { waiters = [] }
        return waiters
    }
}

/// `/status`: the node's fields flat, then the admin's own.
private struct StatusReport: Encodable {
    var status: NodeStatus
    var listen: String
    var admin: String
    var placement: NodePlacement
    var uptimeSeconds: Double

    enum Keys: String, CodingKey { case listen, admin, uptimeSeconds }

    func encode(to encoder: any Encoder) throws {
        try status.encode(to: encoder)
        try placement.encode(to: encoder)
        var container = encoder.container(keyedBy: Keys.self)
        try container.encode(listen, forKey: .listen)
        try container.encode(admin, forKey: .admin)
        try container.encode(uptimeSeconds, forKey: .uptimeSeconds)
    }
}
