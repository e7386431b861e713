import Foundation
import Logging
import NIOConcurrencyHelpers
import NIOCore
import SluiceClient
import SluiceCluster
import SluiceCore
import SluiceTransport
import SluiceWire

/// Runs a data node's `GroupMember` on the node's event loop and carries out its actions: it
/// persists terms, talks to the peer and the witness over `PeerLink`s, appends accepted input to
/// the log, hands committed entries to the engine in log order, acknowledges producers once their
/// batch is both committed and applied, and switches the node between leading and following.
/// Every protocol decision stays in the machine; this type only does what it is told.
final class GroupDriver: @unchecked Sendable {
    /// Something attached to this node that must leave when it stops leading (producers and
    /// subscribers), and that may report outputs delivered (subscribers).
    protocol Client: AnyObject {
        func leadershipLost(group: String)
        /// The highest output sequence this client has confirmed, if it is a subscriber.
        var confirmedOutput: UInt64? { get }
    }

    struct Settings: Sendable {
        var group: GroupConfiguration
        var peerAddress: HostPort
        var witnessAddress: HostPort?
        var dataDirectory: String
        var authToken: String?
        var limits: WireLimits
    }

    let settings: Settings
    let loop: EventLoop
    private var member: GroupMember
    private let store: HAStateStore
    private let engine: EngineLoop
    private let inputs: [ConnectionStateMachine.StreamEntry]
    private let logger: Logger
    private var links: [NodeID: PeerLink] = [:]
    private var decoder: BatchDecoder
    /// Expands forwarded LZ4 entries, within this node's limits.
    private let frameCodec: FrameCodec
    private var timer: RepeatedTask?

    /// Input this node accepted as leader, by log index, until its producer has been answered.
    private struct Pending {
        var stream: String
        var batch: EventBatch
        var partial: Bool
        var producer: UInt64
        var sequence: UInt64
        var origin: OutputOrigin?
        var reply: BatchReply
        /// Set once the engine applied it: nil refusal means applied.
        var outcome: String??
    }
    private var pending: [UInt64: Pending] = [:]
    private var pendingOrder: [UInt64] = []
    private var pendingHead = 0
    private var acknowledged: UInt64 = 0
    /// Commands for the engine, in log order, that its ring had no room for yet.
    private var engineBacklog: [EngineCommand] = []
    private var engineBacklogHead = 0
    private var retryScheduled = false
    /// The last log position handed to the engine.
    private var submitted: LogPosition = .zero
    private var clients: [ObjectIdentifier: Client] = [:]
    /// The node's sinks: what each has had taken downstream (see `outputsDelivered`).
    private var sinkWatermarks: [@Sendable () -> UInt64?] = []
    private var heartbeatsUntilWatermark = 0

    private let published: NIOLockedValueBox<HAStatus>
    private var elections = 0
    /// When this node last took or left the lead, as status shows it (formatted once, not per tick).
    private var lastLeadChange: (text: String, unixSeconds: Double)?

    init(settings: Settings, engine: EngineLoop, inputs: [ConnectionStateMachine.StreamEntry], loop: EventLoop,
         logger: Logger) throws {
        self.settings = settings
        self.engine = engine
        self.inputs = inputs
        self.loop = loop
        self.logger = logger
        store = try HAStateStore(directory: settings.dataDirectory)
        let persisted = try store.loadMember()
        let incarnation = try store.nextIncarnation()
        member = GroupMember(configuration: settings.group, persisted: persisted, incarnation: incarnation,
                             now: Self.now(), seed: UInt64.random(in: 1...UInt64.max))
        decoder = BatchDecoder(limits: settings.limits)
        frameCodec = FrameCodec(limits: settings.limits)
        published = NIOLockedValueBox(HAStatus(group: settings.group.groupID, nodeID: settings.group.selfID))
        logger.info("HA group member", metadata: ["group": "\(settings.group.groupID)", "term": "\(persisted.term)",
                                                   "incarnation": "\(incarnation)", "peer": "\(settings.group.peerID)",
                                                   "witness": "\(settings.group.witnessID ?? "none")"])
    }

    static func now() -> MonotonicInstant { MonotonicInstant(nanoseconds: Int64(NIODeadline.now().uptimeNanoseconds)) }

    // MARK: Lifecycle (on the loop)

    func start(codec: FrameCodec) {
        loop.preconditionInEventLoop()
        let bound = NIOLoopBound(self, eventLoop: loop)
        var parties = [(settings.group.peerID, settings.peerAddress)]
        if let witness = settings.group.witnessID, let address = settings.witnessAddress { parties.append((witness, address)) }
        let interval = settings.group.heartbeatInterval
        for (id, address) in parties {
            let link = PeerLink(targetID: id, address: address, selfID: settings.group.selfID, authToken: settings.authToken,
                                loop: loop, codec: codec, reconnectDelay: (interval / 2).timeAmount,
                                logger: logger) { group, message, from in bound.value.received(message, group: group, from: from) }
            links[id] = link
            link.start()
        }
        // The machine says when it needs time; a tenth of the heartbeat interval is close enough.
        let step = TimeAmount.nanoseconds(max(1_000_000, (interval / 10).timeAmount.nanoseconds))
        timer = loop.scheduleRepeatedTask(initialDelay: step, delay: step) { _ in bound.value.tick() }
        publish()
    }

    func stop() {
        timer?.cancel()
        timer = nil
        for link in links.values { link.stop() }
        links = [:]
    }

    // MARK: Events

    func tick() {
        let now = Self.now()
        if member.isLeader {
            heartbeatsUntilWatermark -= 1
            if heartbeatsUntilWatermark <= 0 {
                heartbeatsUntilWatermark = 10
                let confirmed = clients.values.compactMap(\.confirmedOutput) + sinkWatermarks.compactMap { $0() }
                if let low = confirmed.min() { perform(member.outputsDelivered(through: low, now: now)) }
            }
        }
        if now >= member.nextDeadline { perform(member.tick(now: now)) }
        publish()
    }

    func received(_ message: ClusterMessage, group: String, from sender: NodeID) {
        guard group == settings.group.groupID else {
            logger.warning("message for another group", metadata: ["group": "\(group)", "from": "\(sender)"])
            return
        }
        perform(member.received(message, from: sender, now: Self.now()))
    }

    /// A producer's batch, decoded and checked, on a node that believes it leads. False: not the
    /// leader (the connection is told so and closed).
    /// The log keeps the bytes as they arrived: a compressed frame's LZ4 payload goes to the
    /// follower as it is, not decompressed here and compressed again on the peer link.
    func accept(frame: Frame, stream: String, batch: EventBatch, partial: Bool, producer: UInt64, sequence: UInt64,
                origin: OutputOrigin?, reply: BatchReply) -> Bool {
        let (index, actions) = member.appendBatch(Array((frame.compressedPayload ?? frame.payload).readableBytesView),
                                                  compressed: frame.compressedPayload != nil, now: Self.now())
        guard let index else { return false }
        pending[index] = Pending(stream: stream, batch: batch, partial: partial, producer: producer, sequence: sequence, origin: origin,
                                 reply: reply, outcome: nil)
        pendingOrder.append(index)
        perform(actions)
        return true
    }

    /// The node's live clock moved: on the leader it becomes a log entry every replica applies.
    func liveTick(millis: Int64) {
        guard member.isLeader else { return }
        perform(member.appendTick(millis: millis, now: Self.now()).actions)
    }

    var leadership: ConnectionStateMachine.Leadership {
        member.isLeader ? .leading : .following(group: settings.group.groupID, leader: member.currentLeader)
    }

    func register(_ client: Client) { clients[ObjectIdentifier(client)] = client }
    func registerSink(watermark: @escaping @Sendable () -> UInt64?) { sinkWatermarks.append(watermark) }
    func unregister(_ client: Client) { clients.removeValue(forKey: ObjectIdentifier(client)) }

    var status: HAStatus { published.withLockedValue { $0 } }

    // MARK: Actions

    private func perform(_ actions: [GroupMember.Action]) {
        for action in actions {
            switch action {
            case .persist(let state):
                do {
                    try store.save(state)
                } catch {
                    // Acting on a term the disk does not hold could elect two leaders: stop here.
                    logger.critical("cannot persist the HA term", metadata: ["error": "\(error)"])
                    fatalError("cannot persist the HA term: \(error)")
                }
                perform(member.persisted(state, now: Self.now()))
            case .send(let to, let message):
                var droppable = false
                switch message {
                case .append(let m): droppable = !m.entries.isEmpty
                case .snapshot:
                    // Serialising and checksumming megabytes would stall heartbeats: do it aside.
                    // What is sent meanwhile may overtake it; the follower refuses that and the
                    // leader resends after the snapshot.
                    let group = settings.group.groupID, loop = self.loop
                    let bound = NIOLoopBound(self, eventLoop: loop)
                    DispatchQueue.global().async {
                        let frames = message.frames(group: group)
                        loop.execute { bound.value.links[to]?.send(frames, droppable: false) }
                    }
                    continue
                default: break
                }
                links[to]?.send(message.frames(group: settings.group.groupID), droppable: droppable)
            case .lead(let term, let resendAfter):
                elections += 1
                leadershipChanged()
                logger.notice("leading", metadata: ["group": "\(settings.group.groupID)", "term": "\(term)",
                                                    "resendingOutputsAfter": "\(resendAfter)"])
                toEngine(.lead(term: term, resendAfter: resendAfter))
            case .stepDown(let term):
                leadershipChanged()
                logger.notice("stepped down", metadata: ["group": "\(settings.group.groupID)", "term": "\(term)"])
                toEngine(.lead(term: nil))
                // Unanswered producers retry at the new leader; dedup covers what committed anyway.
                pending = [:]
                pendingOrder = []
                pendingHead = 0
                for client in clients.values { client.leadershipLost(group: settings.group.groupID) }
            case .apply(let entries):
                for entry in entries { apply(entry) }
            case .acknowledge(let through):
                acknowledged = max(acknowledged, through)
                answerProducers()
            case .restoreSnapshot(let data, let through):
                let logger = self.logger
                toEngine(.restoreState(data) { error in
                    if let error { logger.error("cannot restore the leader's snapshot", metadata: ["error": "\(error)"]) }
                })
                submitted = through
                logger.info("restored a snapshot", metadata: ["through": "\(through)", "bytes": "\(data.count)"])
            case .captureSnapshot:
                let position = submitted
                let bound = NIOLoopBound(self, eventLoop: loop)
                let loop = self.loop
                toEngine(.captureState { bytes in
                    loop.execute { bound.value.perform(bound.value.member.snapshotCaptured(bytes, through: position, now: Self.now())) }
                })
            case .releaseOutputs(let through):
                toEngine(.releaseOutputs(through: through))
            }
        }
    }

    /// A committed entry goes to the engine; input batches report back so producers can be answered.
    private func apply(_ entry: LogEntry) {
        submitted = entry.position
        switch entry.record {
        case .termStart:
            break
        case .tick(let millis):
            toEngine(.tick(millis))
        case .batch(let bytes), .lz4Batch(let bytes):
            let reply = LogApplyReply(driver: NIOLoopBound(self, eventLoop: loop), loop: loop, index: entry.index)
            if let p = pending[entry.index] {
                toEngine(.batch(stream: p.stream, batch: p.batch, producer: p.producer, sequence: p.sequence, reply: reply, origin: p.origin,
                                partial: p.partial))
                return
            }
            do {
                var buffer = ByteBuffer(bytes: bytes)
                if case .lz4Batch = entry.record { buffer = try frameCodec.decompress(lz4Payload: buffer, kind: .eventBatch) }
                let id = try BatchPeek.streamID(buffer)
                guard id >= 1, Int(id) <= inputs.count else { throw WireError(.unknownStream, "stream id \(id)") }
                let stream = inputs[Int(id) - 1]
                let skip = engine.decoding.skip(for: stream.name)
                let (header, batch) = try decoder.decode(buffer, schema: stream.attributes.map(\.type), skip: skip)
                toEngine(.batch(stream: stream.name, batch: batch, producer: header.producerID, sequence: header.sequence, reply: reply,
                                origin: header.origin, partial: skip != nil))
            } catch {
                // The leader checked it before appending: this is a bug, or this node's limits are
                // stricter than its leader's.
                logger.error("cannot decode replicated entry \(entry.index): \(error)")
            }
        }
    }

    /// On the loop: the engine applied (or refused) entry `index`.
    fileprivate func applied(index: UInt64, refusal: String?) {
        guard pending[index] != nil else { return }
        pending[index]!.outcome = .some(refusal)
        answerProducers()
    }

    /// Answers producers in log order, each once its entry is acknowledged and applied.
    private func answerProducers() {
        while pendingHead < pendingOrder.count {
            let index = pendingOrder[pendingHead]
            guard let p = pending[index] else {
                pendingHead += 1
                continue
            }
            guard index <= acknowledged, let outcome = p.outcome else { break }
            if let refusal = outcome {
                p.reply.refused(producer: p.producer, sequence: p.sequence, reason: refusal)
            } else {
                p.reply.applied(producer: p.producer, sequence: p.sequence, duplicate: false)
            }
            pending.removeValue(forKey: index)
            pendingHead += 1
        }
        if pendingHead > 1024, pendingHead * 2 > pendingOrder.count {
            pendingOrder.removeFirst(pendingHead)
            pendingHead = 0
        }
    }

    // MARK: Engine hand-off

    private func toEngine(_ command: EngineCommand) {
        if engineBacklogHead == engineBacklog.count, engine.submit(command) { return }
        engineBacklog.append(command)
        drainBacklog()
    }

    private func drainBacklog() {
        while engineBacklogHead < engineBacklog.count, engine.submit(engineBacklog[engineBacklogHead]) {
            engineBacklogHead += 1
        }
        if engineBacklogHead == engineBacklog.count {
            engineBacklog.removeAll(keepingCapacity: true)
            engineBacklogHead = 0
        } else if !retryScheduled {
            retryScheduled = true
            let bound = NIOLoopBound(self, eventLoop: loop)
            loop.scheduleTask(in: .microseconds(200)) {
                bound.value.retryScheduled = false
                bound.value.drainBacklog()
            }
        }
    }

    // MARK: Status

    private func leadershipChanged() {
        let now = Date()
        lastLeadChange = (ISO8601DateFormatter().string(from: now), now.timeIntervalSince1970)
    }

    private func publish() {
        let now = Self.now()
        var s = HAStatus(group: settings.group.groupID, nodeID: settings.group.selfID)
        switch member.role {
        case .leader: s.role = member.isLeader ? (member.isDegraded(at: now) ? "leader (degraded)" : "leader") : "candidate"
        case .follower: s.role = "follower"
        case .candidate, .preCandidate: s.role = "candidate"
        }
        s.term = member.term
        s.leader = member.currentLeader
        s.commitIndex = member.commitIndex
        s.lastLogIndex = member.log.last.index
        s.logEntries = member.log.count
        s.degraded = member.isDegraded(at: now)
        if let leading = member.leading {
            s.followerLag = member.log.last.index - min(member.log.last.index, leading.followerMatch)
        }
        s.peerConnected = links[settings.group.peerID]?.isReady ?? false
        s.witnessConnected = settings.group.witnessID.flatMap { links[$0]?.isReady }
        s.incarnation = member.incarnation
        s.electionsWon = elections
        s.lastLeadChange = lastLeadChange?.text
        s.lastLeadChangeUnixSeconds = lastLeadChange?.unixSeconds
        s.outputSequence = engine.outputSequence.load(ordering: .relaxed)
        s.deliveredOutput = member.deliveredOutput
        published.withLockedValue { $0 = s }
    }
}

/// Reports an applied log entry back to the driver's loop.
private struct LogApplyReply: BatchReply {
    let driver: NIOLoopBound<GroupDriver>
    let loop: EventLoop
    let index: UInt64

    func applied(producer: UInt64, sequence: UInt64, duplicate: Bool) {
        let driver = self.driver, index = self.index
        loop.execute { driver.value.applied(index: index, refusal: nil) }
    }

    func refused(producer: UInt64, sequence: UInt64, reason: String) {
        let driver = self.driver, index = self.index
        loop.execute { driver.value.applied(index: index, refusal: reason) }
    }
}
