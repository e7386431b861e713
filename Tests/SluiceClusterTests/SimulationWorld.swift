import SluiceWire
@testable import SluiceCluster

/// A deterministic world for the real machines: two data nodes, a witness and a downstream
/// receiver, a seeded scheduler, a simulated network (delay, drop, duplicate, reorder, partitions)
/// and disk, crashes that keep only what was persisted, and SIGSTOP-style pauses. Invariants are
/// checked as it runs; a violation is recorded with the seed so it reproduces.
struct SimulationWorld {
    struct NetworkProfile {
        var minDelayMs: Int64 = 1
        var maxDelayMs: Int64 = 15
        var dropRate = 0.0
        var duplicateRate = 0.0
        static let perfect = NetworkProfile(minDelayMs: 1, maxDelayMs: 1)
    }

    enum Payload {
        case cluster(ClusterMessage)
        case output(OutputIdentity, batch: UInt64)
        case outputAck(through: UInt64)
    }

    enum Event {
        case deliver(from: NodeID, to: NodeID, Payload)
        case persisted(NodeID, incarnation: UInt64, PersistentState)
        case witnessPersisted(incarnation: UInt64, Witness.State)
        case tick(NodeID)
        case produce
        case engineTick
        case resume(NodeID)
        case restart(NodeID)
        case heal(from: NodeID, to: NodeID)
    }

    /// The engine stand-in: applies entries in order; every batch makes one output whose sequence
    /// is its position among applied batches, the same on every replica.
    struct Engine {
        var appliedIndex: UInt64 = 0
        var batches: [UInt64] = []
        var snapshot: [UInt8] {
            var bytes: [UInt8] = []
            for v in [appliedIndex] + batches { withUnsafeBytes(of: v.littleEndian) { bytes += $0 } }
            return bytes
        }
        init() {}
        init(snapshot bytes: [UInt8]) {
            var values: [UInt64] = []
            var i = 0
            while i + 8 <= bytes.count {
                var v: UInt64 = 0
                for k in 0..<8 { v |= UInt64(bytes[i + k]) << (8 * k) }
                values.append(v)
                i += 8
            }
            appliedIndex = values.first ?? 0
            batches = Array(values.dropFirst())
        }
    }

    struct DataNode {
        var member: GroupMember?
        var disk = PersistentState()
        var incarnation: UInt64 = 0
        var engine = Engine()
        /// Batches this node accepted while leading, by index, not yet acknowledged.
        var pending: [UInt64: UInt64] = [:]
        var outputTerm: Term?
        var lastOutputResend = MonotonicInstant.zero
    }

    static let group = "g1"
    let seed: UInt64
    var network: NetworkProfile
    let configurations: [NodeID: GroupConfiguration]
    let witnessID: NodeID?
    var now = MonotonicInstant.zero
    var rng: SeededRandom
    private var queue = EventQueue<Event>()
    var nodes: [NodeID: DataNode] = [:]
    var witness: Witness?
    var witnessDisk = Witness.State()
    var witnessIncarnation: UInt64 = 0
    var blocked: Set<[NodeID]> = []
    var pausedUntil: [NodeID: MonotonicInstant] = [:]
    private var deferred: [NodeID: [Event]] = [:]
    private var scheduledTick: [NodeID: MonotonicInstant] = [:]
    /// A disk completes writes in the order they were issued.
    private var diskFreeAt: [NodeID: MonotonicInstant] = [:]
    var producing = true
    var produceEveryMs: Int64 = 15

    // What the checker saw.
    var violations: [String] = []
    var leaderOfTerm: [Term: NodeID] = [:]
    var durableTerm: [NodeID: Term] = [:]
    var acknowledged: [UInt64: UInt64] = [:]   // batch id → index it was acknowledged at
    var committedAt: [UInt64: LogEntry] = [:]  // index → the entry every replica must apply there
    var delivered = OutputDeduplicator()
    var deliveredBatches: [UInt64: UInt64] = [:]  // output sequence → batch id, as delivered
    var deliveredCount: [UInt64: Int] = [:]
    var leadersElected: [(at: MonotonicInstant, node: NodeID, term: Term)] = []
    var nextBatch: UInt64 = 1
    var submitted = 0

    init(seed: UInt64, network: NetworkProfile = NetworkProfile(), withWitness: Bool = true,
         replication: ReplicationMode = .sync, maxRetainedEntries: Int = 64) {
        self.seed = seed
        self.network = network
        rng = SeededRandom(seed: seed ^ 0x5EED)
        witnessID = withWitness ? "w" : nil
        var configs: [NodeID: GroupConfiguration] = [:]
        for (me, peer) in [("a", "b"), ("b", "a")] {
            configs[me] = GroupConfiguration(groupID: Self.group, selfID: me, peerID: peer, witnessID: witnessID,
                                             replication: replication, maxEntriesPerAppend: 32,
                                             maxRetainedEntries: maxRetainedEntries)
        }
        configurations = configs
        for id in ["a", "b"] {
            nodes[id] = DataNode()
            boot(id)
        }
        if withWitness { witness = Witness(selfID: "w", persisted: witnessDisk) }
        queue.push(.produce, at: .milliseconds(produceEveryMs))
        queue.push(.engineTick, at: .milliseconds(100))
    }

    // MARK: Running

    mutating func run(until end: MonotonicInstant) {
        while let next = queue.peekTime(), next <= end, let (time, event) = queue.pop() {
            now = max(now, time)
            handle(event)
            checkCheapInvariants()
        }
        now = max(now, end)
    }

    mutating func run(forMs ms: Int64) { run(until: now + .milliseconds(ms)) }

    private func isPaused(_ id: NodeID) -> Bool { (pausedUntil[id] ?? .zero) > now }

    private mutating func handle(_ event: Event) {
        switch event {
        case .deliver(_, let to, _), .persisted(let to, _, _), .tick(let to):
            if isPaused(to) { deferred[to, default: []].append(event); return }
        case .witnessPersisted:
            if isPaused("w") { deferred["w", default: []].append(event); return }
        default: break
        }
        switch event {
        case .deliver(let from, let to, let payload): deliver(payload, from: from, to: to)
        case .persisted(let id, let incarnation, let state):
            guard nodes[id]?.incarnation == incarnation, nodes[id]?.member != nil else { return }
            nodes[id]!.disk = state
            if state.term < (durableTerm[id] ?? 0) { violations.append("seed \(seed): \(id)'s durable term went back from \(durableTerm[id]!) to \(state.term)") }
            durableTerm[id] = state.term
            let actions = nodes[id]!.member!.persisted(state, now: now)
            perform(actions, at: id)
        case .witnessPersisted(let incarnation, let state):
            guard witnessIncarnation == incarnation, witness != nil else { return }
            witnessDisk = state
            perform(witness!.persisted(state))
        case .tick(let id):
            scheduledTick[id] = nil
            guard nodes[id]?.member != nil else { return }
            let actions = nodes[id]!.member!.tick(now: now)
            perform(actions, at: id)
            resendOutputs(id)
        case .produce:
            produce()
            queue.push(.produce, at: now + .milliseconds(produceEveryMs))
        case .engineTick:
            for id in ["a", "b"] where nodes[id]?.member?.isLeader == true && !isPaused(id) {
                let (_, actions) = nodes[id]!.member!.appendTick(millis: now.nanoseconds / 1_000_000, now: now)
                perform(actions, at: id)
            }
            queue.push(.engineTick, at: now + .milliseconds(100))
        case .resume(let id):
            guard !isPaused(id) else { return }
            let backlog = deferred.removeValue(forKey: id) ?? []
            // The woken process sees its timers first, as a real one would after SIGCONT.
            if nodes[id]?.member != nil { handle(.tick(id)) }
            for e in backlog { handle(e) }
        case .restart(let id):
            restart(id)
        case .heal(let from, let to):
            blocked.remove([from, to])
        }
    }

    // MARK: Faults

    /// Kills `id` now; it restarts with only its disk after `downMs`.
    mutating func crash(_ id: NodeID, downMs: Int64) {
        if id == "w" {
            witness = nil
            witnessIncarnation += 1
        } else {
            nodes[id]!.member = nil
            nodes[id]!.incarnation += 1
            nodes[id]!.engine = Engine()
            nodes[id]!.pending = [:]
            nodes[id]!.outputTerm = nil
        }
        deferred[id] = nil
        pausedUntil[id] = nil
        queue.push(.restart(id), at: now + .milliseconds(downMs))
    }

    private mutating func restart(_ id: NodeID) {
        if id == "w" {
            if witness == nil { witness = Witness(selfID: "w", persisted: witnessDisk) }
            return
        }
        guard nodes[id]?.member == nil else { return }
        boot(id)
    }

    private mutating func boot(_ id: NodeID) {
        let node = nodes[id]!
        nodes[id]!.member = GroupMember(configuration: configurations[id]!, persisted: node.disk, incarnation: node.incarnation,
                                        now: now, seed: seed &* 31 &+ UInt64(id.unicodeScalars.first!.value) &+ node.incarnation)
        scheduleTick(id)
    }

    /// Stops `id` like SIGSTOP: nothing it receives or times is handled until `ms` later.
    mutating func pause(_ id: NodeID, forMs ms: Int64) {
        pausedUntil[id] = now + .milliseconds(ms)
        queue.push(.resume(id), at: now + .milliseconds(ms))
    }

    /// Drops everything from `from` to `to` for `ms` (one way; call twice for both).
    mutating func block(from: NodeID, to: NodeID, forMs ms: Int64) {
        blocked.insert([from, to])
        queue.push(.heal(from: from, to: to), at: now + .milliseconds(ms))
    }

    // MARK: Network

    private mutating func send(_ payload: Payload, from: NodeID, to: NodeID) {
        if blocked.contains([from, to]) { return }
        if network.dropRate > 0, Double(rng.next() % 10_000) / 10_000 < network.dropRate { return }
        let copies = network.duplicateRate > 0 && Double(rng.next() % 10_000) / 10_000 < network.duplicateRate ? 2 : 1
        for _ in 0..<copies {
            let span = UInt64(max(0, network.maxDelayMs - network.minDelayMs) * 1_000_000 + 1)
            let delay = network.minDelayMs * 1_000_000 + Int64(rng.next() % span)
            queue.push(.deliver(from: from, to: to, payload), at: now + .nanoseconds(delay))
        }
    }

    private mutating func deliver(_ payload: Payload, from: NodeID, to: NodeID) {
        // A partition that began after the send still loses what was in flight.
        if blocked.contains([from, to]) { return }
        switch payload {
        case .cluster(let message):
            if to == "w" {
                guard witness != nil else { return }
                perform(witness!.received(message, from: from, now: now))
            } else {
                guard nodes[to]?.member != nil else { return }
                let actions = nodes[to]!.member!.received(message, from: from, now: now)
                perform(actions, at: to)
            }
        case .output(let identity, let batch):
            receiveOutput(identity, batch: batch, from: from)
        case .outputAck(let through):
            guard nodes[to]?.member != nil else { return }
            let actions = nodes[to]!.member!.outputsDelivered(through: through, now: now)
            perform(actions, at: to)
        }
    }

    // MARK: Drivers

    private mutating func perform(_ actions: [Witness.Action]) {
        for action in actions {
            switch action {
            case .persist(let state):
                queue.push(.witnessPersisted(incarnation: witnessIncarnation, state), at: diskWrite("w", latencyMs: 1))
            case .send(let to, let message):
                send(.cluster(message), from: "w", to: to)
            }
        }
    }

    private mutating func perform(_ actions: [GroupMember.Action], at id: NodeID) {
        for action in actions {
            switch action {
            case .persist(let state):
                let latency = 1 + Int64(rng.next() % 3)
                queue.push(.persisted(id, incarnation: nodes[id]!.incarnation, state), at: diskWrite(id, latencyMs: latency))
            case .send(let to, let message):
                send(.cluster(message), from: id, to: to)
            case .lead(let term, let after):
                nodes[id]!.pending = [:]
                nodes[id]!.outputTerm = term
                if let other = leaderOfTerm[term], other != id {
                    violations.append("seed \(seed): two leaders in term \(term): \(other) and \(id)")
                }
                leaderOfTerm[term] = id
                leadersElected.append((now, id, term))
                checkLeaderHoldsAcknowledged(id)
                sendOutputs(id, after: after)
            case .stepDown:
                nodes[id]!.pending = [:]
                nodes[id]!.outputTerm = nil
            case .apply(let entries):
                for entry in entries { apply(entry, at: id) }
            case .acknowledge(let through):
                for (index, batch) in nodes[id]!.pending where index <= through {
                    acknowledged[batch] = index
                    nodes[id]!.pending[index] = nil
                }
            case .restoreSnapshot(let data, let position):
                nodes[id]!.engine = Engine(snapshot: data)
                if nodes[id]!.engine.appliedIndex != position.index {
                    violations.append("seed \(seed): \(id) restored a snapshot of \(nodes[id]!.engine.appliedIndex) as \(position)")
                }
            case .captureSnapshot:
                let engine = nodes[id]!.engine
                let term = nodes[id]!.member!.log.term(at: engine.appliedIndex) ?? committedAt[engine.appliedIndex]?.term ?? 0
                let follow = nodes[id]!.member!.snapshotCaptured(engine.snapshot, through: LogPosition(term: term, index: engine.appliedIndex), now: now)
                perform(follow, at: id)
            case .releaseOutputs:
                break
            }
        }
        scheduleTick(id)
    }

    private mutating func diskWrite(_ id: NodeID, latencyMs: Int64) -> MonotonicInstant {
        let done = max(now, diskFreeAt[id] ?? .zero) + .milliseconds(latencyMs)
        diskFreeAt[id] = done
        return done
    }

    private mutating func scheduleTick(_ id: NodeID) {
        guard let member = nodes[id]?.member else { return }
        let due = max(member.nextDeadline, now)
        if let scheduled = scheduledTick[id], scheduled <= due { return }
        scheduledTick[id] = due
        queue.push(.tick(id), at: due)
    }

    private mutating func apply(_ entry: LogEntry, at id: NodeID) {
        if let known = committedAt[entry.index], known != entry {
            violations.append("seed \(seed): \(id) applied \(entry.record) at \(entry.position) where \(known.record)@\(known.term) was committed")
        }
        committedAt[entry.index] = entry
        if entry.index != nodes[id]!.engine.appliedIndex + 1 {
            violations.append("seed \(seed): \(id) applied \(entry.index) after \(nodes[id]!.engine.appliedIndex)")
        }
        nodes[id]!.engine.appliedIndex = entry.index
        if case .batch(let bytes) = entry.record {
            nodes[id]!.engine.batches.append(Self.batchID(bytes))
            if let term = nodes[id]!.outputTerm {
                let sequence = UInt64(nodes[id]!.engine.batches.count)
                send(.output(OutputIdentity(group: Self.group, term: term, sequence: sequence), batch: Self.batchID(bytes)), from: id, to: "d")
            }
        }
    }

    private mutating func produce() {
        guard producing else { return }
        let leaders = ["a", "b"].filter { nodes[$0]?.member?.isLeader == true && !isPaused($0) }
        guard !leaders.isEmpty else { return }
        let id = leaders[Int(rng.next() % UInt64(leaders.count))]
        let batch = nextBatch
        nextBatch += 1
        submitted += 1
        let (index, actions) = nodes[id]!.member!.appendBatch(Self.bytes(batch), now: now)
        if let index { nodes[id]!.pending[index] = batch }
        perform(actions, at: id)
    }

    // MARK: Outputs

    private mutating func sendOutputs(_ id: NodeID, after: UInt64) {
        guard let term = nodes[id]!.outputTerm else { return }
        let batches = nodes[id]!.engine.batches
        guard after < UInt64(batches.count) else { return }
        for sequence in (after + 1)...min(UInt64(batches.count), after + 64) {
            send(.output(OutputIdentity(group: Self.group, term: term, sequence: sequence), batch: batches[Int(sequence - 1)]), from: id, to: "d")
        }
        nodes[id]!.lastOutputResend = now
    }

    /// A leader resends what downstream has not confirmed, in order, every interval.
    private mutating func resendOutputs(_ id: NodeID) {
        guard let member = nodes[id]?.member, member.isLeader, now - nodes[id]!.lastOutputResend >= .milliseconds(100) else { return }
        sendOutputs(id, after: member.deliveredOutput)
    }

    private mutating func receiveOutput(_ identity: OutputIdentity, batch: UInt64, from: NodeID) {
        switch delivered.receive(identity) {
        case .accept:
            deliveredBatches[identity.sequence] = batch
            deliveredCount[identity.sequence, default: 0] += 1
            if deliveredCount[identity.sequence]! > 1 { violations.append("seed \(seed): output \(identity) delivered twice") }
            send(.outputAck(through: identity.sequence), from: "d", to: from)
        case .duplicate:
            if deliveredBatches[identity.sequence] != batch {
                violations.append("seed \(seed): output \(identity) carries batch \(batch), delivered earlier as \(deliveredBatches[identity.sequence] ?? 0)")
            }
            send(.outputAck(through: delivered.applied[Self.group] ?? 0), from: "d", to: from)
        case .fenced, .gap:
            break
        }
    }

    // MARK: Invariants

    private mutating func checkCheapInvariants() {
        for (id, node) in nodes {
            guard let member = node.member, member.isLeader else { continue }
            if let other = leaderOfTerm[member.term], other != id {
                violations.append("seed \(seed): \(id) leads term \(member.term), which \(other) led")
                leaderOfTerm[member.term] = id
            }
        }
    }

    /// Leader completeness: every acknowledged batch is in the new leader's engine or log.
    mutating func checkLeaderHoldsAcknowledged(_ id: NodeID) {
        guard let member = nodes[id]?.member else { return }
        var held = Set(nodes[id]!.engine.batches)
        for entry in member.log.entries { if case .batch(let bytes) = entry.record { held.insert(Self.batchID(bytes)) } }
        for (batch, index) in acknowledged where !held.contains(batch) {
            violations.append("seed \(seed): leader \(id) of term \(member.term) lost batch \(batch) acknowledged at index \(index)")
        }
    }

    func leaders() -> [NodeID] { ["a", "b"].filter { nodes[$0]?.member?.isLeader == true } }

    static func bytes(_ batch: UInt64) -> [UInt8] { withUnsafeBytes(of: batch.littleEndian) { Array($0) } }
    static func batchID(_ bytes: [UInt8]) -> UInt64 {
        var v: UInt64 = 0
        for (k, b) in bytes.prefix(8).enumerated() { v |= UInt64(b) << (8 * k) }
        return v
    }
}

/// A binary min-heap of events by (time, insertion order): equal times keep their order, so a
/// seed always replays the same schedule.
struct EventQueue<Element> {
    private var heap: [(time: MonotonicInstant, order: UInt64, element: Element)] = []
    private var counter: UInt64 = 0

    var isEmpty: Bool { heap.isEmpty }

    func peekTime() -> MonotonicInstant? { heap.first?.time }

    private func less(_ i: Int, _ j: Int) -> Bool {
        (heap[i].time, heap[i].order) < (heap[j].time, heap[j].order)
    }

    mutating func push(_ element: Element, at time: MonotonicInstant) {
        counter += 1
        heap.append((time, counter, element))
        var i = heap.count - 1
        while i > 0 {
            let parent = (i - 1) / 2
            guard less(i, parent) else { break }
            heap.swapAt(i, parent)
            i = parent
        }
    }

    mutating func pop() -> (MonotonicInstant, Element)? {
        guard !heap.isEmpty else { return nil }
        heap.swapAt(0, heap.count - 1)
        let top = heap.removeLast()
        var i = 0
        while true {
            let l = 2 * i + 1, r = l + 1
            var m = i
            if l < heap.count, less(l, m) { m = l }
            if r < heap.count, less(r, m) { m = r }
            if m == i { break }
            heap.swapAt(i, m)
            i = m
        }
        return (top.time, top.element)
    }
}
