/// The third voter of an HA group (a partitioner node or `sluice witness`). It holds no data:
/// only its term, its vote in that term, and the furthest log position a leader has shown it.
/// That position is what lets a leader whose follower is gone keep committing ("degraded"):
/// the witness refuses to vote for any node whose log is behind it.
public struct Witness: Sendable {
    /// What the witness must make durable before answering.
    public struct State: Sendable, Hashable {
        public var term: Term
        public var votedFor: NodeID?
        /// The furthest position a leader has had confirmed here.
        public var knownLog: LogPosition

        public init(term: Term = 0, votedFor: NodeID? = nil, knownLog: LogPosition = .zero) {
            self.term = term
            self.votedFor = votedFor
            self.knownLog = knownLog
        }
    }

    public enum Action: Sendable, Hashable {
        case persist(State)
        case send(to: NodeID, ClusterMessage)
    }

    public let selfID: NodeID
    /// A leader heard from within this long is alive: pre-votes are refused (no flapping).
    public let failureTimeout: Duration
    public private(set) var state: State
    public private(set) var durable: State
    private var held: [Action] = []
    private var lastLeaderContact: MonotonicInstant?

    public init(selfID: NodeID, persisted: State = State(), failureTimeout: Duration = .milliseconds(300)) {
        self.selfID = selfID
        self.failureTimeout = failureTimeout
        state = persisted
        durable = persisted
    }

    public mutating func persisted(_ persisted: State) -> [Action] {
        durable = persisted
        guard durable == state else { return [] }
        let out = held
        held = []
        return out
    }

    public mutating func received(_ message: ClusterMessage, from sender: NodeID, now: MonotonicInstant) -> [Action] {
        var out: [Action] = []
        switch message {
        case .voteRequest(let request) where request.isPreVote:
            let granted = request.term > state.term && request.lastLog >= state.knownLog && !leaderAlive(now: now)
            out.append(.send(to: request.candidate, .voteResponse(VoteResponse(
                term: granted ? request.term : state.term, voter: selfID, granted: granted, isPreVote: true))))
        case .voteRequest(let request):
            adopt(request.term, into: &out)
            var granted = false
            if request.term == state.term, request.lastLog >= state.knownLog,
               state.votedFor == nil || state.votedFor == request.candidate {
                granted = true
                if state.votedFor == nil {
                    state.votedFor = request.candidate
                    out.append(.persist(state))
                }
                // The new leader gets a failure timeout before anyone else may campaign.
                lastLeaderContact = now
            }
            out.append(.send(to: request.candidate, .voteResponse(VoteResponse(
                term: state.term, voter: selfID, granted: granted, isPreVote: false))))
        case .witnessSync(let sync):
            adopt(sync.term, into: &out)
            guard sync.term == state.term else {
                out.append(.send(to: sync.leader, .witnessSyncResponse(WitnessSyncResponse(term: state.term, success: false, confirmed: state.knownLog))))
                break
            }
            lastLeaderContact = now
            if sync.last > state.knownLog {
                state.knownLog = sync.last
                out.append(.persist(state))
            }
            out.append(.send(to: sync.leader, .witnessSyncResponse(WitnessSyncResponse(
                term: state.term, success: true, confirmed: min(sync.last, state.knownLog)))))
        default:
            break
        }
        return release(out)
    }

    private func leaderAlive(now: MonotonicInstant) -> Bool {
        guard let lastLeaderContact else { return false }
        return now - lastLeaderContact < failureTimeout
    }

    private mutating func adopt(_ term: Term, into out: inout [Action]) {
        guard term > state.term else { return }
        state.term = term
        state.votedFor = nil
        out.append(.persist(state))
    }

    private mutating func release(_ input: [Action]) -> [Action] {
        // Adopting a term and voting in it is one write.
        var actions = input
        if let last = actions.lastIndex(where: { if case .persist = $0 { true } else { false } }) {
            actions = actions.enumerated().filter { i, a in
                if case .persist = a { i == last } else { true }
            }.map(\.element)
        }
        guard durable != state else { return actions }
        var now: [Action] = []
        for action in actions {
            if case .persist = action { now.append(action) } else { held.append(action) }
        }
        return now
    }
}
