import Atomics
import Foundation
import Logging
import NIOCore
import NIOPosix
import ServiceLifecycle
import SluiceCluster
import SluiceCore
import SluiceQL
import SluiceRuntime
import SluiceStores
import SluiceTransport
import SluiceWire

/// What a node runs and where it listens.
public struct NodeConfiguration: Sendable {
    public var nodeID: String
    public var host: String
    /// 0 picks a free port (tests).
    public var port: Int
    public var appSource: String
    public var authToken: String?
    /// Batches a producer may have in flight.
    public var credit: Int
    /// How often the node feeds the wall clock to the engine as a tick.
    public var tickInterval: Duration
    public var limits: WireLimits
    /// Node groups by name, for sinks whose `@destination(group='g1')` names one.
    public var groups: [String: [HostPort]]
    /// Set when the node is a data node of an HA group.
    public var ha: HAConfiguration?
    /// Set when the node also votes as the witness of HA groups (DESIGN.md: a partitioner can).
    public var witness: WitnessHosting?
    /// The node's own files (`node.dataDir`): `@store` tables' SQLite files go under it.
    /// Without one, `./data/<nodeID>`.
    public var dataDirectory: String?
    /// How `@store` tables retry a database that is down.
    public var storeRetry = StoreRetry()

    public init(nodeID: String = "node", host: String = "127.0.0.1", port: Int = 7701, appSource: String,
                authToken: String? = nil, credit: Int = 32, tickInterval: Duration = .milliseconds(100),
                limits: WireLimits = .default, groups: [String: [HostPort]] = [:]) {
        self.nodeID = nodeID
        self.host = host
        self.port = port
        self.appSource = appSource
        self.authToken = authToken
        self.credit = credit
        self.tickInterval = tickInterval
        self.limits = limits
        self.groups = groups
    }
}

/// A data node's HA group settings (the node config's `cluster:` section).
public struct HAConfiguration: Sendable {
    public var group: GroupConfiguration
    public var peerAddress: HostPort
    public var witnessAddress: HostPort?
    /// Where the term, the vote and the boot counter are kept.
    public var dataDirectory: String

    public init(group: GroupConfiguration, peerAddress: HostPort, witnessAddress: HostPort?, dataDirectory: String) {
        self.group = group
        self.peerAddress = peerAddress
        self.witnessAddress = witnessAddress
        self.dataDirectory = dataDirectory
    }
}

/// A node that is also the witness of HA groups: where it keeps their votes, and how long a
/// leader may stay silent (the groups' heartbeatInterval × heartbeatMaxRetry).
public struct WitnessHosting: Sendable {
    public var dataDirectory: String
    public var failureTimeout: Duration

    public init(dataDirectory: String, failureTimeout: Duration = .milliseconds(300)) {
        self.dataDirectory = dataDirectory
        self.failureTimeout = failureTimeout
    }
}

/// A server node: one app on an engine thread, a TCP port speaking the binary protocol.
/// As a `Service` it runs until graceful shutdown (SIGTERM under a `ServiceGroup`).
public final class Node: Service, @unchecked Sendable {
    public let configuration: NodeConfiguration
    private let logger: Logger
    private let engine: EngineLoop
    private let group: MultiThreadedEventLoopGroup
    private var channel: Channel?
    private var ticker: RepeatedTask?
    private let nextConnectionID = ManagedAtomic<UInt64>(1)
    private let inputs: [ConnectionStateMachine.StreamEntry]
    private let outputs: [ConnectionStateMachine.StreamEntry]
    private let sinkTargets: [(stream: StreamSchema, target: TcpSink.Target)]
    private var sinks: [TcpSink] = []
    private let distributedDeclared: [SinkDeclaration]
    private var distributedSinks: [DistributedSink] = []
    private let faultSequence = ManagedAtomic<UInt64>(0)
    private let httpDeclared: [(host: String, port: Int, routes: [HTTPSource.Route])]
    private var httpServers: [Task<Void, Error>] = []
    private var driver: GroupDriver?
    private var witness: WitnessService?

    /// Deploys the app; an invalid app throws its `Diagnostic` before anything listens.
    public init(configuration: NodeConfiguration, logger: Logger = Logger(label: "sluice.node")) throws(Diagnostic) {
        self.configuration = configuration
        self.logger = logger
        // A group's replicas each keep their own copy of a stored table (RDBMSStores.allowsSharedDatabases).
        let stores = RDBMSStores(dataDirectory: configuration.dataDirectory ?? "data/\(configuration.nodeID)",
                                 retry: configuration.storeRetry, allowsSharedDatabases: configuration.ha == nil, logger: logger)
        let runtime = try AppRuntime(source: configuration.appSource, stores: stores.provider)
        let inputNames = Set(runtime.definedStreams.map(\.name))
        func entry(_ s: StreamSchema) -> ConnectionStateMachine.StreamEntry {
            .init(name: s.name, attributes: s.attributes.map { .init(name: $0.name, type: $0.type) })
        }
        inputs = Self.binaryInputs(runtime).map(entry)
        outputs = runtime.streams.filter { !inputNames.contains($0.name) }.map(entry)
        sinkTargets = try TcpSink.targets(in: runtime.app).map { (runtime.schema(of: $0.stream)!, $0.target) }
        httpDeclared = try HTTPSource.declared(in: runtime)
        distributedDeclared = try SinkDeclaration.declared(in: runtime.app, schema: runtime.schema(of:), groups: configuration.groups)
        if configuration.ha != nil {
            for case .stream(let s) in runtime.app.definitions {
                for source in s.annotations where source.name.lowercased() == "source" && source.value("type")?.lowercased() == "http" {
                    throw Diagnostic("an HA group's node takes input only through its replicated log: move @source(type='http') to a stateless node",
                                     at: source.range)
                }
            }
        }
        let outputNames = outputs.map(\.name)
        engine = EngineLoop(runtime: runtime, haOutputs: configuration.ha.map { ($0.group.groupID, outputNames) }, logger: logger)
        group = MultiThreadedEventLoopGroup(numberOfThreads: 1)
    }

    /// The streams producers may send binary batches to: those declared with
    /// `@source(type='tcp', @map(type='binary'))`, Siddhi's names for it. An app that declares no
    /// source at all takes binary batches on every defined stream.
    static func binaryInputs(_ runtime: AppRuntime) -> [StreamSchema] {
        var sources: [String: [Annotation]] = [:]
        for case .stream(let s) in runtime.app.definitions {
            sources[s.name.name] = s.annotations.filter { $0.name.lowercased() == "source" }
        }
        guard sources.values.contains(where: { !$0.isEmpty }) else { return runtime.definedStreams }
        return runtime.definedStreams.filter { schema in
            (sources[schema.name] ?? []).contains { source in
                let map = source.annotations.first { $0.name.lowercased() == "map" }?.value("type")?.lowercased()
                return source.value("type")?.lowercased() == "tcp" && (map == nil || map == "binary")
            }
        }
    }

    /// Starts the engine and listens. Returns the bound port.
    @discardableResult
    public func start() async throws -> Int {
        engine.start(name: "sluice-engine")
        for (stream, target) in sinkTargets {
            let sink = try TcpSink(source: stream, target: target, logger: logger, acknowledgements: engine.acknowledgements)
            sinks.append(sink)
            while !engine.submit(.subscribe(stream: stream.name, subscriber: sink)) { await Task.yield() }
            logger.info("sink", metadata: ["stream": "\(stream.name)", "to": "\(target.endpoint)/\(target.stream)"])
        }
        for (index, declared) in distributedDeclared.enumerated() {
            let sink = makeDistributedSink(declared, index: index)
            distributedSinks.append(sink)
            while !engine.submit(.subscribe(stream: declared.stream.name, subscriber: sink)) { await Task.yield() }
            logger.info("sink", metadata: ["stream": "\(declared.stream.name)", "to": "\(declared.destinationNames)",
                                           "strategy": "\(declared.configuration.strategy.name)"])
        }
        let config = configuration
        let engine = self.engine
        let logger = self.logger
        let inputs = self.inputs, outputs = self.outputs
        let ids = nextConnectionID
        let connections = openConnections
        let codec = FrameCodec(limits: config.limits)
        let loop = group.next()
        if let ha = config.ha {
            let driver = try GroupDriver(settings: .init(group: ha.group, peerAddress: ha.peerAddress, witnessAddress: ha.witnessAddress,
                                                         dataDirectory: ha.dataDirectory, authToken: config.authToken, limits: config.limits),
                                         engine: engine, inputs: inputs, loop: loop, logger: logger)
            for sink in distributedSinks { driver.registerSink { sink.deliveredOutput } }
            for sink in sinks { driver.registerSink { sink.deliveredOutput } }
            self.driver = driver
        }
        if let hosting = config.witness {
            witness = try WitnessService(selfID: "\(config.host):\(config.port)", dataDirectory: hosting.dataDirectory,
                                         failureTimeout: hosting.failureTimeout, logger: logger)
        }
        let driver = self.driver, witness = self.witness
        let bootstrap = ServerBootstrap(group: group)
            .serverChannelOption(ChannelOptions.backlog, value: 256)
            .serverChannelOption(ChannelOptions.socketOption(.so_reuseaddr), value: 1)
            .childChannelOption(ChannelOptions.socketOption(.tcp_nodelay), value: 1)
            .childChannelInitializer { channel in
                FramePipeline.configure(channel, codec: codec).flatMapThrowing {
                    let machine = ConnectionStateMachine(nodeID: config.nodeID, authToken: config.authToken,
                                                         credit: config.credit, inputs: inputs, outputs: outputs,
                                                         acceptsPeers: driver != nil || witness != nil)
                    let handler = NodeConnectionHandler(machine: machine, engine: engine, limits: config.limits,
                                                        subscriberID: ids.loadThenWrappingIncrement(ordering: .relaxed),
                                                        driver: driver, witness: witness, logger: logger)
                    try channel.pipeline.syncOperations.addHandler(handler)
                    connections.wrappingIncrement(ordering: .relaxed)
                    channel.closeFuture.whenComplete { _ in connections.wrappingDecrement(ordering: .relaxed) }
                }
            }
        for declared in httpDeclared {
            let source = HTTPSource(host: declared.host, port: declared.port, routes: declared.routes, engine: engine, logger: logger)
            let app = source.makeApplication()
            httpServers.append(Task { try await app.run() })
            logger.info("http source", metadata: ["address": "\(declared.host):\(declared.port)",
                                                  "paths": "\(declared.routes.map(\.path))"])
        }
        let channel = try await bootstrap.bind(host: config.host, port: config.port).get()
        self.channel = channel
        if let driver { try await loop.submit { driver.start(codec: codec) }.get() }
        let interval = TimeAmount.nanoseconds(Int64(config.tickInterval.components.seconds) * 1_000_000_000
                                              + config.tickInterval.components.attoseconds / 1_000_000_000)
        // The node, not the engine, reads the wall clock: it enters the engine as ticks.
        // In an HA group the leader logs the tick, so that both nodes apply the same time.
        ticker = loop.scheduleRepeatedTask(initialDelay: interval, delay: interval) { _ in
            let millis = Int64(Date().timeIntervalSince1970 * 1000)
            if let driver { driver.liveTick(millis: millis) } else { _ = engine.submit(.tick(millis)) }
        }
        let port = channel.localAddress?.port ?? config.port
        boundPort.store(port, ordering: .releasing)
        logger.info("listening", metadata: ["address": "\(config.host):\(port)", "node": "\(config.nodeID)"])
        return port
    }

    public func run() async throws {
        try await start()
        try? await gracefulShutdown()
        try await shutdown()
    }

    /// Stops accepting, lets the engine apply what it took, and releases the threads.
    public func shutdown() async throws {
        boundPort.store(0, ordering: .releasing)
        for server in httpServers { server.cancel() }
        for server in httpServers { _ = try? await server.value }
        httpServers = []
        ticker?.cancel()
        ticker = nil
        if let driver { try? await driver.loop.submit { driver.stop() }.get() }
        try? await channel?.close()
        channel = nil
        engine.stop()
        for sink in sinks { await sink.close() }
        sinks = []
        for sink in distributedSinks { await sink.close() }
        distributedSinks = []
        try await group.shutdownGracefully()
    }

    private func makeDistributedSink(_ declared: SinkDeclaration, index: Int) -> DistributedSink {
        let transport: any SinkTransport
        switch declared.transport {
        case .http(let urls): transport = HTTPSinkTransport(urls: urls, attributeNames: declared.stream.attributes.map(\.name))
        case .tcp(let targets): transport = TcpSinkTransport(targets: targets, schema: declared.stream)
        }
        // STREAM: failed events enter the engine again, on `!Stream`, as a producer of their own.
        let engine = self.engine, sequence = faultSequence
        let faultStream = AppRuntime.faultSchema(of: declared.stream).name
        let producer = UInt64.max - 1 - UInt64(index)
        var configuration = declared.configuration
        configuration.maxInFlight = transport.maxInFlight
        return DistributedSink(stream: declared.stream.name, configuration: configuration,
                               destinationNames: declared.destinationNames, transport: transport, logger: logger,
                               acknowledgements: engine.acknowledgements) { batch, reason in
            var faults = batch
            faults.columns.append(Column(repeating: .string(reason), type: .string, count: batch.count))
            let command = EngineCommand.batch(stream: faultStream, batch: faults, producer: producer,
                                              sequence: sequence.wrappingIncrementThenLoad(ordering: .relaxed), reply: IgnoredReply())
            while !engine.submit(command) { usleep(100) }
        }
    }

    /// Events applied and emitted so far.
    public var counters: (eventsIn: Int, eventsOut: Int, batchesIn: Int) {
        (engine.eventsIn.load(ordering: .relaxed), engine.eventsOut.load(ordering: .relaxed), engine.batchesIn.load(ordering: .relaxed))
    }

    /// A snapshot of what the node runs and has done, for `/status` and `/metrics`.
    /// Runs an on-demand query on the engine's thread, between batches. A member of an HA group
    /// answers finds only: a write there would change one replica and not the other.
    public func query(_ text: String) async -> Result<OnDemandResult, RuntimeError> {
        let readOnly = driver != nil
        return await withCheckedContinuation { continuation in
            let command = EngineCommand.query(text, readOnly: readOnly) { continuation.resume(returning: $0) }
            while !engine.submit(command) { usleep(100) }
        }
    }

    public func status() -> NodeStatus {
        NodeStatus(nodeID: configuration.nodeID, app: engine.runtime.name,
                   inputStreams: inputs.map(\.name), outputStreams: outputs.map(\.name),
                   eventsIn: engine.eventsIn.load(ordering: .relaxed), eventsOut: engine.eventsOut.load(ordering: .relaxed),
                   batchesIn: engine.batchesIn.load(ordering: .relaxed),
                   connections: openConnections.load(ordering: .relaxed),
                   listeningPort: boundPort.load(ordering: .acquiring), backlog: engine.backlog,
                   subscriptions: engine.subscriptions.withLockedValue { $0 }, ha: driver?.status,
                   storeWriteFailures: engine.storeWriteFailures.load(ordering: .relaxed))
    }

    let openConnections = ManagedAtomic<Int>(0)
    /// The port the node listens on; 0 before `start` and from `shutdown` on.
    private let boundPort = ManagedAtomic<Int>(0)
}

/// What `/status` reports.
public struct NodeStatus: Sendable, Codable, Hashable {
    public var nodeID: String
    public var app: String
    public var inputStreams: [String]
    public var outputStreams: [String]
    public var eventsIn: Int
    public var eventsOut: Int
    public var batchesIn: Int
    public var connections: Int
    /// The bound port while the node accepts connections, 0 otherwise.
    public var listeningPort: Int
    /// Commands waiting for the engine: how far it lags what the network has handed it.
    public var backlog: Int
    /// Outputs attached per output stream: subscribers and this node's own sinks.
    public var subscriptions: [String: Int]
    /// The node's HA group, term and role, when it is a data node of one.
    public var ha: HAStatus?
    /// Writes to `@store` tables that their database refused, retried ones included.
    public var storeWriteFailures: Int? = nil
    public var isListening: Bool { listeningPort != 0 }
}

/// For batches nobody waits on.
struct IgnoredReply: BatchReply {
    func applied(producer: UInt64, sequence: UInt64, duplicate: Bool) {}
    func refused(producer: UInt64, sequence: UInt64, reason: String) {}
}
