import AsyncHTTPClient
import Foundation
import NIOCore
import SluiceCore
import SluiceWire

/// Posts chunks as Siddhi's JSON mapping (`{"event":{…}}`, or an array of them) with
/// AsyncHTTPClient, whose pool keeps connections alive between posts.
final class HTTPSinkTransport: SinkTransport {
    /// The url of each member of each destination.
    let urls: [[String]]
    let attributeNames: [String]
    private let client: HTTPClient
    private let requestTimeout: TimeAmount

    init(urls: [[String]], attributeNames: [String], connectTimeout: TimeAmount = .seconds(1),
         requestTimeout: TimeAmount = .seconds(10)) {
        self.urls = urls
        self.attributeNames = attributeNames
        self.requestTimeout = requestTimeout
        var configuration = HTTPClient.Configuration(timeout: .init(connect: connectTimeout, read: requestTimeout))
        configuration.connectionPool = .init(idleTimeout: .seconds(60), concurrentHTTP1ConnectionsPerHostSoftLimit: 4)
        // The sink's state machine retries and fails over itself; a refused connection must surface now.
        configuration.connectionPool.retryConnectionEstablishment = false
        client = HTTPClient(eventLoopGroup: HTTPClient.defaultEventLoopGroup, configuration: configuration)
    }

    /// Concurrent posts may be applied out of order, so one at a time per destination.
    var maxInFlight: Int { 1 }

    func start(_ batch: EventBatch, origin: OutputOrigin?, destination: Int, member: Int,
               completion: @escaping @Sendable (SinkSendError?) -> Void) {
        Task {
            do throws(SinkSendError) {
                try await send(batch, destination: destination, member: member)
                completion(nil)
            } catch {
                completion(error)
            }
        }
    }

    func send(_ batch: EventBatch, destination: Int, member: Int) async throws(SinkSendError) {
        let url = urls[destination][member]
        var request = HTTPClientRequest(url: url)
        request.method = .POST
        request.headers.add(name: "Content-Type", value: "application/json")
        request.body = .bytes(ByteBuffer(string: SiddhiEventJSON.encode(batch, names: attributeNames)))
        let status: UInt
        let answer: String
        do {
            let response = try await client.execute(request, timeout: requestTimeout)
            status = response.status.code
            answer = String(buffer: try await response.body.collect(upTo: 64 << 10))
        } catch {
            throw SinkSendError(retryable: true, description: "POST \(url): \(error)")
        }
        switch status {
        case 200..<300: return
        // Busy or broken for now: worth another try.
        case 408, 429, 500...: throw SinkSendError(retryable: true, description: "POST \(url): \(status) \(answer)")
        default: throw SinkSendError(retryable: false, description: "POST \(url) refused the events: \(status) \(answer)")
        }
    }

    func shutdown() async {
        try? await client.shutdown()
    }
}
