import Dispatch
import Logging
import NIOConcurrencyHelpers
import SluiceCore
import SluiceWire

/// `@sink(…, @distribution(…))` and `@sink(type='http', …)`: carries out what
/// `DistributedSinkStateMachine` decides. The engine thread offers each chunk and, when a
/// destination's buffer is full (WAIT), blocks until the machine says there is room again;
/// sends and retry timers run as tasks and feed their outcomes back into the machine.
final class DistributedSink: OutputSubscriber, Sendable {
    let id: UInt64 = 0
    let stream: String
    private let machine: NIOLockedValueBox<DistributedSinkStateMachine>
    private let transport: any SinkTransport
    private let room = DispatchSemaphore(value: 0)
    private let clock = ContinuousClock()
    private let origin: ContinuousClock.Instant
    private let destinationNames: [String]
    private let onFault: @Sendable (EventBatch, String) -> Void
    private let logger: Logger
    /// The newest HA output offered (0: none).
    private let lastOffered = NIOLockedValueBox<UInt64>(0)

    /// Outside HA groups: where delivered chunks release their input batches' acknowledgements.
    private let acknowledgements: SinkAcknowledgements?

    init(stream: String, configuration: DistributedSinkStateMachine.Configuration, destinationNames: [String],
         transport: any SinkTransport, logger: Logger, acknowledgements: SinkAcknowledgements? = nil,
         onFault: @escaping @Sendable (EventBatch, String) -> Void = { _, _ in }) {
        self.stream = stream
        self.acknowledgements = acknowledgements
        machine = NIOLockedValueBox(DistributedSinkStateMachine(configuration: configuration))
        self.transport = transport
        self.destinationNames = destinationNames
        self.onFault = onFault
        self.logger = logger
        origin = clock.now
    }

    private var now: Duration { clock.now - origin }

    /// On the engine thread.
    func deliver(_ batch: EventBatch, stamp: OutputOrigin?) {
        deliver(batch, stamp: stamp, root: nil)
    }

    func deliver(_ batch: EventBatch, stamp: OutputOrigin?, root: UInt64?) {
        let held = root.flatMap { _ in acknowledgements }
        while true {
            let result = machine.withLockedValue { m in
                let result = m.offer(batch, stamp: stamp, root: held == nil ? nil : root, now: now)
                if case .accepted(let actions) = result {
                    // Held before any send can complete and settle it.
                    if let held, let root { held.hold(root, events: m.lastOfferEvents) }
                    startSends(actions)
                }
                return result
            }
            switch result {
            case .accepted(let actions):
                if let stamp { lastOffered.withLockedValue { $0 = max($0, stamp.sequence) } }
                run(actions)
                return
            case .full:
                room.wait()
            }
        }
    }

    /// Applies an input to the machine and starts its sends while still holding the lock, so
    /// chunks reach the transport in the machine's order whichever thread got there first.
    private func step(_ input: (inout DistributedSinkStateMachine) -> [DistributedSinkStateMachine.Action]) -> [DistributedSinkStateMachine.Action] {
        machine.withLockedValue { m in
            let actions = input(&m)
            startSends(actions)
            return actions
        }
    }

    private func startSends(_ actions: [DistributedSinkStateMachine.Action]) {
        for case .send(let d, let member, let chunk) in actions {
            transport.start(chunk.batch, origin: chunk.origin, destination: d, member: member) { error in
                // Off the caller's stack: a transport may complete at once, under our lock.
                Task { self.finished(chunk, destination: d, error: error) }
            }
        }
    }

    /// HA: every output through this sequence has been taken by its destinations (nil: none offered).
    var deliveredOutput: UInt64? {
        let offered = lastOffered.withLockedValue { $0 }
        guard offered > 0 else { return nil }
        return machine.withLockedValue { $0.oldestHeldOutput.map { $0 - 1 } } ?? offered
    }

    /// Events not yet taken by their destinations.
    var pendingEvents: Int { machine.withLockedValue { $0.pendingEvents } }

    /// Waits up to `timeout` for the destinations to take what is held, then stops. What is still
    /// held then is logged as undelivered.
    func close(timeout: Duration = .seconds(5)) async {
        let deadline = clock.now + timeout
        while pendingEvents > 0 && clock.now < deadline {
            try? await Task.sleep(for: .milliseconds(10))
        }
        let left = pendingEvents
        if left > 0 {
            logger.error("sink closed with undelivered events", metadata: ["stream": "\(stream)", "events": "\(left)"])
        }
        await transport.shutdown()
    }

    private func run(_ actions: [DistributedSinkStateMachine.Action]) {
        for action in actions {
            switch action {
            case .send:
                break // started under the lock, in order
            case .settled(_, let chunk):
                if let root = chunk.root { acknowledgements?.settle(root, events: chunk.count) }
            case .retry(let d, let at):
                let clock = self.clock, deadline = origin + at
                Task {
                    try? await Task.sleep(until: deadline, clock: clock)
                    self.run(self.step { $0.retryDue(destination: d, now: self.now) })
                }
            case .drop(let d, let chunk, let reason):
                logger.error("sink dropped events (on.error='LOG')",
                             metadata: ["stream": "\(stream)", "destination": "\(destinationNames[d])",
                                        "events": "\(chunk.count)", "reason": "\(reason)"])
            case .fault(let d, let chunk, let reason):
                logger.warning("sink sent events to the fault stream",
                               metadata: ["stream": "\(stream)", "destination": "\(destinationNames[d])",
                                          "events": "\(chunk.count)", "reason": "\(reason)"])
                onFault(chunk.batch, "\(destinationNames[d]): \(reason)")
            case .resumeEngine:
                room.signal()
            }
        }
    }

    private func finished(_ chunk: SinkChunk, destination d: Int, error: SinkSendError?) {
        guard let error else {
            run(step { $0.sendSucceeded(destination: d, chunk: chunk.id, now: now) })
            return
        }
        var failures = 0
        let actions = step { m in
            let next = m.sendFailed(destination: d, chunk: chunk.id, retryable: error.retryable, reason: error.description, now: now)
            failures = m.destinations[d].failures
            return next
        }
        // Once per outage, not per retry.
        logger.log(level: failures == 1 ? .warning : .debug, "sink destination unreachable; holding its events and retrying",
                   metadata: ["stream": "\(stream)", "destination": "\(destinationNames[d])", "error": "\(error)"])
        run(actions)
    }
}
