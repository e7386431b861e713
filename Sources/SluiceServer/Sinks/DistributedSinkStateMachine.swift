import SluiceCore
import SluiceWire

/// A chunk of events on its way to one destination; actions and tests know it by `id`.
struct SinkChunk: Sendable, CustomStringConvertible {
    var id: UInt64
    var batch: EventBatch
    /// On an HA group's node: which output, and which part of it for this destination, the chunk
    /// carries, so the receiver applies it once however often it is resent.
    var origin: OutputOrigin? = nil
    /// Outside HA groups: the input batch (its derivation root) whose acknowledgement waits for
    /// this chunk (`DeliveryLedger`).
    var root: UInt64? = nil
    var count: Int { batch.count }
    var description: String { "#\(id)(\(count))" }
}

extension SinkChunk: Equatable {
    static func == (a: SinkChunk, b: SinkChunk) -> Bool { a.id == b.id && a.count == b.count }
}

/// The distributed sink's logic as a value: events and outcomes in, actions out, time injected.
/// The shell (`DistributedSink`) carries the actions out with HTTP or the binary protocol.
///
/// Each destination has a bounded FIFO of chunks. Up to `maxInFlight` of its head chunks are out
/// at once (a transport that keeps them in order, like one binary connection, may pipeline; HTTP
/// sends one at a time), and a chunk leaves the FIFO only when it and every chunk before it are
/// acknowledged. A failed send puts the whole window back to be sent again in order (at least
/// once). A failed send is retried with exponential backoff (on a group, first on the
/// next member); with `WAIT` a full buffer makes `offer` answer `.full`, and the engine waits
/// until `.resumeEngine`. Only destinations whose buffers are full stop the engine: the others
/// keep draining what they hold.
struct DistributedSinkStateMachine: Sendable {
    struct Configuration: Sendable, Equatable {
        var strategy: DistributionStrategy
        /// Members per destination: 1 for a url, the group's size for a group.
        var members: [Int]
        var onError: SinkErrorAction = .wait
        /// Events a destination may hold (queued or in flight) before it refuses more.
        var bufferLimit: Int = 10_000
        /// Events per send (one POST or one binary batch).
        var maxBatch: Int = 1_000
        /// Chunks a destination may have sent and not yet acknowledged.
        var maxInFlight: Int = 1
        var initialBackoff: Duration = .milliseconds(50)
        var maxBackoff: Duration = .seconds(2)
        /// With LOG and STREAM, the attempts a chunk gets before it is given up.
        var attempts: Int = 3
        /// Where round-robin starts (tests start it near the integer boundaries).
        var roundRobinStart: UInt64 = 0
        /// Round robin hands each batch whole to the next destination instead of event by event:
        /// a binary batch is one payload, as a batch mapper's is in Siddhi, and splitting it would
        /// copy every column for nothing.
        var wholeBatchRoundRobin = false
    }

    enum Action: Sendable, Equatable {
        case send(destination: Int, member: Int, chunk: SinkChunk)
        /// The chunk no longer holds back its input batch's acknowledgement (`DeliveryLedger`): it
        /// was delivered or given up, or it waits for a destination that is down, whose outage must
        /// not stall the keys of the others. Once per chunk that has a `root`.
        case settled(destination: Int, chunk: SinkChunk)
        /// Call `retryDue(destination:now:)` at `at`.
        case retry(destination: Int, at: Duration)
        /// LOG (or a refusal no retry can fix): log the events and drop them.
        case drop(destination: Int, chunk: SinkChunk, reason: String)
        /// STREAM: the events go to the fault stream.
        case fault(destination: Int, chunk: SinkChunk, reason: String)
        /// A full buffer has room again: the waiting engine may offer its chunk again.
        case resumeEngine
    }

    enum OfferResult: Sendable, Equatable {
        case accepted([Action])
        /// Nothing was taken: `destination` has no room. Wait for `.resumeEngine`, then offer again.
        case full(destination: Int)
    }

    struct Destination: Sendable, Equatable {
        /// The first `inFlight.count` chunks are out (in that order); the rest wait.
        var queue: [SinkChunk] = []
        var queuedEvents = 0
        var inFlight: [UInt64] = []
        /// Chunks acknowledged while one before them is still out.
        var acknowledged: Set<UInt64> = []
        var sending: Bool { !inFlight.isEmpty }
        var retryAt: Duration?
        /// Failed rounds since the last success: the backoff grows with it.
        var failures = 0
        /// Failed attempts of the head chunk.
        var attempts = 0
        /// The group member sends go to: the first one that answers.
        var member = 0
        var membersFailedThisRound = 0
        var isDown: Bool { failures > 0 }
    }

    let configuration: Configuration
    private(set) var destinations: [Destination]
    private var router: DistributionRouter
    private var nextChunkID: UInt64 = 1
    private var engineWaiting = false
    /// Chunks settled while waiting for a destination that is down: not settled again when they go.
    private var settledEarly: Set<UInt64> = []

    init(configuration: Configuration) {
        precondition(!configuration.members.isEmpty && configuration.members.allSatisfy { $0 > 0 })
        self.configuration = configuration
        destinations = Array(repeating: Destination(), count: configuration.members.count)
        router = DistributionRouter(strategy: configuration.strategy, destinationCount: configuration.members.count,
                                    roundRobinStart: configuration.roundRobinStart)
    }

    /// The events the last accepted offer took (queued, or given up at once), summed over the
    /// destinations: what a `DeliveryLedger` holds for it.
    private(set) var lastOfferEvents = 0

    /// Events held for all destinations (queued or in flight).
    var pendingEvents: Int { destinations.reduce(0) { $0 + $1.queuedEvents } }

    /// The oldest HA output some destination still holds a part of (every chunk counts: rerouted
    /// chunks join other queues at their end). Meaningful for an HA group's sequences only.
    var oldestHeldOutput: UInt64? { destinations.lazy.flatMap { $0.queue.lazy.compactMap(\.origin?.sequence) }.min() }

    // MARK: Inputs

    /// The engine publishes a chunk. With WAIT, either every destination that gets rows has room
    /// and all is taken, or nothing is.
    mutating func offer(_ batch: EventBatch, stamp: OutputOrigin? = nil, root: UInt64? = nil, now: Duration) -> OfferResult {
        var router = self.router
        let live = destinations.indices.filter { usableForRoundRobin($0, now: now) }
        // With an identity, round robin gives the whole batch to one destination: its parts are
        // then the same rows whichever node cut them, so the identities mean the same rows.
        let rows = router.route(batch, live: live, whole: stamp != nil || configuration.wholeBatchRoundRobin)
        if configuration.onError == .wait {
            for d in rows.indices where !rows[d].isEmpty && !hasRoom(d, for: rows[d].count) {
                engineWaiting = true
                return .full(destination: d)
            }
        }
        self.router = router
        var actions: [Action] = []
        lastOfferEvents = 0
        for d in rows.indices where !rows[d].isEmpty {
            let part = rows[d].count == batch.count ? batch : batch.gather(rows[d])
            lastOfferEvents += part.count
            if !hasRoom(d, for: part.count) {
                giveUp(makeChunk(part, origin: stamp?.piece(0), root: root), destination: d,
                       reason: "the buffer of \(configuration.bufferLimit) events is full", into: &actions)
                continue
            }
            var start = 0, piecesSoFar: UInt64 = 0
            while start < part.count {
                let end = min(start + configuration.maxBatch, part.count)
                let piece = start == 0 && end == part.count ? part : part.slice(start..<end)
                let chunk = makeChunk(piece, origin: stamp?.piece(piecesSoFar), root: root)
                destinations[d].queue.append(chunk)
                if destinations[d].isDown { settleEarly(chunk, destination: d, into: &actions) }
                piecesSoFar += 1
                destinations[d].queuedEvents += piece.count
                start = end
            }
            pump(d, now: now, into: &actions)
        }
        return .accepted(actions)
    }

    /// The destination took a chunk that is out.
    mutating func sendSucceeded(destination d: Int, chunk id: UInt64, now: Duration) -> [Action] {
        guard destinations[d].inFlight.contains(id) else { return [] }
        var actions: [Action] = []
        destinations[d].acknowledged.insert(id)
        while let head = destinations[d].queue.first, destinations[d].acknowledged.remove(head.id) != nil {
            removeHead(d)
            destinations[d].inFlight.removeFirst()
            settle(head, destination: d, into: &actions)
        }
        destinations[d].failures = 0
        destinations[d].attempts = 0
        destinations[d].membersFailedThisRound = 0
        pump(d, now: now, into: &actions)
        resumeIfWaiting(into: &actions)
        return actions
    }

    /// Sending a chunk that is out failed. `retryable` is false when the destination refused the
    /// events themselves (HTTP 4xx): sending them again cannot help.
    mutating func sendFailed(destination d: Int, chunk id: UInt64, retryable: Bool, reason: String, now: Duration) -> [Action] {
        guard destinations[d].inFlight.contains(id), let failed = destinations[d].queue.first(where: { $0.id == id }) else { return [] }
        var actions: [Action] = []
        guard retryable else {
            destinations[d].inFlight.removeAll { $0 == id }
            if let at = destinations[d].queue.firstIndex(where: { $0.id == id }) {
                destinations[d].queue.remove(at: at)
                destinations[d].queuedEvents -= failed.count
            }
            destinations[d].attempts = 0
            giveUp(failed, destination: d, reason: reason, into: &actions)
            // Chunks acknowledged behind the refused one may now lead the queue.
            while let head = destinations[d].queue.first, destinations[d].acknowledged.remove(head.id) != nil {
                removeHead(d)
                destinations[d].inFlight.removeAll { $0 == head.id }
                settle(head, destination: d, into: &actions)
            }
            pump(d, now: now, into: &actions)
            resumeIfWaiting(into: &actions)
            return actions
        }
        // The whole window goes out again, from the head, in order; late answers for it are ignored.
        let head = destinations[d].queue[0]
        destinations[d].inFlight.removeAll()
        destinations[d].acknowledged.removeAll()
        // A group fails over to its next member at once; a whole round of failures backs off.
        let members = configuration.members[d]
        destinations[d].member = (destinations[d].member + 1) % members
        destinations[d].membersFailedThisRound += 1
        if destinations[d].membersFailedThisRound < members {
            pump(d, now: now, into: &actions)
            return actions
        }
        destinations[d].membersFailedThisRound = 0
        destinations[d].failures += 1
        for chunk in destinations[d].queue { settleEarly(chunk, destination: d, into: &actions) }
        let at = now + backoff(failures: destinations[d].failures)
        if case .roundRobin = configuration.strategy, reroute(from: d, now: now, into: &actions) {
            // Its events went on to the live destinations; the retry timer only ends its backoff.
            destinations[d].attempts = 0
            destinations[d].retryAt = at
            actions.append(.retry(destination: d, at: at))
            return actions
        }
        destinations[d].attempts += 1
        if configuration.onError != .wait && destinations[d].attempts >= configuration.attempts {
            removeHead(d)
            destinations[d].attempts = 0
            giveUp(head, destination: d, reason: "\(reason) (after \(configuration.attempts) attempts)", into: &actions)
            resumeIfWaiting(into: &actions)
        }
        destinations[d].retryAt = at
        actions.append(.retry(destination: d, at: at))
        return actions
    }

    /// A retry timer fired.
    mutating func retryDue(destination d: Int, now: Duration) -> [Action] {
        guard let at = destinations[d].retryAt, now >= at else { return [] }
        destinations[d].retryAt = nil
        var actions: [Action] = []
        pump(d, now: now, into: &actions)
        return actions
    }

    // MARK: Helpers

    /// Round-robin gives events to destinations that are up and, once its backoff has passed, to a
    /// down one that holds nothing: that chunk probes whether it is back (else it is rerouted).
    func usableForRoundRobin(_ d: Int, now: Duration) -> Bool {
        let destination = destinations[d]
        guard destination.isDown else { return true }
        return destination.queue.isEmpty && !destination.sending && destination.retryAt.map { now >= $0 } ?? true
    }

    /// Round-robin's destinations are interchangeable: a down one's chunks (the failed head
    /// included) go on to those that are up, instead of waiting for it, perhaps for ever. The
    /// head may have been applied before its acknowledgement was lost: at least once, as ever.
    /// False when no other destination is up.
    private mutating func reroute(from d: Int, now: Duration, into actions: inout [Action]) -> Bool {
        let targets = destinations.indices.filter { $0 != d && !destinations[$0].isDown }
        guard !targets.isEmpty else { return false }
        for (i, chunk) in destinations[d].queue.enumerated() {
            let t = targets[i % targets.count]
            destinations[t].queue.append(chunk)
            destinations[t].queuedEvents += chunk.count
        }
        destinations[d].queue.removeAll()
        destinations[d].queuedEvents = 0
        for t in targets { pump(t, now: now, into: &actions) }
        // A waiting engine counted on this buffer draining: it did.
        resumeIfWaiting(into: &actions)
        return true
    }

    func hasRoom(_ d: Int, for count: Int) -> Bool {
        let queued = destinations[d].queuedEvents
        return queued == 0 || queued + count <= configuration.bufferLimit
    }

    func backoff(failures: Int) -> Duration {
        var delay = configuration.initialBackoff
        for _ in 1..<max(failures, 1) where delay < configuration.maxBackoff { delay *= 2 }
        return min(delay, configuration.maxBackoff)
    }

    private mutating func makeChunk(_ batch: EventBatch, origin: OutputOrigin? = nil, root: UInt64? = nil) -> SinkChunk {
        defer { nextChunkID &+= 1 }
        return SinkChunk(id: nextChunkID, batch: batch, origin: origin, root: root)
    }



    private mutating func removeHead(_ d: Int) {
        let head = destinations[d].queue.removeFirst()
        destinations[d].queuedEvents -= head.count
    }

    private mutating func pump(_ d: Int, now: Duration, into actions: inout [Action]) {
        if let at = destinations[d].retryAt {
            guard now >= at else { return }
            destinations[d].retryAt = nil
        }
        // A destination that is down probes with its head chunk alone.
        let window = destinations[d].isDown ? 1 : max(1, configuration.maxInFlight)
        while destinations[d].inFlight.count < window, destinations[d].inFlight.count < destinations[d].queue.count {
            let next = destinations[d].queue[destinations[d].inFlight.count]
            destinations[d].inFlight.append(next.id)
            actions.append(.send(destination: d, member: destinations[d].member, chunk: next))
        }
    }

    private mutating func giveUp(_ chunk: SinkChunk, destination d: Int, reason: String, into actions: inout [Action]) {
        if configuration.onError == .stream {
            actions.append(.fault(destination: d, chunk: chunk, reason: reason))
        } else {
            actions.append(.drop(destination: d, chunk: chunk, reason: reason))
        }
        settle(chunk, destination: d, into: &actions)
    }

    /// The chunk left the buffer (delivered or given up).
    private mutating func settle(_ chunk: SinkChunk, destination d: Int, into actions: inout [Action]) {
        guard chunk.root != nil, settledEarly.remove(chunk.id) == nil else { return }
        actions.append(.settled(destination: d, chunk: chunk))
    }

    /// The chunk waits for a destination that is down.
    private mutating func settleEarly(_ chunk: SinkChunk, destination d: Int, into actions: inout [Action]) {
        guard chunk.root != nil, settledEarly.insert(chunk.id).inserted else { return }
        actions.append(.settled(destination: d, chunk: chunk))
    }

    private mutating func resumeIfWaiting(into actions: inout [Action]) {
        guard engineWaiting else { return }
        engineWaiting = false
        actions.append(.resumeEngine)
    }
}
