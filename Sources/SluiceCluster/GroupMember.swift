/// One data node of an HA group: heartbeats, pre-vote and election, leadership, and both sides
/// of log replication, as a value. It takes events (a message arrived, time passed, the term
/// was persisted, the engine accepted input) and returns the actions the driver must carry out,
/// in order. It does no I/O and reads no clock; `now` comes with every event and the election
/// jitter comes from a seeded generator, so every run is reproducible.
///
/// Voting. The group has three voters: the two data nodes and the witness. A term's leader needs
/// two votes, so the two data nodes can never both win one term, whatever the network does.
/// Before a real election a node asks for pre-votes; a voter that heard from a live leader within
/// the failure timeout refuses, so a node that merely lost its own link to the leader cannot
/// depose it, and a node cut off from everyone does not inflate its term.
///
/// Durability. A new term or vote is first returned as `.persist`; every later action (votes,
/// appends, taking the lead) is held back until the driver reports `persisted(_:)`. Stepping
/// down is never held: ceasing to lead is always safe.
///
/// Degraded mode. The leader heartbeats the witness with the position of its log. While the
/// follower is lost, the witness's durable record of that position is the second copy that
/// commits an entry, so the leader keeps acknowledging alone ("degraded"). The witness will not
/// then vote for a node whose log is behind what it recorded.
///
/// No witness. With only the two data nodes, a node whose leader falls silent takes the next
/// term it owns (odd terms belong to the lower id, even terms to the other) without a vote, so
/// each term still has one leader; but committing needs the follower, so a leader that lost its
/// follower stops acknowledging rather than going on alone. The group stays consistent through
/// any partition at the price of availability: while one data node is down nothing new is
/// acknowledged. The trade-off is described in docs/ha.md.
///
/// Restarts. The log lives in memory. A node restarted with a term on disk has lost the entries
/// it once confirmed, so it neither votes nor campaigns (`logIntact` false) until a leader that
/// knows of the restart and has committed in its own term has brought it up to date.
public struct GroupMember: Sendable {
    public enum Role: Sendable, Hashable {
        case follower(leader: NodeID?)
        /// Asking for pre-votes for `term`, its own term unchanged.
        case preCandidate(term: Term, grants: Set<NodeID>)
        case candidate(votes: Set<NodeID>)
        case leader
    }

    public enum Action: Sendable, Hashable {
        /// Write this to disk; report `persisted(_:)` once it is durable.
        case persist(PersistentState)
        case send(to: NodeID, ClusterMessage)
        /// This node now leads `term`: accept input, stamp outputs with `term`, and resend the
        /// outputs after `resendOutputsAfter` (the last sequence known delivered).
        case lead(term: Term, resendOutputsAfter: UInt64)
        /// This node no longer leads: refuse input, suppress outputs.
        case stepDown(term: Term)
        /// Committed entries, in order, for the engine (on both nodes; outputs only on the leader).
        case apply([LogEntry])
        /// Producers' batches at or below this index may be acknowledged.
        case acknowledge(through: UInt64)
        /// Replace the engine's state with this snapshot, which covers the log through `through`.
        case restoreSnapshot([UInt8], through: LogPosition)
        /// Report `snapshotCaptured(_:through:now:)` with the engine's state at its applied index.
        case captureSnapshot
        /// Outputs at or below this sequence were delivered: their copies can go.
        case releaseOutputs(through: UInt64)
    }

    public let configuration: GroupConfiguration
    public let incarnation: UInt64
    /// The state the machine acts on; `durable` is what the disk has confirmed.
    public private(set) var persistent: PersistentState
    public private(set) var durable: PersistentState
    public private(set) var role: Role = .follower(leader: nil)
    public private(set) var log: ReplicatedLog
    /// Committed and handed to the engine (the machine applies as soon as it commits).
    public private(set) var commitIndex: UInt64
    public private(set) var deliveredOutput: UInt64 = 0
    public private(set) var logIntact: Bool
    public private(set) var leading: LeaderReplication?
    public private(set) var electionDeadline: MonotonicInstant
    private var nextHeartbeat: MonotonicInstant = .zero
    /// When a silent follower would count as lost, so the leader notices on time.
    private var followerLossCheck: MonotonicInstant?
    private var lastLeaderContact: MonotonicInstant?
    private var held: [Action] = []
    private var random: SeededRandom

    /// - Parameters:
    ///   - persisted: what the data directory holds (zero for a new node).
    ///   - incarnation: a boot counter the driver increments and persists at every start.
    ///   - logIntact: whether this node still holds every entry it ever confirmed; by default
    ///     only a node that never joined a term does.
    public init(configuration: GroupConfiguration, persisted: PersistentState = PersistentState(), incarnation: UInt64 = 0,
                logIntact: Bool? = nil, now: MonotonicInstant, seed: UInt64) {
        self.configuration = configuration
        self.incarnation = incarnation
        persistent = persisted
        durable = persisted
        log = ReplicatedLog()
        commitIndex = 0
        self.logIntact = logIntact ?? (persisted.term == 0)
        random = SeededRandom(seed: seed)
        electionDeadline = now
        electionDeadline = now + configuration.failureTimeout + random.duration(below: configuration.electionJitter)
    }

    public var term: Term { persistent.term }
    public var currentLeader: NodeID? {
        switch role {
        case .leader: configuration.selfID
        case .follower(let leader): leader
        default: nil
        }
    }

    /// Leading with the term on disk: the only state in which input is accepted.
    public var isLeader: Bool { role == .leader && durable == persistent }

    /// Leading, but without the follower: acknowledging on the witness's confirmation alone.
    public func isDegraded(at now: MonotonicInstant) -> Bool { isLeader && (leading?.followerLost(at: now) ?? false) }

    /// When the driver should call `tick(now:)` at the latest.
    public var nextDeadline: MonotonicInstant {
        guard role == .leader, leading != nil else { return electionDeadline }
        return min(nextHeartbeat, followerLossCheck ?? nextHeartbeat)
    }

    private var voters: Int { configuration.witnessID == nil ? 2 : 3 }
    private var otherVoters: [NodeID] { [configuration.peerID] + (configuration.witnessID.map { [$0] } ?? []) }

    // MARK: Events

    /// Time passed: heartbeats fall due, the leader checks its follower and witness, a follower
    /// whose leader went silent starts an election.
    public mutating func tick(now: MonotonicInstant) -> [Action] {
        var out: [Action] = []
        if role == .leader {
            leaderTick(now: now, into: &out)
        } else if now >= electionDeadline {
            electionTimeout(now: now, into: &out)
        }
        return release(out)
    }

    /// The driver made `state` durable.
    public mutating func persisted(_ state: PersistentState, now: MonotonicInstant) -> [Action] {
        guard state.term >= durable.term else { return [] }
        durable = state
        guard durable == persistent else { return [] }
        let out = held
        held = []
        if role == .leader, leading == nil { return out + takeLead(now: now) }
        return out
    }

    public mutating func received(_ message: ClusterMessage, from sender: NodeID, now: MonotonicInstant) -> [Action] {
        var out: [Action] = []
        let isPreVote: Bool
        switch message {
        case .voteRequest(let m): isPreVote = m.isPreVote
        case .voteResponse(let m): isPreVote = m.isPreVote && m.granted
        default: isPreVote = false
        }
        // A higher term ends whatever this node was doing in its own (pre-votes only propose one).
        if !isPreVote, message.term > persistent.term {
            adoptTerm(message.term, now: now, into: &out)
        }
        switch message {
        case .voteRequest(let m): voteRequested(m, now: now, into: &out)
        case .voteResponse(let m): voteAnswered(m, from: sender, now: now, into: &out)
        case .append(let m): appendReceived(m, now: now, into: &out)
        case .appendResponse(let m): appendAnswered(m, from: sender, now: now, into: &out)
        case .snapshot(let m): snapshotReceived(m, now: now, into: &out)
        case .witnessSync: break
        case .witnessSyncResponse(let m): witnessAnswered(m, now: now, into: &out)
        }
        return release(out)
    }

    /// The engine accepted an input batch (`compressed`: as its frame's LZ4 payload). Returns its
    /// index, or nil when this node does not lead.
    public mutating func appendBatch(_ bytes: [UInt8], compressed: Bool = false,
                                     now: MonotonicInstant) -> (index: UInt64?, actions: [Action]) {
        appendRecord(compressed ? .lz4Batch(bytes) : .batch(bytes), now: now)
    }

    /// Live-mode time passed on the leader: the tick becomes an input every replica replays.
    public mutating func appendTick(millis: Int64, now: MonotonicInstant) -> (index: UInt64?, actions: [Action]) {
        appendRecord(.tick(millis: millis), now: now)
    }

    /// Downstream confirmed outputs through `sequence` (on the leader).
    public mutating func outputsDelivered(through sequence: UInt64, now: MonotonicInstant) -> [Action] {
        guard sequence > deliveredOutput else { return [] }
        deliveredOutput = sequence
        return [.releaseOutputs(through: sequence)]
    }

    /// The engine's snapshot for `captureSnapshot`: its state through `position`.
    public mutating func snapshotCaptured(_ data: [UInt8], through position: LogPosition, now: MonotonicInstant) -> [Action] {
        guard role == .leader, var leading else { return [] }
        leading.snapshotCaptured(data, position: position)
        self.leading = leading
        var out: [Action] = []
        sendToFollower(resend: false, now: now, into: &out)
        return release(out)
    }

    // MARK: Terms and durability

    private mutating func adoptTerm(_ term: Term, now: MonotonicInstant, into out: inout [Action]) {
        if role == .leader { stepDown(into: &out) }
        role = .follower(leader: nil)
        persistent = PersistentState(term: term, votedFor: nil)
        out.append(.persist(persistent))
    }

    private mutating func stepDown(into out: inout [Action]) {
        guard role == .leader else { return }
        let wasActing = leading != nil
        role = .follower(leader: nil)
        leading = nil
        // Held leader actions of a term that never became durable must not run later.
        held.removeAll {
            if case .lead = $0 { true } else { false }
        }
        if wasActing { out.append(.stepDown(term: persistent.term)) }
    }

    /// Actions wait while the disk is behind the state they depend on; persisting and stepping
    /// down go out at once.
    private mutating func release(_ input: [Action]) -> [Action] {
        // One event may change the term and then the vote: only the last state needs writing.
        var actions = input
        if actions.count > 1, let last = actions.lastIndex(where: { if case .persist = $0 { true } else { false } }) {
            actions = actions.enumerated().filter { i, a in
                if case .persist = a { i == last } else { true }
            }.map(\.element)
        }
        guard durable != persistent else { return actions }
        var now: [Action] = []
        for action in actions {
            switch action {
            case .persist, .stepDown: now.append(action)
            default: held.append(action)
            }
        }
        return now
    }

    private mutating func resetElectionTimer(now: MonotonicInstant) {
        electionDeadline = now + configuration.failureTimeout + random.duration(below: configuration.electionJitter)
    }

    private mutating func retryElectionTimer(now: MonotonicInstant) {
        electionDeadline = now + configuration.retryBase + random.duration(below: configuration.retryBase)
    }

    // MARK: Elections

    private mutating func electionTimeout(now: MonotonicInstant, into out: inout [Action]) {
        // Without every entry it once confirmed, this node could win with a log missing
        // acknowledged input: it waits for a leader to restore it.
        guard logIntact else {
            resetElectionTimer(now: now)
            return
        }
        guard configuration.witnessID != nil else {
            // No third voter: take the next term this node owns, without a vote (see above).
            var next = persistent.term + 1
            if termOwner(next) != configuration.selfID { next += 1 }
            persistent = PersistentState(term: next, votedFor: configuration.selfID)
            out.append(.persist(persistent))
            role = .leader
            leading = nil
            resetElectionTimer(now: now)
            return
        }
        let proposed = persistent.term + 1
        role = .preCandidate(term: proposed, grants: [configuration.selfID])
        retryElectionTimer(now: now)
        let request = VoteRequest(term: proposed, candidate: configuration.selfID, lastLog: log.last, isPreVote: true)
        for voter in otherVoters { out.append(.send(to: voter, .voteRequest(request))) }
    }

    /// Odd terms belong to the lower node id, even terms to the higher (used without a witness).
    public func termOwner(_ term: Term) -> NodeID {
        let pair = [configuration.selfID, configuration.peerID].sorted()
        return term % 2 == 1 ? pair[0] : pair[1]
    }

    private mutating func startElection(now: MonotonicInstant, into out: inout [Action]) {
        persistent = PersistentState(term: persistent.term + 1, votedFor: configuration.selfID)
        out.append(.persist(persistent))
        role = .candidate(votes: [configuration.selfID])
        retryElectionTimer(now: now)
        let request = VoteRequest(term: persistent.term, candidate: configuration.selfID, lastLog: log.last, isPreVote: false)
        for voter in otherVoters { out.append(.send(to: voter, .voteRequest(request))) }
    }

    private func heardFromLeaderRecently(now: MonotonicInstant) -> Bool {
        if role == .leader { return true }
        guard let last = lastLeaderContact else { return false }
        return now - last < configuration.failureTimeout
    }

    private mutating func voteRequested(_ request: VoteRequest, now: MonotonicInstant, into out: inout [Action]) {
        let logOK = logIntact && request.lastLog >= log.last
        if request.isPreVote {
            let granted = logOK && request.term > persistent.term && !heardFromLeaderRecently(now: now)
            out.append(.send(to: request.candidate, .voteResponse(VoteResponse(
                term: granted ? request.term : persistent.term, voter: configuration.selfID, granted: granted, isPreVote: true))))
            return
        }
        var granted = false
        if request.term == persistent.term, logOK,
           persistent.votedFor == nil || persistent.votedFor == request.candidate {
            granted = true
            if persistent.votedFor == nil {
                persistent.votedFor = request.candidate
                out.append(.persist(persistent))
            }
            resetElectionTimer(now: now)
        }
        out.append(.send(to: request.candidate, .voteResponse(VoteResponse(
            term: persistent.term, voter: configuration.selfID, granted: granted, isPreVote: false))))
    }

    private mutating func voteAnswered(_ response: VoteResponse, from voter: NodeID, now: MonotonicInstant, into out: inout [Action]) {
        guard response.granted else { return }
        switch role {
        case .preCandidate(let term, var grants) where response.isPreVote && response.term == term:
            grants.insert(voter)
            role = .preCandidate(term: term, grants: grants)
            if grants.count * 2 > voters, term == persistent.term + 1 { startElection(now: now, into: &out) }
        case .candidate(var votes) where !response.isPreVote && response.term == persistent.term:
            votes.insert(voter)
            role = .candidate(votes: votes)
            // Votes are only asked for after our own vote is durable, so this is safe to act on.
            if votes.count * 2 > voters {
                role = .leader
                out += takeLead(now: now)
            }
        default:
            break
        }
    }

    /// Becomes the acting leader: mark the term in the log, tell the driver, reach out at once.
    private mutating func takeLead(now: MonotonicInstant) -> [Action] {
        var out: [Action] = []
        // The follower's position is unknown: the first append carries the term's start entry,
        // and a refusal makes the leader back off.
        leading = LeaderReplication(term: persistent.term, configuration: configuration, log: log,
                                    acknowledged: commitIndex, now: now, peerLastHeard: lastLeaderContact)
        _ = log.append(.termStart, term: persistent.term)
        out.append(.lead(term: persistent.term, resendOutputsAfter: deliveredOutput))
        nextHeartbeat = now
        leaderTick(now: now, into: &out)
        return out
    }

    // MARK: Leading

    private mutating func appendRecord(_ record: LogEntry.Record, now: MonotonicInstant) -> (index: UInt64?, actions: [Action]) {
        guard isLeader, var leading else { return (nil, []) }
        let entry = log.append(record, term: persistent.term)
        var out: [Action] = []
        if configuration.replication == .async, leading.acknowledge(through: entry.index) {
            out.append(.acknowledge(through: entry.index))
        }
        self.leading = leading
        sendToFollower(resend: false, now: now, into: &out)
        // While degraded the witness's confirmation is what commits: ask for it now, not next beat.
        if leading.followerLost(at: now) { syncWitness(now: now, into: &out) }
        return (entry.index, release(out))
    }

    private mutating func leaderTick(now: MonotonicInstant, into out: inout [Action]) {
        guard let leading else { return }
        // Heard from neither the follower nor the witness: another node may lead by now, so stop
        // being the one producers talk to. (Without a witness the leader holds on, acknowledging nothing.)
        if configuration.witnessID != nil, leading.followerLost(at: now), leading.witnessLost(at: now) {
            stepDown(into: &out)
            resetElectionTimer(now: now)
            return
        }
        if now >= nextHeartbeat {
            nextHeartbeat = now + configuration.heartbeatInterval
            sendToFollower(resend: true, now: now, into: &out)
            syncWitness(now: now, into: &out)
        }
        // Losing the follower may make the witness's confirmations enough to acknowledge.
        advanceCommit(now: now, into: &out)
    }

    private mutating func sendToFollower(resend: Bool, now: MonotonicInstant, into out: inout [Action]) {
        guard var leading else { return }
        let message = leading.nextMessage(log: log, commit: commitIndex, deliveredOutput: deliveredOutput, resend: resend, now: now)
        self.leading = leading
        switch message {
        case .append(let m): out.append(.send(to: configuration.peerID, .append(m)))
        case .snapshot(let m): out.append(.send(to: configuration.peerID, .snapshot(m)))
        case .captureSnapshot: out.append(.captureSnapshot)
        case .nothing: break
        }
    }

    /// Tells the witness this leader is alive and how far the log is safe. Normally that is only
    /// what the follower holds, so the follower stays electable; while degraded it is the whole
    /// log, which the witness's confirmation then commits.
    private func syncWitness(now: MonotonicInstant, into out: inout [Action]) {
        guard let witness = configuration.witnessID, let leading else { return }
        var position = log.last
        if !leading.followerLost(at: now) {
            let match = leading.followerMatch
            position = log.term(at: match).map { LogPosition(term: $0, index: match) } ?? .zero
        }
        out.append(.send(to: witness, .witnessSync(WitnessSync(term: persistent.term, leader: configuration.selfID, last: position))))
    }

    private mutating func appendAnswered(_ response: AppendResponse, from sender: NodeID, now: MonotonicInstant, into out: inout [Action]) {
        guard role == .leader, var leading, response.term == persistent.term, sender == configuration.peerID else { return }
        leading.followerAnswered(response, now: now)
        self.leading = leading
        advanceCommit(now: now, into: &out)
        if !response.success || leading.followerNext <= log.last.index { sendToFollower(resend: false, now: now, into: &out) }
    }

    private mutating func witnessAnswered(_ response: WitnessSyncResponse, now: MonotonicInstant, into out: inout [Action]) {
        guard role == .leader, var leading, response.term == persistent.term else { return }
        leading.witnessAnswered(response, now: now)
        self.leading = leading
        advanceCommit(now: now, into: &out)
    }

    /// Commits what two voters hold, applies it, releases producer acks, trims what both applied.
    private mutating func advanceCommit(now: MonotonicInstant, into out: inout [Action]) {
        guard var leading else { return }
        let commit = leading.commitIndex(log: log, current: commitIndex)
        if commit > commitIndex { applyThrough(commit, into: &out) }
        let ackable = leading.acknowledgeable(commit: commitIndex, lastIndex: log.last.index, now: now)
        if leading.acknowledge(through: ackable) { out.append(.acknowledge(through: ackable)) }
        log.trim(through: leading.trimPoint(log: log, applied: commitIndex))
        followerLossCheck = leading.followerLost(at: now) ? nil : leading.lastFollowerAck + configuration.failureTimeout + .nanoseconds(1)
        self.leading = leading
    }

    private mutating func applyThrough(_ commit: UInt64, into out: inout [Action]) {
        let from = commitIndex + 1
        guard commit >= from, let entries = log.entries(from: from, limit: Int(commit - commitIndex)) else { return }
        commitIndex = commit
        if !entries.isEmpty { out.append(.apply(entries)) }
    }

    // MARK: Following

    /// A message from the leader of the current term: follow it and push the election back.
    private mutating func heardFromLeader(_ leader: NodeID, now: MonotonicInstant, into out: inout [Action]) {
        if role != .follower(leader: leader) {
            stepDown(into: &out)
            role = .follower(leader: leader)
        }
        lastLeaderContact = now
        resetElectionTimer(now: now)
    }

    private func appendResponse(success: Bool, match: UInt64) -> Action {
        .send(to: configuration.peerID, .appendResponse(AppendResponse(
            term: persistent.term, follower: configuration.selfID, incarnation: incarnation, success: success,
            matchIndex: match, appliedIndex: commitIndex)))
    }

    private mutating func appendReceived(_ append: AppendRequest, now: MonotonicInstant, into out: inout [Action]) {
        guard append.term == persistent.term else {
            // A deposed leader: our term in the answer makes it step down.
            out.append(appendResponse(success: false, match: commitIndex))
            return
        }
        heardFromLeader(append.leader, now: now, into: &out)
        let outcome = FollowerReplication.receive(append, log: &log, commitIndex: commitIndex)
        if outcome.success, outcome.commitIndex > commitIndex { applyThrough(outcome.commitIndex, into: &out) }
        if outcome.success, !logIntact, append.followerIncarnation == incarnation, outcome.matchIndex >= append.leaderCommit,
           log.term(at: append.leaderCommit) == append.term {
            // The leader knows this incarnation and has committed in its own term, so its commit
            // index covers every entry ever committed, and this log now holds them all.
            logIntact = true
        }
        followOutputs(append.deliveredOutput, into: &out)
        log.trim(through: commitIndex)
        out.append(appendResponse(success: outcome.success, match: outcome.matchIndex))
    }

    private mutating func snapshotReceived(_ snapshot: SnapshotRequest, now: MonotonicInstant, into out: inout [Action]) {
        guard snapshot.term == persistent.term else {
            out.append(appendResponse(success: false, match: commitIndex))
            return
        }
        heardFromLeader(snapshot.leader, now: now, into: &out)
        if FollowerReplication.receive(snapshot, log: &log, appliedIndex: commitIndex) == .install {
            // Voting again waits for the first append after it (see `appendReceived`).
            commitIndex = snapshot.lastIncluded.index
            out.append(.restoreSnapshot(snapshot.data, through: snapshot.lastIncluded))
        }
        followOutputs(snapshot.deliveredOutput, into: &out)
        out.append(appendResponse(success: true, match: snapshot.lastIncluded.index))
    }

    private mutating func followOutputs(_ delivered: UInt64, into out: inout [Action]) {
        guard delivered > deliveredOutput else { return }
        deliveredOutput = delivered
        out.append(.releaseOutputs(through: delivered))
    }
}
