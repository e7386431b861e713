import Dispatch
import Logging
import NIOConcurrencyHelpers
import NIOCore
import SluiceClient
import SluiceCore
import SluiceQL
import SluiceRuntime
import SluiceWire

/// `@sink(type='tcp', url='tcp://host:port/Stream', @map(type='binary'))`: a stream's output goes
/// to another node over the binary protocol, through the SDK's producer (batching, credit, acks,
/// resend). When the destination cannot keep up or is down, the engine thread waits for room
/// (Siddhi's WAIT): back-pressure reaches the producers that feed this node, and nothing is dropped.
final class TcpSink: OutputSubscriber, @unchecked Sendable {
    let id: UInt64 = 0
    struct Target: Sendable, Equatable {
        var endpoint: Endpoint
        var stream: String
    }

    let source: String
    let target: Target
    private let producer: Producer
    private let room: DispatchSemaphore
    private let continuation: AsyncStream<(EventBatch, OutputOrigin?, UInt64?)>.Continuation
    private let acknowledgements: SinkAcknowledgements?
    private let drain: Task<Void, Never>
    /// HA: every output through this sequence was acknowledged downstream.
    private let delivered = NIOLockedValueBox<UInt64?>(nil)

    /// `capacity` batches may wait between the engine and the producer.
    /// `acknowledgements`: outside HA groups, where acknowledged batches release their input
    /// batches' acknowledgements.
    init(source: StreamSchema, target: Target, capacity: Int = 64, logger: Logger, acknowledgements: SinkAcknowledgements? = nil) throws {
        self.source = source.name
        self.acknowledgements = acknowledgements
        self.target = target
        let schema = EventSchema(name: target.stream, attributes: source.attributes.map { .init($0.name, $0.type) })
        let producer = try Producer(endpoints: [target.endpoint], streams: [schema], clientName: "sluice-sink")
        self.producer = producer
        let room = DispatchSemaphore(value: capacity)
        self.room = room
        let (stream, continuation) = AsyncStream<(EventBatch, OutputOrigin?, UInt64?)>.makeStream()
        self.continuation = continuation
        let name = target.stream
        let delivered = self.delivered
        drain = Task {
            // Each batch goes out with its identity, if any, and its own acknowledgement; at most
            // `capacity` wait unacknowledged. The producer retries a dead destination itself: a
            // failure here is one it gave up on.
            var window: [(sequence: UInt64?, acknowledged: EventLoopFuture<Void>)] = []
            func settleOldest() async {
                let (sequence, acknowledged) = window.removeFirst()
                do {
                    try await acknowledged.get()
                    if let sequence { delivered.withLockedValue { $0 = max($0 ?? 0, sequence) } }
                } catch {
                    logger.error("sink to \(target.endpoint) '\(name)' failed: \(error)")
                }
            }
            for await (batch, stamp, root) in stream {
                for (k, part) in BatchSplitter.parts(of: batch, limits: .default).enumerated() {
                    let acknowledged = producer.submit(stream: name, batch: part, origin: stamp?.piece(UInt64(k)))
                    // As soon as it is acknowledged (or given up: the producer's retries are over),
                    // not when the window next moves.
                    if let root, let acknowledgements {
                        let events = part.count
                        acknowledged.whenComplete { _ in acknowledgements.settle(root, events: events) }
                    }
                    window.append((stamp?.sequence, acknowledged))
                }
                while window.count > capacity { await settleOldest() }
                room.signal()
            }
            while !window.isEmpty { await settleOldest() }
        }
    }

    /// On the engine thread: waits for room, then hands the chunk over.
    func deliver(_ batch: EventBatch, stamp: OutputOrigin?) {
        deliver(batch, stamp: stamp, root: nil)
    }

    func deliver(_ batch: EventBatch, stamp: OutputOrigin?, root: UInt64?) {
        let current = (0..<batch.count).filter { batch.kinds[$0] == .current }
        guard !current.isEmpty else { return }
        room.wait()
        let held = root.flatMap { acknowledgements == nil ? nil : $0 }
        if let held { acknowledgements?.hold(held, events: current.count) }
        continuation.yield((current.count == batch.count ? batch : batch.gather(current), stamp, held))
    }

    /// HA: every output through this sequence was taken downstream (nil: none yet).
    var deliveredOutput: UInt64? { delivered.withLockedValue { $0 } }

    /// Sends what is queued and waits for its acknowledgements.
    func close() async {
        continuation.finish()
        await drain.value
        try? await producer.flush()
        await producer.close()
    }

    /// The sinks an app declares: `@sink(type='tcp', url='tcp://host:port/Stream')`.
    static func targets(in app: SiddhiApp) throws(Diagnostic) -> [(stream: String, target: Target)] {
        var out: [(String, Target)] = []
        for case .stream(let s) in app.definitions {
            for sink in s.annotations where sink.name.lowercased() == "sink" && sink.value("type")?.lowercased() == "tcp"
                && !SinkDeclaration.needsDistributedSink(sink) {
                let map = sink.annotations.first { $0.name.lowercased() == "map" }?.value("type")?.lowercased()
                guard map == nil || map == "binary" else {
                    throw Diagnostic("a tcp sink carries binary batches: @map(type='\(map!)') is not supported", at: sink.range)
                }
                guard let url = sink.value("url") else {
                    throw Diagnostic("@sink(type='tcp') needs url='tcp://host:port/Stream'", at: sink.range)
                }
                guard let target = parse(url) else {
                    throw Diagnostic("'\(url)' is not a tcp://host:port/Stream url", at: sink.range)
                }
                out.append((s.name.name, target))
            }
        }
        return out
    }

    static func parse(_ url: String) -> Target? {
        guard url.lowercased().hasPrefix("tcp://") else { return nil }
        let rest = url.dropFirst("tcp://".count)
        guard let slash = rest.firstIndex(of: "/") else { return nil }
        let stream = String(rest[rest.index(after: slash)...])
        guard !stream.isEmpty, let endpoint = try? Endpoint(parsing: String(rest[..<slash])) else { return nil }
        return Target(endpoint: endpoint, stream: stream)
    }
}
