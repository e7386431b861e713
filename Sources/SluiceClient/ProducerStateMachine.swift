import SluiceCore
import SluiceTransport
import SluiceWire

/// One connection attempt to one endpoint. A new attempt gets a new serial, so events from a
/// connection that was already given up are recognised and ignored.
public struct ConnectionID: Sendable, Hashable, CustomStringConvertible {
    public let endpoint: Int
    public let serial: UInt64

    public init(endpoint: Int, serial: UInt64) {
        self.endpoint = endpoint
        self.serial = serial
    }

    public var description: String { "endpoint \(endpoint) connection \(serial)" }
}

/// Exponential reconnect delays: `initial`, doubling per failure, capped at `maximum`.
public struct Backoff: Sendable, Hashable {
    public var initial: Duration
    public var maximum: Duration
    /// Each delay is shortened by a random fraction of up to `jitter`, so that producers that lost
    /// the same node do not all come back in the same instant (and none waits beyond `maximum`).
    public var jitter: Double

    public init(initial: Duration = .milliseconds(50), maximum: Duration = .seconds(2), jitter: Double = 0.2) {
        self.initial = initial
        self.maximum = maximum
        self.jitter = min(max(jitter, 0), 1)
    }

    /// The delay after `failures` consecutive failures (1 or more), before jitter.
    public func delay(afterFailures failures: Int) -> Duration {
        var d = initial
        for _ in 1..<max(1, failures) {
            d *= 2
            if d >= maximum { return maximum }
        }
        return min(d, maximum)
    }

    /// The delay with jitter applied; `unit` is a uniform draw from 0..<1 (the caller's random
    /// source, so a state machine stays a deterministic value).
    public func delay(afterFailures failures: Int, unit: Double) -> Duration {
        delay(afterFailures: failures) * (1 - jitter * min(max(unit, 0), 1))
    }
}

/// The producer's side of docs/protocol.md as a value: it takes events (a channel came up, a
/// frame arrived, the caller appended an event, a timer fired) and returns the actions the
/// driver must carry out. It holds no batches and no I/O, only sequences, credit and waiters, so
/// every transition is testable as a value.
///
/// Batches get their sequence when sealed (1, 2, …, never reused), wait in `unsent` until some
/// ready connection has credit, then stay in flight on that connection until it acks them. A lost
/// connection puts its in-flight batches back into `unsent`, to go out again on any connection
/// with the same (producer id, sequence), so the node that already applied one only acks it.
public struct ProducerStateMachine: Sendable {
    /// A caller waiting for something; the driver maps it to a promise.
    public typealias Waiter = UInt64

    public struct Configuration: Sendable {
        public var endpoints: [String]
        public var streams: [EventSchema]
        public var producerID: UInt64
        public var authToken: String?
        public var clientName: String
        /// Events per batch before `append` seals it (batches passed whole are sent as they are).
        public var batchSize: Int
        /// Batches in flight across all connections (each connection also obeys its credit).
        public var maxInFlight: Int
        /// Sealed batches waiting for credit before `enqueue` callers wait too.
        public var maxQueued: Int
        public var backoff: Backoff
        /// Sends of one batch before it fails (connections lost under it, retryable Nacks).
        public var maxAttempts: Int

        public init(endpoints: [String], streams: [EventSchema], producerID: UInt64, authToken: String? = nil,
                    clientName: String = "sluice-client", batchSize: Int = 1024, maxInFlight: Int = 64,
                    maxQueued: Int? = nil, backoff: Backoff = Backoff(), maxAttempts: Int = 16) {
            self.endpoints = endpoints
            self.streams = streams
            self.producerID = producerID
            self.authToken = authToken
            self.clientName = clientName
            self.batchSize = max(1, batchSize)
            self.maxInFlight = max(1, maxInFlight)
            self.maxQueued = max(1, maxQueued ?? maxInFlight)
            self.backoff = backoff
            self.maxAttempts = max(1, maxAttempts)
        }
    }

    public enum Action: Sendable, Hashable {
        /// Open a TCP connection to `id.endpoint`; report `channelActive` or `channelInactive`.
        case connect(ConnectionID)
        /// Write a control frame (Hello).
        case write(ConnectionID, Frame)
        /// Encode the sealed batch `sequence` for the node's `streamID` and write it.
        case sendBatch(ConnectionID, sequence: UInt64, streamID: UInt32)
        case close(ConnectionID)
        /// Call `reconnectDue(endpoint:)` after `after`.
        case scheduleReconnect(endpoint: Int, after: Duration)
        /// Call `lingerExpired(stream:generation:)` after the linger time.
        case armLinger(stream: String, generation: UInt64)
        /// The events appended to `stream` so far are now batch `sequence`.
        case seal(stream: String, sequence: UInt64)
        case succeed([Waiter])
        case fail([Waiter], ClientError)
        /// These batches are settled: their data can go.
        case release([UInt64])
    }

    /// What the machine knows about one endpoint.
    enum Link: Sendable, Hashable {
        case idle
        case connecting(ConnectionID, failures: Int)
        case handshaking(ConnectionID, failures: Int)
        case ready(ConnectionID, Session)
        case backingOff(failures: Int)
        /// The node refused us for good (auth, schema, version).
        case refused(ClientError)
        case closed

        var connection: ConnectionID? {
            switch self {
            case .connecting(let id, _), .handshaking(let id, _), .ready(let id, _): id
            default: nil
            }
        }
    }

    struct Session: Sendable, Hashable {
        var window: SendWindow
        var streamIDs: [String: UInt32]
    }

    struct Record: Sendable, Hashable {
        let stream: String
        let events: Int
        var waiters: [Waiter]
        var attempts = 0
        var connection: ConnectionID?
    }

    struct OpenBatch: Sendable, Hashable {
        var events = 0
        var waiters: [Waiter] = []
        var generation: UInt64
    }

    public let configuration: Configuration
    private(set) var links: [Link]
    private var nextSerial: UInt64 = 1
    /// Draws for backoff jitter, seeded by the producer id: deterministic per producer, different across producers.
    private var jitterSource: SplitMix64
    private var nextSequence: UInt64 = 1
    private var lingerGeneration: UInt64 = 0
    private var open: [String: OpenBatch] = [:]
    /// Sealed batches not settled yet, by sequence.
    private var records: [UInt64: Record] = [:]
    /// Sequences waiting for credit, ascending; `unsent[unsentHead...]` is the queue.
    private var unsent: [UInt64] = []
    private var unsentHead = 0
    private var cursor = 0
    private var parked: [Waiter] = []
    private var flushWaiters: [(waiter: Waiter, mark: UInt64)] = []
    private var readyWaiters: [Waiter] = []
    /// Batches that failed, until a flush reports them.
    private var failures: [(sequence: UInt64, error: ClientError)] = []
    private var lastDisconnect: String?
    /// Set once nothing can succeed any more: closed, or refused by every endpoint.
    public private(set) var terminalError: ClientError?

    public private(set) var statistics = ProducerStatistics()

    public init(configuration: Configuration) {
        self.configuration = configuration
        links = Array(repeating: .idle, count: configuration.endpoints.count)
        jitterSource = SplitMix64(seed: configuration.producerID)
    }

    public var inFlight: Int { statistics.inFlight }
    public var queued: Int { unsent.count - unsentHead }
    public var isReady: Bool { links.contains { if case .ready = $0 { true } else { false } } }

    private func knows(_ stream: String) -> Bool { configuration.streams.contains { $0.name == stream } }

    // MARK: Connections

    /// Connects to every endpoint.
    public mutating func start() -> [Action] {
        var actions: [Action] = []
        for e in links.indices where links[e] == .idle { connect(e, failures: 0, into: &actions) }
        return actions
    }

    private mutating func connect(_ endpoint: Int, failures: Int, into actions: inout [Action]) {
        let id = ConnectionID(endpoint: endpoint, serial: nextSerial)
        nextSerial += 1
        links[endpoint] = .connecting(id, failures: failures)
        actions.append(.connect(id))
    }

    /// The TCP connection is up: say Hello.
    public mutating func channelActive(_ id: ConnectionID) -> [Action] {
        guard case .connecting(id, let failures) = links[id.endpoint] else { return [] }
        links[id.endpoint] = .handshaking(id, failures: failures)
        var hello = Sluice_V1_Hello()
        hello.protocolVersion = ControlMessage.protocolVersion
        hello.role = .producer
        hello.authToken = configuration.authToken ?? ""
        hello.clientName = configuration.clientName
        hello.producerID = configuration.producerID
        hello.streams = configuration.streams.map(\.wire)
        return [.write(id, ControlMessage.hello(hello))]
    }

    /// The connection failed to open or closed.
    public mutating func channelInactive(_ id: ConnectionID, reason: String? = nil) -> [Action] {
        guard links[id.endpoint].connection == id else { return [] }
        var actions: [Action] = []
        drop(id, reason: reason ?? "connection to \(endpointName(id.endpoint)) closed", into: &actions)
        return actions
    }

    public mutating func reconnectDue(endpoint: Int) -> [Action] {
        guard terminalError == nil, case .backingOff(let failures) = links[endpoint] else { return [] }
        var actions: [Action] = []
        connect(endpoint, failures: failures, into: &actions)
        return actions
    }

    /// A frame from the node.
    public mutating func received(_ frame: Frame, on id: ConnectionID) -> [Action] {
        var actions: [Action] = []
        switch links[id.endpoint] {
        case .handshaking(id, let failures):
            handshake(frame, on: id, failures: failures, into: &actions)
        case .ready(id, var session):
            do throws(ClientError) {
                try receivedWhileReady(frame, on: id, session: &session, into: &actions)
            } catch {
                drop(id, reason: error.message, fatal: error.code == .authFailed || error.code == .schemaMismatch ? error : nil,
                     close: true, into: &actions)
            }
        default:
            break
        }
        return actions
    }

    private mutating func handshake(_ frame: Frame, on id: ConnectionID, failures: Int, into actions: inout [Action]) {
        let name = endpointName(id.endpoint)
        switch frame.kind {
        case .welcome:
            guard let welcome = try? frame.message(as: Sluice_V1_Welcome.self) else {
                drop(id, reason: "\(name) sent a Welcome that does not parse", close: true, into: &actions)
                return
            }
            switch bind(welcome, endpoint: name) {
            case .failure(let error):
                drop(id, reason: error.message, fatal: error, close: true, into: &actions)
            case .success(let streamIDs):
                links[id.endpoint] = .ready(id, Session(window: SendWindow(initialCredit: Int(welcome.initialCredit)), streamIDs: streamIDs))
                if !readyWaiters.isEmpty {
                    actions.append(.succeed(readyWaiters))
                    readyWaiters = []
                }
                dispatch(into: &actions)
            }
        case .error:
            guard let error = try? frame.message(as: Sluice_V1_Error.self) else {
                drop(id, reason: "\(name) sent an Error that does not parse", close: true, into: &actions)
                return
            }
            let clientError = ClientError.fromWire(error, endpoint: name)
            // An HA follower: ask again soon, at the first backoff step, since it may lead any moment.
            drop(id, reason: clientError.message, fatal: ClientError.isFatal(error.code) ? clientError : nil,
                 close: true, failuresOverride: error.code == .notLeader ? 1 : nil, into: &actions)
        default:
            drop(id, reason: "\(name) sent \(frame.kind) before Welcome", close: true, into: &actions)
        }
    }

    /// The node's stream ids for our streams, checking that it bound each with our schema.
    private func bind(_ welcome: Sluice_V1_Welcome, endpoint: String) -> Result<[String: UInt32], ClientError> {
        guard welcome.protocolVersion == ControlMessage.protocolVersion else {
            return .failure(ClientError(.protocolError, "\(endpoint) speaks protocol version \(welcome.protocolVersion), this client \(ControlMessage.protocolVersion)"))
        }
        var ids: [String: UInt32] = [:]
        for s in configuration.streams {
            guard let binding = welcome.streams.first(where: { $0.schema.name == s.name }) else {
                return .failure(ClientError(.schemaMismatch, "\(endpoint) did not bind stream '\(s.name)'"))
            }
            // A node that echoes no schema binds by name only.
            if !binding.schema.attributes.isEmpty {
                guard let theirs = EventSchema(wire: binding.schema) else {
                    return .failure(ClientError(.schemaMismatch, "\(endpoint) bound '\(s.name)' with an attribute type this client does not know"))
                }
                if let diff = s.difference(from: theirs) {
                    return .failure(ClientError(.schemaMismatch, "\(endpoint): \(diff)"))
                }
            }
            ids[s.name] = binding.streamID
        }
        return .success(ids)
    }

    private mutating func receivedWhileReady(_ frame: Frame, on id: ConnectionID, session: inout Session,
                                             into actions: inout [Action]) throws(ClientError) {
        let name = endpointName(id.endpoint)
        switch frame.kind {
        case .ack:
            let ack = try decode(Sluice_V1_Ack.self, frame, from: name)
            guard ack.producerID == configuration.producerID,
                  session.window.acknowledged(ack.sequence) == .retired else { return }
            links[id.endpoint] = .ready(id, session)
            settle(ack.sequence, into: &actions)
        case .nack:
            let nack = try decode(Sluice_V1_Nack.self, frame, from: name)
            guard nack.producerID == configuration.producerID,
                  session.window.acknowledged(nack.sequence) == .retired else { return }
            links[id.endpoint] = .ready(id, session)
            statistics.inFlight -= 1
            records[nack.sequence]?.connection = nil
            let reason = "\(name) refused batch \(nack.sequence): \(nack.reason) [wire error \(nack.code.rawValue)]"
            if nack.retryable {
                requeue([nack.sequence], reason: reason, into: &actions)
            } else {
                fail(nack.sequence, ClientError(.rejected, reason), into: &actions)
            }
        case .credit:
            let credit = try decode(Sluice_V1_Credit.self, frame, from: name)
            session.window.granted(Int(credit.batches))
            links[id.endpoint] = .ready(id, session)
        case .error:
            let error = try decode(Sluice_V1_Error.self, frame, from: name)
            throw ClientError.fromWire(error, endpoint: name)
        default:
            throw ClientError(.protocolError, "\(name) sent an unexpected \(frame.kind) frame to a producer")
        }
        dispatch(into: &actions)
        resolveFlushes(into: &actions)
    }

    private func decode<M: WireMessage>(_ type: M.Type, _ frame: Frame, from endpoint: String) throws(ClientError) -> M {
        do {
            return try frame.message(as: M.self)
        } catch {
            throw ClientError(.protocolError, "\(endpoint): \(error)")
        }
    }

    /// Gives up on a connection: its batches in flight go back to the queue, and the endpoint
    /// waits to reconnect, or stays refused when `fatal`.
    private mutating func drop(_ id: ConnectionID, reason: String, fatal: ClientError? = nil, close: Bool = false,
                               failuresOverride: Int? = nil, into actions: inout [Action]) {
        let e = id.endpoint
        var failures: Int
        switch links[e] {
        case .connecting(id, let f), .handshaking(id, let f):
            failures = f + 1
        case .ready(id, var session):
            failures = 1
            let lost = session.window.connectionLost()
            statistics.inFlight -= lost.count
            for s in lost { records[s]?.connection = nil }
            requeue(lost, reason: reason, into: &actions)
        default:
            return
        }
        if let failuresOverride { failures = failuresOverride }
        if close { actions.append(.close(id)) }
        lastDisconnect = reason
        if let fatal {
            links[e] = .refused(fatal)
            if links.allSatisfy({ if case .refused = $0 { true } else { false } }) {
                let first = links.lazy.compactMap { if case .refused(let err) = $0 { err } else { nil } }.first ?? fatal
                terminate(first, into: &actions)
                return
            }
        } else {
            failures = max(1, failures)
            links[e] = .backingOff(failures: failures)
            let unit = jitterSource.unit()
            actions.append(.scheduleReconnect(endpoint: e, after: configuration.backoff.delay(afterFailures: failures, unit: unit)))
        }
        failReadyWaitersIfHopeless(into: &actions)
        dispatch(into: &actions)
        resolveFlushes(into: &actions)
    }

    /// `connect()` callers learn of failure once every endpoint has been tried and none is up.
    private mutating func failReadyWaitersIfHopeless(into actions: inout [Action]) {
        guard !readyWaiters.isEmpty else { return }
        let trying = links.contains {
            switch $0 {
            case .idle, .connecting, .handshaking, .ready: true
            default: false
            }
        }
        guard !trying else { return }
        let refusal = links.lazy.compactMap { if case .refused(let err) = $0 { err } else { nil } }.first
        let error = refusal ?? ClientError(.connectionFailed, "no endpoint reachable: \(lastDisconnect ?? "every connection failed")")
        actions.append(.fail(readyWaiters, error))
        readyWaiters = []
    }

    // MARK: Callers

    /// Succeeds `waiter` once some endpoint has welcomed us; fails it when every endpoint has
    /// been tried and none did (the producer keeps retrying in the background).
    public mutating func waitUntilReady(_ waiter: Waiter) -> [Action] {
        if let terminalError { return [.fail([waiter], terminalError)] }
        if isReady { return [.succeed([waiter])] }
        readyWaiters.append(waiter)
        var actions: [Action] = []
        failReadyWaitersIfHopeless(into: &actions)
        return actions
    }

    /// One event was appended to `stream`'s open batch (the driver keeps its data). `waiter` is
    /// settled with the batch; `admission` as soon as the queue has room.
    public mutating func append(stream: String, waiter: Waiter?, admission: Waiter?) -> [Action] {
        let waiters = [waiter, admission].compactMap { $0 }
        if let terminalError { return waiters.isEmpty ? [] : [.fail(waiters, terminalError)] }
        guard knows(stream) else {
            return waiters.isEmpty ? [] : [.fail(waiters, ClientError(.unknownStream, "stream '\(stream)' was not declared to this producer"))]
        }
        var actions: [Action] = []
        var batch = open[stream] ?? OpenBatch(generation: 0)
        if batch.events == 0 {
            lingerGeneration += 1
            batch.generation = lingerGeneration
            actions.append(.armLinger(stream: stream, generation: lingerGeneration))
        }
        batch.events += 1
        if let waiter { batch.waiters.append(waiter) }
        open[stream] = batch
        if batch.events >= configuration.batchSize { seal(stream, into: &actions) }
        dispatch(into: &actions)
        admit(admission, into: &actions)
        return actions
    }

    public mutating func lingerExpired(stream: String, generation: UInt64) -> [Action] {
        guard let batch = open[stream], batch.generation == generation, batch.events > 0 else { return [] }
        var actions: [Action] = []
        seal(stream, into: &actions)
        dispatch(into: &actions)
        return actions
    }

    /// A whole batch of `events` for `stream`. Returns its sequence (nil when nothing is sent: no
    /// events, or the producer is done); the driver must store its data under that sequence
    /// before carrying out the actions. Events appended to the stream before go out first.
    public mutating func submit(stream: String, events: Int, waiter: Waiter?, admission: Waiter?) -> (sequence: UInt64?, actions: [Action]) {
        let waiters = [waiter, admission].compactMap { $0 }
        if let terminalError { return (nil, waiters.isEmpty ? [] : [.fail(waiters, terminalError)]) }
        guard knows(stream) else {
            return (nil, waiters.isEmpty ? [] : [.fail(waiters, ClientError(.unknownStream, "stream '\(stream)' was not declared to this producer"))])
        }
        var actions: [Action] = []
        if (open[stream]?.events ?? 0) > 0 { seal(stream, into: &actions) }
        guard events > 0 else {
            if !waiters.isEmpty { actions.append(.succeed(waiters)) }
            return (nil, actions)
        }
        let sequence = enqueueNew(stream: stream, events: events, waiters: waiter.map { [$0] } ?? [])
        dispatch(into: &actions)
        admit(admission, into: &actions)
        return (sequence, actions)
    }

    /// Seals every open batch and succeeds `waiter` once every batch sealed so far is settled
    /// (fails it with the first batch that failed).
    public mutating func flush(_ waiter: Waiter) -> [Action] {
        if let terminalError { return [.fail([waiter], terminalError)] }
        var actions: [Action] = []
        for stream in open.keys.sorted() where open[stream]!.events > 0 { seal(stream, into: &actions) }
        flushWaiters.append((waiter, nextSequence - 1))
        dispatch(into: &actions)
        resolveFlushes(into: &actions)
        return actions
    }

    /// The driver could not encode batch `sequence` for `id`: it never left, so its credit comes
    /// back and it fails.
    public mutating func abandon(_ sequence: UInt64, on id: ConnectionID, error: ClientError) -> [Action] {
        guard case .ready(id, var session) = links[id.endpoint], session.window.acknowledged(sequence) == .retired else { return [] }
        links[id.endpoint] = .ready(id, session)
        statistics.inFlight -= 1
        var actions: [Action] = []
        fail(sequence, error, into: &actions)
        dispatch(into: &actions)
        resolveFlushes(into: &actions)
        return actions
    }

    /// Stops everything: waiters fail with `.closed`, connections close, nothing reconnects.
    public mutating func close() -> [Action] {
        guard terminalError == nil || links.contains(where: { $0.connection != nil }) else { return [] }
        var actions: [Action] = []
        for e in links.indices {
            if let id = links[e].connection { actions.append(.close(id)) }
            links[e] = .closed
        }
        terminate(ClientError(.closed, "the producer was closed"), into: &actions)
        return actions
    }

    // MARK: Batches

    private mutating func seal(_ stream: String, into actions: inout [Action]) {
        guard let batch = open.removeValue(forKey: stream), batch.events > 0 else { return }
        let sequence = enqueueNew(stream: stream, events: batch.events, waiters: batch.waiters)
        actions.append(.seal(stream: stream, sequence: sequence))
    }

    private mutating func enqueueNew(stream: String, events: Int, waiters: [Waiter]) -> UInt64 {
        let sequence = nextSequence
        nextSequence += 1
        records[sequence] = Record(stream: stream, events: events, waiters: waiters)
        unsent.append(sequence)
        statistics.sealedBatches += 1
        statistics.sealedEvents += events
        return sequence
    }

    /// Puts batches back in the queue in sequence order, failing those sent too often.
    private mutating func requeue(_ sequences: [UInt64], reason: String, into actions: inout [Action]) {
        var back: [UInt64] = []
        for s in sequences {
            guard let r = records[s] else { continue }
            if r.attempts >= configuration.maxAttempts {
                fail(s, ClientError(.rejected, "batch \(s) was sent \(r.attempts) times without an ack; last: \(reason)"), into: &actions)
            } else {
                back.append(s)
            }
        }
        guard !back.isEmpty else { return }
        var merged = back.sorted()
        merged.append(contentsOf: unsent[unsentHead...])
        merged.sort()
        unsent = merged
        unsentHead = 0
    }

    /// Sends queued batches, oldest first, round-robin over ready connections with credit.
    private mutating func dispatch(into actions: inout [Action]) {
        let n = links.count
        while unsentHead < unsent.count, statistics.inFlight < configuration.maxInFlight {
            let sequence = unsent[unsentHead]
            guard var record = records[sequence] else {
                unsentHead += 1
                continue
            }
            var chosen: (ConnectionID, Session, UInt32)?
            for step in 0..<n {
                let e = (cursor + step) % n
                if case .ready(let id, let session) = links[e], session.window.canSend,
                   let streamID = session.streamIDs[record.stream] {
                    chosen = (id, session, streamID)
                    break
                }
            }
            guard let (id, session, streamID) = chosen else { break }
            var s = session
            _ = s.window.sent(sequence)
            links[id.endpoint] = .ready(id, s)
            cursor = (id.endpoint + 1) % n
            unsentHead += 1
            record.attempts += 1
            record.connection = id
            records[sequence] = record
            statistics.inFlight += 1
            statistics.sentBatches += 1
            if record.attempts > 1 { statistics.resentBatches += 1 }
            actions.append(.sendBatch(id, sequence: sequence, streamID: streamID))
        }
        if unsentHead == unsent.count {
            unsent.removeAll(keepingCapacity: true)
            unsentHead = 0
        } else if unsentHead > 1024, unsentHead * 2 > unsent.count {
            unsent.removeFirst(unsentHead)
            unsentHead = 0
        }
        releaseParked(into: &actions)
    }

    private mutating func admit(_ admission: Waiter?, into actions: inout [Action]) {
        guard let admission else { return }
        if parked.isEmpty, queued <= configuration.maxQueued {
            actions.append(.succeed([admission]))
        } else {
            parked.append(admission)
        }
    }

    private mutating func releaseParked(into actions: inout [Action]) {
        // Parked callers' batches are queued already: once the queue is back to its bound, they
        // may all go on.
        guard !parked.isEmpty, queued <= configuration.maxQueued else { return }
        actions.append(.succeed(parked))
        parked = []
    }

    /// The batch was acknowledged.
    private mutating func settle(_ sequence: UInt64, into actions: inout [Action]) {
        guard let record = records.removeValue(forKey: sequence) else { return }
        statistics.inFlight -= 1
        statistics.ackedBatches += 1
        statistics.ackedEvents += record.events
        if !record.waiters.isEmpty { actions.append(.succeed(record.waiters)) }
        actions.append(.release([sequence]))
    }

    private mutating func fail(_ sequence: UInt64, _ error: ClientError, into actions: inout [Action]) {
        guard let record = records.removeValue(forKey: sequence) else { return }
        statistics.failedBatches += 1
        statistics.failedEvents += record.events
        if !record.waiters.isEmpty { actions.append(.fail(record.waiters, error)) }
        actions.append(.release([sequence]))
        if failures.count < 64 { failures.append((sequence, error)) }
    }

    private mutating func resolveFlushes(into actions: inout [Action]) {
        guard !flushWaiters.isEmpty else { return }
        let lowest = records.keys.min() ?? .max
        var remaining: [(waiter: Waiter, mark: UInt64)] = []
        for f in flushWaiters {
            guard f.mark < lowest else {
                remaining.append(f)
                continue
            }
            if let first = failures.first(where: { $0.sequence <= f.mark }) {
                failures.removeAll { $0.sequence <= f.mark }
                actions.append(.fail([f.waiter], first.error))
            } else {
                actions.append(.succeed([f.waiter]))
            }
        }
        flushWaiters = remaining
    }

    /// Fails every waiter and forgets every batch: nothing can be delivered any more.
    private mutating func terminate(_ error: ClientError, into actions: inout [Action]) {
        terminalError = error
        var waiters: [Waiter] = []
        for s in records.keys.sorted() { waiters += records[s]!.waiters }
        for stream in open.keys.sorted() { waiters += open[stream]!.waiters }
        waiters += parked + flushWaiters.map(\.waiter) + readyWaiters
        let settled = records.keys.sorted()
        statistics.failedBatches += records.count
        statistics.failedEvents += records.values.reduce(0) { $0 + $1.events }
        records = [:]
        open = [:]
        unsent = []
        unsentHead = 0
        parked = []
        flushWaiters = []
        readyWaiters = []
        failures = []
        statistics.inFlight = 0
        for e in links.indices {
            if case .backingOff = links[e] { links[e] = .closed }
        }
        if !waiters.isEmpty { actions.append(.fail(waiters, error)) }
        if !settled.isEmpty { actions.append(.release(settled)) }
    }

    private func endpointName(_ e: Int) -> String {
        e < configuration.endpoints.count ? configuration.endpoints[e] : "endpoint \(e)"
    }
}

/// Counters of a producer's batches.
public struct ProducerStatistics: Sendable, Hashable {
    public var sealedBatches = 0
    public var sealedEvents = 0
    /// Batch sends, resends included.
    public var sentBatches = 0
    public var resentBatches = 0
    public var ackedBatches = 0
    public var ackedEvents = 0
    public var failedBatches = 0
    public var failedEvents = 0
    public var inFlight = 0

    public init() {}
}
