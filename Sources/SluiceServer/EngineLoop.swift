import Atomics
import Dispatch
import Foundation
import Logging
import NIOConcurrencyHelpers
import SluiceCore
import SluiceRuntime
import SluiceTransport
import SluiceWire

/// Work handed to the engine thread.
enum EngineCommand: Sendable {
    /// A producer's batch, already decoded and schema-checked. `origin`: an HA group's output that
    /// its sink forwarded, applied once whatever the retries.
    /// `partial`: some columns were left undecoded (`InputDecoding`).
    case batch(stream: String, batch: EventBatch, producer: UInt64, sequence: UInt64, reply: BatchReply, origin: OutputOrigin? = nil,
               partial: Bool = false)
    /// The live clock moved: fire what is due.
    case tick(Int64)
    /// With `resumeAfter` > 0 (an HA group's subscriber back after a failover), the retained
    /// outputs of `stream` after that sequence go to it first.
    case subscribe(stream: String, subscriber: OutputSubscriber, resumeAfter: UInt64 = 0)
    case unsubscribe(stream: String, id: UInt64)
    /// HA: from here on outputs go out stamped with `term` (leading), or are only retained (nil).
    /// A new leader first resends to its sinks the retained outputs after `resendAfter`, the
    /// replicated delivered watermark; their receivers drop what they already have.
    case lead(term: UInt64?, resendAfter: UInt64 = 0)
    /// HA: the engine's whole state (app, producer sequences, output sequence) for a snapshot.
    case captureState(@Sendable ([UInt8]) -> Void)
    /// HA: replace the engine's state with a captured one; reports an error text or nil.
    case restoreState([UInt8], @Sendable (String?) -> Void)
    /// HA: outputs through this sequence were delivered downstream: stop retaining them.
    case releaseOutputs(through: UInt64)
    /// An on-demand query against the app's tables and named windows (`readOnly`: finds only).
    case query(String, readOnly: Bool, @Sendable (Result<OnDemandResult, RuntimeError>) -> Void)
    case stop
}


/// Where the engine reports a batch's fate. Called on the engine thread; implementations hop to
/// their own event loop.
protocol BatchReply: Sendable {
    func applied(producer: UInt64, sequence: UInt64, duplicate: Bool)
    func refused(producer: UInt64, sequence: UInt64, reason: String)
}

/// Receives a stream's output chunks on the engine thread.
protocol OutputSubscriber: Sendable {
    var id: UInt64 { get }
    /// `stamp` is the output's identity (docs/ha.md): on an HA group's node its group, the leader's
    /// term and the group's output sequence; elsewhere, for sinks only, one derived from the input
    /// batch that produced it. Nil when it has none.
    func deliver(_ batch: EventBatch, stamp: OutputOrigin?)
    /// A subscriber connection asks for what it missed itself (`resume_after`); a sink does not,
    /// so a new leader resends to it.
    var resumesItself: Bool { get }
    /// The node cannot resume this subscriber where it asked: outputs after that point are gone.
    func missed(_ reason: String)
    /// A sink on a node outside HA groups: `root` names the input batch whose acknowledgement
    /// waits until what the sink takes here is delivered (`SinkAcknowledgements.hold`).
    func deliver(_ batch: EventBatch, stamp: OutputOrigin?, root: UInt64?)
}

extension OutputSubscriber {
    var resumesItself: Bool { false }
    func missed(_ reason: String) {}
    func deliver(_ batch: EventBatch, stamp: OutputOrigin?, root: UInt64?) { deliver(batch, stamp: stamp) }
}

/// One thread that owns an app runtime. Event loops hand it commands through a lock-free ring;
/// it drains them in bounded batches and parks on a semaphore only when there is nothing to do.
final class EngineLoop: @unchecked Sendable {
    let runtime: AppRuntime
    private let ring: CommandRing<EngineCommand>
    private let wakeup = DispatchSemaphore(value: 0)
    private let parked = ManagedAtomic(false)
    private let logger: Logger
    private var thread: Thread?
    private let finished = DispatchSemaphore(value: 0)

    // Engine-thread state.
    private var sequences = ProducerSequences()
    private var origins = OriginSequences()
    private var subscribers: [String: [OutputSubscriber]] = [:]
    private var callbacksInstalled: Set<String> = []
    /// HA: the group whose output this is; nil on a standalone node.
    private let outputGroup: String?
    /// HA: the leader's term while leading; nil while following (outputs retained, not sent).
    private var leadingTerm: UInt64?
    /// Outside HA groups: producers' acknowledgements wait for the sinks (`DeliveryLedger`). A
    /// group's outputs are retained and resent by the next leader instead.
    let acknowledgements: SinkAcknowledgements?
    private var outputs: RetainedOutputs
    /// Outside HA groups, while an input is applied and the app has sinks: the root its outputs'
    /// identities derive from, and how many outputs it sent to sinks so far. Both depend on the app
    /// and the input alone, so any node derives the same identities from the same batch.
    private var applying: (root: UInt64, sinkOutputs: UInt64)?
    /// Streams with a sink attached (subscribers that do not resume themselves).
    private var sinkStreams: Set<String> = []

    // Counters read by status (relaxed atomics).
    let eventsIn = ManagedAtomic<Int>(0)
    let eventsOut = ManagedAtomic<Int>(0)
    let batchesIn = ManagedAtomic<Int>(0)
    /// Stored-table writes their database refused (each failed try, retried or given up).
    let storeWriteFailures = ManagedAtomic<Int>(0)
    /// Outputs attached per stream (subscribers and sinks): lets a test know a subscription is live
    /// before it sends, instead of sleeping.
    let subscriptions = NIOLockedValueBox<[String: Int]>([:])
    /// Commands (batches, ticks) taken from the network but not yet applied.
    var backlog: Int { ring.backlog }

    /// The last output sequence assigned (HA), for status.
    let outputSequence = ManagedAtomic<UInt64>(0)
    /// Which input columns the network side decodes.
    let decoding: InputDecoding
    /// The input stream whose batch, decoded in part, is being applied.
    private var partialInput: String?

    /// - Parameter haOutputs: for a node of HA group `group`, every output stream: both data
    ///   nodes number the same outputs the same way whether or not anyone subscribed.
    /// - Parameter retention: how many output batches and events an HA node keeps for subscribers
    ///   that resume (`RetainedOutputs`).
    init(runtime: AppRuntime, capacity: Int = 8192, haOutputs: (group: String, streams: [String])? = nil,
         retention: (batches: Int, events: Int) = (16_384, 2_000_000), logger: Logger) {
        self.runtime = runtime
        decoding = InputDecoding(runtime: runtime)
        outputs = RetainedOutputs(maxBatches: retention.batches, maxEvents: retention.events)
        self.ring = CommandRing(capacity: capacity)
        self.logger = logger
        self.outputGroup = haOutputs?.group
        acknowledgements = haOutputs == nil ? SinkAcknowledgements() : nil
        for stream in haOutputs?.streams ?? [] { installCallback(stream) }
        let failures = storeWriteFailures
        runtime.onStoreFailure { failure in
            failures.wrappingIncrement(ordering: .relaxed)
            logger.error("store: \(failure.description)")
        }
    }

    func start(name: String) {
        let t = Thread { [self] in run() }
        t.name = name
        thread = t
        t.start()
    }

    /// Any thread. False when the engine is full; the caller stops reading and retries.
    func submit(_ command: EngineCommand) -> Bool {
        guard ring.offer(command) else { return false }
        if parked.load(ordering: .acquiring), parked.exchange(false, ordering: .acquiringAndReleasing) {
            wakeup.signal()
        }
        return true
    }

    /// Stops the thread after it has applied everything submitted before.
    func stop() {
        while !submit(.stop) { usleep(100) }
        finished.wait()
    }

    private func run() {
        var running = true
        while running {
            let n = ring.drain(limit: 256) { command in
                if !apply(command) { running = false }
            }
            if n == 0 && running {
                parked.store(true, ordering: .releasing)
                // Re-check after announcing, so a command offered meanwhile is not missed.
                let more = ring.drain(limit: 1) { command in if !apply(command) { running = false } }
                if more == 0 && running {
                    wakeup.wait()
                } else if parked.exchange(false, ordering: .acquiringAndReleasing) == false {
                    // A producer signalled after we found work: consume that signal.
                    wakeup.wait()
                }
            }
        }
        finished.signal()
    }

    /// Returns false on `.stop`.
    private func apply(_ command: EngineCommand) -> Bool {
        switch command {
        case .batch(let stream, let batch, let producer, let sequence, let reply, let origin, let partial):
            let root = origin?.derivationRoot ?? OutputOrigin.derivationRoot(producer: producer, sequence: sequence)
            // A repeat is acknowledged with the batch it repeats: at once, or when its outputs are delivered.
            func acknowledge(duplicate: Bool) {
                guard let acknowledgements, !sinkStreams.isEmpty else {
                    return reply.applied(producer: producer, sequence: sequence, duplicate: duplicate)
                }
                acknowledgements.applied(root, .init(reply: reply, producer: producer, sequence: sequence, duplicate: duplicate))
            }
            if let origin, origins.admit(origin, stream: stream) != .apply {
                _ = sequences.apply(producer: producer, sequence: sequence)
                acknowledge(duplicate: true)
                return true
            }
            guard sequences.apply(producer: producer, sequence: sequence) else {
                acknowledge(duplicate: true)
                return true
            }
            if outputGroup == nil, !sinkStreams.isEmpty { applying = (root, 0) }
            partialInput = partial ? stream : nil
            defer {
                applying = nil
                partialInput = nil
            }
            do {
                try runtime.send(batch, to: stream)
                eventsIn.wrappingIncrement(by: batch.count, ordering: .relaxed)
                batchesIn.wrappingIncrement(ordering: .relaxed)
                acknowledge(duplicate: false)
            } catch where error.inputApplied {
                // Only a stored table refused its part (reported to the log and metrics already):
                // the rest of the app has the batch, so the producer must not send it again.
                eventsIn.wrappingIncrement(by: batch.count, ordering: .relaxed)
                batchesIn.wrappingIncrement(ordering: .relaxed)
                acknowledge(duplicate: false)
            } catch {
                acknowledgements?.forget(root)
                reply.refused(producer: producer, sequence: sequence, reason: error.description)
            }
        case .tick(let time):
            if time > runtime.now { runtime.advanceTime(to: time) }
        case .subscribe(let stream, let subscriber, let resumeAfter):
            decoding.subscribed(to: stream)
            installCallback(stream)
            if resumeAfter > 0, let group = outputGroup {
                if let gap = outputs.gap(after: resumeAfter, stream: stream) {
                    subscriber.missed("outputs \(gap.lowerBound) through \(gap.upperBound) may include '\(stream)' outputs this "
                                      + "node no longer retains; resuming after \(resumeAfter) would skip them. Subscribe afresh.")
                    return true
                }
                for retained in outputs.after(resumeAfter, stream: stream) {
                    subscriber.deliver(retained.batch, stamp: OutputOrigin(group: group, term: leadingTerm ?? 0, sequence: retained.sequence, part: 0))
                }
            }
            subscribers[stream, default: []].append(subscriber)
            if !subscriber.resumesItself { sinkStreams.insert(stream) }
            publishSubscriptions()
        case .lead(let term, let resendAfter):
            leadingTerm = term
            if let term, let group = outputGroup {
                for (stream, subs) in subscribers {
                    let sinks = subs.filter { !$0.resumesItself }
                    guard !sinks.isEmpty else { continue }
                    for retained in outputs.after(resendAfter, stream: stream) {
                        let stamp = OutputOrigin(group: group, term: term, sequence: retained.sequence, part: 0)
                        for sink in sinks { sink.deliver(retained.batch, stamp: stamp) }
                    }
                }
            }
        case .query(let text, let readOnly, let reply):
            do {
                reply(.success(try runtime.query(text, readOnly: readOnly)))
            } catch {
                reply(.failure(RuntimeError(error.description)))
            }
        case .captureState(let reply):
            reply(EngineState(runtime: runtime.snapshot(), sequences: sequences.encoded,
                              outputSequence: outputSequence.load(ordering: .relaxed), origins: origins).encoded)
        case .restoreState(let bytes, let reply):
            do {
                let state = try EngineState(decoding: bytes)
                try runtime.restore(state.runtime)
                guard let restored = ProducerSequences(encoded: state.sequences) else { throw SnapshotError("bad producer sequences") }
                sequences = restored
                origins = state.origins
                outputSequence.store(state.outputSequence, ordering: .relaxed)
                outputs = RetainedOutputs(maxBatches: outputs.maxBatches, maxEvents: outputs.maxEvents,
                                          unknownThrough: state.outputSequence)
                reply(nil)
            } catch {
                reply("\(error)")
            }
        case .releaseOutputs(let through):
            outputs.release(through: through)
        case .unsubscribe(let stream, let id):
            subscribers[stream]?.removeAll { $0.id == id }
            publishSubscriptions()
        case .stop:
            return false
        }
        return true
    }

    private func publishSubscriptions() {
        let counts = subscribers.compactMapValues { $0.isEmpty ? nil : $0.count }
        subscriptions.withLockedValue { $0 = counts }
    }

    private func installCallback(_ stream: String) {
        guard callbacksInstalled.insert(stream).inserted else { return }
        do {
            try runtime.addCallback(stream: stream) { [unowned self] batch in
                // An input batch decoded in part goes on into the app, not to the stream's own subscribers.
                if self.partialInput == stream { return }
                guard let group = self.outputGroup else {
                    guard let subs = self.subscribers[stream], !subs.isEmpty else { return }
                    // Only outputs to sinks are numbered: which streams have sinks is the app's, the
                    // same on every node, whoever else subscribes.
                    var stamp: OutputOrigin?
                    if let (root, count) = self.applying, self.sinkStreams.contains(stream) {
                        stamp = OutputOrigin.derived(root: root, index: count)
                        self.applying = (root, count + 1)
                    }
                    self.eventsOut.wrappingIncrement(by: batch.count, ordering: .relaxed)
                    // Subscribers get no derived identity: only sinks forward it, and only sinks
                    // hold the input's acknowledgement until they have delivered.
                    for s in subs {
                        if s.resumesItself {
                            s.deliver(batch, stamp: nil)
                        } else {
                            s.deliver(batch, stamp: stamp, root: self.applying?.root)
                        }
                    }
                    return
                }
                // HA: every output is numbered and retained on both nodes; only the leader sends.
                let sequence = self.outputSequence.load(ordering: .relaxed) + 1
                self.outputSequence.store(sequence, ordering: .relaxed)
                self.outputs.append(sequence: sequence, stream: stream, batch: batch)
                guard let term = self.leadingTerm, let subs = self.subscribers[stream], !subs.isEmpty else { return }
                self.eventsOut.wrappingIncrement(by: batch.count, ordering: .relaxed)
                let stamp = OutputOrigin(group: group, term: term, sequence: sequence, part: 0)
                for s in subs { s.deliver(batch, stamp: stamp) }
            }
        } catch {
            logger.warning("cannot subscribe to '\(stream)': \(error)")
        }
    }
}
