import Atomics
import Foundation
import Hummingbird
import Logging
import NIOCore
import SluiceCore
import SluiceQL
import SluiceRuntime

/// `@source(type='http', receiver.url='http://host:port/Path', @map(type='json'))`: the seed's
/// JSON/HTTP edge. A POST carries Siddhi's default JSON mapping, `{"event":{"attr":value,…}}` or an
/// array of them; the reply comes once the engine has applied the events (200), refused them (400),
/// or is full (503, retry later).
final class HTTPSource: Sendable {
    struct Route: Sendable {
        var path: String
        var stream: StreamSchema
    }

    let host: String
    let port: Int
    let routes: [Route]
    private let engine: EngineLoop
    private let logger: Logger
    private let sequence = ManagedAtomic<UInt64>(0)
    /// HTTP requests share one producer identity; their sequences never repeat.
    static let producerID = UInt64.max
    static let maxBodyBytes = 64 << 20

    init(host: String, port: Int, routes: [Route], engine: EngineLoop, logger: Logger) {
        self.host = host
        self.port = port
        self.routes = routes
        self.engine = engine
        self.logger = logger
    }

    /// The HTTP sources an app declares, grouped by the address they listen on.
    static func declared(in runtime: AppRuntime) throws(Diagnostic) -> [(host: String, port: Int, routes: [Route])] {
        var byAddress: [String: (String, Int, [Route])] = [:]
        var order: [String] = []
        for case .stream(let s) in runtime.app.definitions {
            for source in s.annotations where source.name.lowercased() == "source" && source.value("type")?.lowercased() == "http" {
                let map = source.annotations.first { $0.name.lowercased() == "map" }?.value("type")?.lowercased()
                guard map == nil || map == "json" else {
                    throw Diagnostic("an http source takes JSON: @map(type='\(map!)') is not supported", at: source.range)
                }
                guard let url = source.value("receiver.url"), let parsed = URL(string: url), parsed.scheme == "http",
                      let host = parsed.host, let port = parsed.port else {
                    throw Diagnostic("@source(type='http') needs receiver.url='http://host:port/Path'", at: source.range)
                }
                let key = "\(host):\(port)"
                if byAddress[key] == nil { order.append(key); byAddress[key] = (host, port, []) }
                let path = parsed.path.isEmpty ? "/\(s.name.name)" : parsed.path
                byAddress[key]!.2.append(Route(path: path, stream: runtime.schema(of: s.name.name)!))
            }
        }
        return order.map { byAddress[$0]! }
    }

    func makeApplication() -> some ApplicationProtocol {
        let router = Router()
        for route in routes {
            router.post(RouterPath(route.path)) { request, context -> Response in
                let body = try await request.body.collect(upTo: Self.maxBodyBytes)
                return await self.accept(body, route: route)
            }
        }
        return Application(router: router, configuration: .init(address: .hostname(host, port: port), serverName: "sluice-http"),
                           logger: logger)
    }

    private func accept(_ body: ByteBuffer, route: Route) async -> Response {
        let batch: EventBatch
        do {
            batch = try Self.decode(String(buffer: body), stream: route.stream,
                                    now: Int64(Date().timeIntervalSince1970 * 1000))
        } catch {
            return Self.reply(.badRequest, ["error": error.description])
        }
        let seq = sequence.wrappingIncrementThenLoad(ordering: .relaxed)
        let outcome: String? = await withCheckedContinuation { continuation in
            let reply = ContinuationReply(continuation: continuation)
            if !engine.submit(.batch(stream: route.stream.name, batch: batch, producer: Self.producerID, sequence: seq, reply: reply)) {
                continuation.resume(returning: "the engine is full; retry later")
            }
        }
        if let outcome {
            return Self.reply(outcome.hasPrefix("the engine is full") ? .serviceUnavailable : .badRequest, ["error": outcome])
        }
        return Self.reply(.ok, ["accepted": "\(batch.count)"])
    }

    /// Siddhi's default JSON mapping: `{"event":{…}}` or `[{"event":{…}}, …]`, attributes by name.
    static func decode(_ text: String, stream: StreamSchema, now: Int64) throws(JSONError) -> EventBatch {
        let json = try JSONParser.parse(text)
        let items: [JSONValue]
        if case .array(let a) = json { items = a } else { items = [json] }
        var batch = EventBatch(types: stream.types, capacity: items.count)
        for item in items {
            guard let event = item["event"], case .object = event else {
                throw JSONError(description: "each event must be {\"event\":{…}} with the attributes of '\(stream.name)'")
            }
            let data = stream.attributes.map { event[$0.name] ?? .null }
            let values = try JSONLines.values(data, attributes: stream.attributes.map { ($0.name, $0.type) }, stream: stream.name)
            batch.append(timestamp: now, values: values)
        }
        return batch
    }

    private static func reply(_ status: HTTPResponse.Status, _ fields: [String: String]) -> Response {
        let text = "{" + fields.sorted { $0.key < $1.key }.map { key, value in
            var v = ""
            JSONLines.appendString(value, to: &v)
            return "\"\(key)\":\(Int(value) != nil ? value : v)"
        }.joined(separator: ",") + "}"
        return Response(status: status, headers: [.contentType: "application/json"], body: .init(byteBuffer: ByteBuffer(string: text)))
    }
}

/// Resumes an HTTP request once the engine has applied (nil) or refused (the reason) its events.
struct ContinuationReply: BatchReply {
    let continuation: CheckedContinuation<String?, Never>

    func applied(producer: UInt64, sequence: UInt64, duplicate: Bool) { continuation.resume(returning: nil) }
    func refused(producer: UInt64, sequence: UInt64, reason: String) { continuation.resume(returning: reason) }
}
