import Foundation
import SluiceClient
import SluiceCore
import SluiceQL
import SluiceRuntime

/// A sink that `DistributedSink` carries out: every `@sink(type='http', …)`, and every
/// `@sink(type='tcp', …)` with `@distribution(…)` or `on.error`, read from the app's annotations:
///
/// ```
/// @sink(type='http', on.error='WAIT', buffer.size='10000', batch.size='1000', @map(type='json'),
///       @distribution(strategy='partitioned', partitionKey='userTenantDomain',
///           @destination(publisher.url='http://10.0.0.1:8009/Request'),
///           @destination(group='g2')))
/// ```
struct SinkDeclaration: Sendable {
    enum Transport: Sendable, Equatable {
        case http(urls: [[String]])
        case tcp(targets: [[TcpSinkTransport.Target]])
    }

    var stream: StreamSchema
    /// Stable names (the url as written, or the group's name): partitioning keys on them.
    var destinationNames: [String]
    var transport: Transport
    var configuration: DistributedSinkStateMachine.Configuration

    /// JSON posts stay small; a binary batch travels as one columnar frame, so a tcp sink keeps the
    /// engine's chunks whole (up to the SDK's 4,096-event batches) and room for four in flight.
    static func defaultBufferSize(http: Bool) -> Int { http ? 10_000 : 16_384 }
    static func defaultBatchSize(http: Bool) -> Int { http ? 1_000 : 4_096 }

    /// The distributed and http sinks of `app`. `groups` are the node config's `groups:`.
    static func declared(in app: SiddhiApp, schema: (String) -> StreamSchema?,
                         groups: [String: [HostPort]]) throws(Diagnostic) -> [SinkDeclaration] {
        var out: [SinkDeclaration] = []
        for case .stream(let s) in app.definitions {
            for sink in s.annotations where sink.name.lowercased() == "sink" {
                let type = sink.value("type")?.lowercased()
                let distribution = sink.annotations.first { $0.name.lowercased() == "distribution" }
                guard type == "http" || (type == "tcp" && Self.needsDistributedSink(sink)) else { continue }
                out.append(try parse(sink, http: type == "http", distribution: distribution,
                                     stream: schema(s.name.name)!, groups: groups))
            }
        }
        return out
    }

    /// A tcp sink goes through `DistributedSink` when it distributes or chooses its `on.error`;
    /// a plain one stays a `TcpSink` (the SDK producer's own WAIT).
    static func needsDistributedSink(_ sink: Annotation) -> Bool {
        sink.value("on.error") != nil || sink.annotations.contains { $0.name.lowercased() == "distribution" }
    }

    private static func parse(_ sink: Annotation, http: Bool, distribution: Annotation?, stream: StreamSchema,
                              groups: [String: [HostPort]]) throws(Diagnostic) -> SinkDeclaration {
        let map = sink.annotations.first { $0.name.lowercased() == "map" }?.value("type")?.lowercased()
        let format = http ? "json" : "binary"
        guard map == nil || map == format else {
            throw Diagnostic("a \(http ? "http" : "tcp") sink carries \(format): @map(type='\(map!)') is not supported", at: sink.range)
        }
        let urlKey = http ? "publisher.url" : "url"
        var onError = SinkErrorAction.wait
        if let text = sink.value("on.error") {
            guard let action = SinkErrorAction(rawValue: text.uppercased()) else {
                throw Diagnostic("on.error must be LOG, WAIT or STREAM, found '\(text)'", at: sink.range)
            }
            onError = action
        }
        func positive(_ key: String, _ fallback: Int) throws(Diagnostic) -> Int {
            guard let text = sink.value(key) else { return fallback }
            guard let n = Int(text), n > 0 else { throw Diagnostic("\(key) must be a positive number of events, found '\(text)'", at: sink.range) }
            return n
        }
        let bufferSize = try positive("buffer.size", Self.defaultBufferSize(http: http))
        let batchSize = try positive("batch.size", Self.defaultBatchSize(http: http))

        // Destinations: the @destination list, or the sink's own url.
        let specs: [Annotation]
        var strategy = DistributionStrategy.roundRobin
        var keyColumn: Int?
        if let distribution {
            specs = distribution.annotations.filter { $0.name.lowercased() == "destination" }
            guard !specs.isEmpty else { throw Diagnostic("@distribution needs at least one @destination(…)", at: distribution.range) }
            switch distribution.value("strategy")?.lowercased() {
            case "roundrobin": strategy = .roundRobin
            case "broadcast": strategy = .broadcast
            case "partitioned":
                guard let key = distribution.value("partitionKey") else {
                    throw Diagnostic("strategy='partitioned' needs partitionKey='attribute'", at: distribution.range)
                }
                guard let index = stream.attributes.firstIndex(where: { $0.name == key }) else {
                    throw Diagnostic("partitionKey '\(key)' is not an attribute of '\(stream.name)'", at: distribution.range)
                }
                keyColumn = index
            case let other:
                throw Diagnostic("@distribution strategy must be 'roundRobin', 'partitioned' or 'broadcast'"
                                 + (other.map { ", found '\($0)'" } ?? ""), at: distribution.range)
            }
        } else {
            specs = [sink]
        }

        var names: [String] = []
        var httpURLs: [[String]] = []
        var tcpTargets: [[TcpSinkTransport.Target]] = []
        for spec in specs {
            if let group = spec.value("group") {
                guard let members = groups[group], !members.isEmpty else {
                    throw Diagnostic("group '\(group)' is not in the node config's groups: section", at: spec.range)
                }
                names.append(group)
                if http {
                    let path = sink.value(urlKey).flatMap { URL(string: $0)?.path }.flatMap { $0.isEmpty ? nil : $0 } ?? "/\(stream.name)"
                    httpURLs.append(members.map { "http://\($0)\(path)" })
                } else {
                    let target = sink.value(urlKey).flatMap(TcpSink.parse)?.stream ?? stream.name
                    // One producer over the whole group: followers refuse it, so it follows the leader and
                    // keeps its batches' identity across a failover (the new leader dedups the retries).
                    tcpTargets.append([.init(endpoints: members.map { Endpoint(host: $0.host, port: $0.port) }, stream: target)])
                }
                continue
            }
            guard let url = spec.value(urlKey) else {
                throw Diagnostic("\(spec.name == sink.name ? "@sink" : "@destination")(…) needs \(urlKey)='\(http ? "http://host:port/Path" : "tcp://host:port/Stream")' or group='name'",
                                 at: spec.range)
            }
            names.append(url)
            if http {
                guard let parsed = URL(string: url), ["http", "https"].contains(parsed.scheme?.lowercased() ?? ""), parsed.host != nil else {
                    throw Diagnostic("'\(url)' is not an http://host:port/Path url", at: spec.range)
                }
                httpURLs.append([url])
            } else {
                guard let target = TcpSink.parse(url) else { throw Diagnostic("'\(url)' is not a tcp://host:port/Stream url", at: spec.range) }
                tcpTargets.append([.init(endpoints: [target.endpoint], stream: target.stream)])
            }
        }
        guard Set(names).count == names.count else {
            throw Diagnostic("the destinations of a sink must differ; '\(names.first { n in names.filter { $0 == n }.count > 1 }!)' is listed twice",
                             at: distribution?.range ?? sink.range)
        }
        if let keyColumn { strategy = .partitioned(keyColumn: keyColumn, map: PartitionMap(destinations: names)) }
        let members = http ? httpURLs.map(\.count) : tcpTargets.map(\.count)
        return SinkDeclaration(
            stream: stream, destinationNames: names,
            transport: http ? .http(urls: httpURLs) : .tcp(targets: tcpTargets),
            configuration: .init(strategy: strategy, members: members, onError: onError, bufferLimit: bufferSize, maxBatch: batchSize,
                                 wholeBatchRoundRobin: !http))
    }
}
