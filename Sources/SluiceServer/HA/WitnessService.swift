import Logging
import NIOCore
import SluiceCluster
import SluiceCore
import SluiceTransport
import SluiceWire

/// The witness of any number of HA groups, on one event loop: per group a `Witness` machine whose
/// state is persisted before it answers, and the peer-link connections of the data nodes, by node
/// id, that its answers go back on. `sluice witness` runs one on its own port; a node configured
/// with `witness: { enabled: true }` (a partitioner, say) runs one beside its app.
final class WitnessService: @unchecked Sendable {
    let selfID: NodeID
    let failureTimeout: Duration
    private let store: HAStateStore
    private let logger: Logger
    private var witnesses: [String: Witness] = [:]
    private var connections: [NodeID: Channel] = [:]

    init(selfID: NodeID, dataDirectory: String, failureTimeout: Duration, logger: Logger) throws {
        self.selfID = selfID
        self.failureTimeout = failureTimeout
        self.logger = logger
        store = try HAStateStore(directory: dataDirectory)
    }

    /// A data node's peer link is up: answers to `nodeID` go on `channel`.
    func connected(_ nodeID: NodeID, on channel: Channel) {
        connections[nodeID] = channel
    }

    func closed(_ channel: Channel) {
        connections = connections.filter { $0.value !== channel }
    }

    func received(_ message: ClusterMessage, group: String, from sender: NodeID) {
        var witness: Witness
        if let known = witnesses[group] {
            witness = known
        } else {
            do {
                witness = Witness(selfID: selfID, persisted: try store.loadWitness(group: group), failureTimeout: failureTimeout)
            } catch {
                logger.error("cannot read the witness state", metadata: ["group": "\(group)", "error": "\(error)"])
                return
            }
        }
        var actions = witness.received(message, from: sender, now: GroupDriver.now())
        while !actions.isEmpty {
            var next: [Witness.Action] = []
            for action in actions {
                switch action {
                case .persist(let state):
                    do {
                        try store.save(state, group: group)
                    } catch {
                        logger.critical("cannot persist the witness state", metadata: ["error": "\(error)"])
                        fatalError("cannot persist the witness state: \(error)")
                    }
                    next += witness.persisted(state)
                case .send(let to, let reply):
                    guard let channel = connections[to] else { continue }
                    for frame in reply.frames(group: group) { channel.write(frame, promise: nil) }
                    channel.flush()
                }
            }
            actions = next
        }
        witnesses[group] = witness
    }
}
