import SluiceCore
import SluiceTransport
import SluiceWire

/// One client connection's protocol state on the node (docs/protocol.md), as a value: it takes
/// what arrived and returns what to do. The channel handler carries the actions out.
struct ConnectionStateMachine {
    /// A stream the node offers: its name and attribute list.
    struct StreamEntry: Sendable, Hashable {
        var name: String
        var attributes: [StreamAttribute]
    }

    struct StreamAttribute: Sendable, Hashable {
        var name: String
        var type: AttributeType
    }

    enum State {
        case awaitingHello
        case producer(producerID: UInt64, streams: [UInt32: StreamEntry], window: ReceiveWindow)
        case subscriberAwaitingSubscribe
        case subscriber(stream: String)
        /// Another node of this node's HA group, or its witness, on the peer link.
        case peer(nodeID: String)
        case closed
    }

    /// Whether this node takes clients now (docs/ha.md): an HA group's follower refuses them so
    /// that producers and subscribers find the leader.
    enum Leadership: Equatable {
        case standalone
        case leading
        case following(group: String, leader: String?)
        /// A `sluice witness`: it takes peer links and nothing else.
        case witness
    }

    enum Action: Equatable {
        case send(Sluice_V1_Welcome)
        /// Decode the batch against this stream and hand it to the engine.
        case submit(stream: StreamEntry)
        case startSubscription(stream: StreamEntry, credit: Int, includeExpired: Bool, resumeAfter: UInt64)
        /// A peer-link connection: answer with this Welcome; its cluster frames go to the group.
        case acceptPeer(nodeID: String, Sluice_V1_Welcome)
        /// A cluster message frame from the peer: hand it to the group.
        case cluster(from: String)
        case grantSubscriberCredit(Int)
        /// Send an Error frame, then close.
        case fail(Sluice_V1_ErrorCode, String)
        case ignore
    }

    private(set) var state: State = .awaitingHello
    let nodeID: String
    let authToken: String?
    let credit: Int
    /// The streams a producer may send to (input streams) and the ones a subscriber may follow.
    let inputs: [StreamEntry]
    let outputs: [StreamEntry]
    /// Whether peer-link connections are served (the node belongs to an HA group).
    let acceptsPeers: Bool

    init(nodeID: String, authToken: String?, credit: Int, inputs: [StreamEntry], outputs: [StreamEntry], acceptsPeers: Bool = false) {
        self.nodeID = nodeID
        self.authToken = authToken
        self.credit = credit
        self.inputs = inputs
        self.outputs = outputs
        self.acceptsPeers = acceptsPeers
    }

    mutating func helloReceived(_ hello: Sluice_V1_Hello, leadership: Leadership = .standalone) -> Action {
        guard case .awaitingHello = state else { return fail(.unexpectedFrame, "Hello was already received") }
        guard hello.protocolVersion == ControlMessage.protocolVersion else {
            return fail(.unsupportedVersion, "protocol version \(hello.protocolVersion) is not supported; this node speaks \(ControlMessage.protocolVersion)")
        }
        if let authToken, hello.authToken != authToken {
            return fail(.authFailed, "authentication failed: the token does not match this node's")
        }
        var welcome = Sluice_V1_Welcome()
        welcome.protocolVersion = ControlMessage.protocolVersion
        welcome.nodeID = nodeID
        if hello.role == .node {
            guard acceptsPeers else { return fail(.unexpectedFrame, "this node is in no HA group; it takes no peer links") }
            guard !hello.clientName.isEmpty else { return fail(.malformedMessage, "a peer link's Hello must name the node in client_name") }
            state = .peer(nodeID: hello.clientName)
            return .acceptPeer(nodeID: hello.clientName, welcome)
        }
        if hello.role == .producer || hello.role == .subscriber {
            switch leadership {
            case .following(let group, let leader):
                return fail(.notLeader, "this node follows in HA group '\(group)'; " + (leader.map { "the leader is \($0)" } ?? "no leader is elected yet"))
            case .witness:
                return fail(.unexpectedFrame, "a witness only takes peer links from HA data nodes")
            case .standalone, .leading:
                break
            }
        }
        switch hello.role {
        case .producer:
            var bound: [UInt32: StreamEntry] = [:]
            for declared in hello.streams {
                guard let index = inputs.firstIndex(where: { $0.name == declared.name }) else {
                    return fail(.unknownStream, "stream '\(declared.name)' is not an input stream of this node")
                }
                let entry = inputs[index]
                if let mismatch = Self.mismatch(declared, entry) { return fail(.schemaMismatch, mismatch) }
                let id = UInt32(index + 1)
                bound[id] = entry
                var binding = Sluice_V1_StreamBinding()
                binding.streamID = id
                binding.schema = declared
                welcome.streams.append(binding)
            }
            welcome.initialCredit = UInt32(credit)
            state = .producer(producerID: hello.producerID, streams: bound, window: ReceiveWindow(capacity: credit))
        case .subscriber:
            state = .subscriberAwaitingSubscribe
        default:
            return fail(.unexpectedFrame, "role \(hello.role) is not served on this port")
        }
        return .send(welcome)
    }

    /// An EventBatch frame for `streamID` arrived.
    mutating func batchReceived(streamID: UInt32) -> Action {
        guard case .producer(let producerID, let streams, var window) = state else {
            return fail(.unexpectedFrame, "an EventBatch needs a producer handshake first")
        }
        guard let entry = streams[streamID] else {
            return fail(.unknownStream, "stream id \(streamID) was not bound in the handshake")
        }
        guard window.batchArrived() == .accept else {
            return fail(.creditExceeded, "the producer sent more than its \(window.capacity) batches of credit")
        }
        state = .producer(producerID: producerID, streams: streams, window: window)
        return .submit(stream: entry)
    }

    /// The engine applied (or refused) a batch: its credit returns with the ack.
    mutating func batchSettled() {
        guard case .producer(let producerID, let streams, var window) = state else { return }
        window.batchSettled()
        state = .producer(producerID: producerID, streams: streams, window: window)
    }

    mutating func subscribeReceived(_ s: Sluice_V1_Subscribe) -> Action {
        guard case .subscriberAwaitingSubscribe = state else {
            return fail(.unexpectedFrame, "Subscribe needs a subscriber handshake first")
        }
        guard let entry = outputs.first(where: { $0.name == s.stream }) ?? inputs.first(where: { $0.name == s.stream }) else {
            return fail(.unknownStream, "stream '\(s.stream)' does not exist on this node")
        }
        state = .subscriber(stream: entry.name)
        return .startSubscription(stream: entry, credit: Int(s.initialCredit == 0 ? 64 : s.initialCredit),
                                  includeExpired: s.includeExpired, resumeAfter: s.resumeAfter)
    }

    /// A cluster message frame (vote, append, snapshot chunk, witness sync) arrived.
    mutating func clusterFrameReceived() -> Action {
        guard case .peer(let id) = state else {
            return fail(.unexpectedFrame, "cluster messages need a peer-link handshake first")
        }
        return .cluster(from: id)
    }

    /// This node stopped leading: its clients must go to the new leader.
    mutating func leadershipLost(group: String) -> Action {
        switch state {
        case .producer, .subscriber, .subscriberAwaitingSubscribe:
            return fail(.notLeader, "this node no longer leads HA group '\(group)'")
        default:
            return .ignore
        }
    }

    mutating func creditReceived(_ c: Sluice_V1_Credit) -> Action {
        guard case .subscriber = state else { return fail(.unexpectedFrame, "only a subscriber grants credit to the node") }
        return .grantSubscriberCredit(Int(c.batches))
    }

    /// A frame that failed to decode, or a kind this side never accepts.
    mutating func protocolError(_ code: Sluice_V1_ErrorCode, _ message: String) -> Action {
        fail(code, message)
    }

    private mutating func fail(_ code: Sluice_V1_ErrorCode, _ message: String) -> Action {
        state = .closed
        return .fail(code, message)
    }

    /// What differs between a producer's declared schema and the node's, or nil.
    static func mismatch(_ declared: Sluice_V1_StreamSchema, _ node: StreamEntry) -> String? {
        let theirs = declared.attributes.map { "\($0.name) \(WireSchema.attributeType($0.type)?.description ?? "unknown")" }
        let ours = node.attributes.map { "\($0.name) \($0.type)" }
        guard theirs != ours else { return nil }
        if theirs.count != ours.count {
            return "stream '\(node.name)' has \(ours.count) attributes (\(ours.joined(separator: ", "))), the producer declared \(theirs.count) (\(theirs.joined(separator: ", ")))"
        }
        let i = zip(theirs, ours).enumerated().first { $0.element.0 != $0.element.1 }!.offset
        return "stream '\(node.name)' attribute \(i + 1) is '\(ours[i])', the producer declared '\(theirs[i])'"
    }
}
