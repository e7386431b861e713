import Foundation
import Logging
import SluiceCluster
import SluiceCore
import SluiceRuntime
import SluiceTransport
import SluiceWire
import Testing
@testable import SluiceServer

/// The node's HA pieces as values: who a follower turns away, what the data directory keeps,
/// what an engine snapshot carries, what outputs are retained for a resuming subscriber, and how
/// configuration becomes a group.
@Suite struct HANodeTests {
    let input = ConnectionStateMachine.StreamEntry(name: "In", attributes: [.init(name: "id", type: .long)])

    func machine(acceptsPeers: Bool = true) -> ConnectionStateMachine {
        ConnectionStateMachine(nodeID: "a", authToken: nil, credit: 4, inputs: [input], outputs: [input], acceptsPeers: acceptsPeers)
    }

    func hello(_ role: Sluice_V1_Role, name: String = "client") -> Sluice_V1_Hello {
        var h = Sluice_V1_Hello()
        h.protocolVersion = ControlMessage.protocolVersion
        h.role = role
        h.clientName = name
        if role == .producer { h.streams = [WireSchema.message(name: "In", attributes: [("id", .long)])] }
        return h
    }

    @Test func aFollowerTurnsProducersAndSubscribersAwayNamingTheLeader() {
        for role in [Sluice_V1_Role.producer, .subscriber] {
            var m = machine()
            let action = m.helloReceived(hello(role), leadership: .following(group: "g1", leader: "127.0.0.1:2"))
            guard case .fail(let code, let message) = action else {
                Issue.record("expected a refusal, got \(action)")
                continue
            }
            #expect(code == .notLeader)
            #expect(message.contains("g1") && message.contains("127.0.0.1:2"))
        }
        var m = machine()
        if case .fail(_, let message) = m.helloReceived(hello(.producer), leadership: .following(group: "g1", leader: nil)) {
            #expect(message.contains("no leader is elected yet"))
        } else {
            Issue.record("a follower without a known leader must still refuse")
        }
    }

    @Test func theLeaderServesClientsAndTurnsThemAwayWhenItStepsDown() {
        var producer = machine()
        guard case .send = producer.helloReceived(hello(.producer), leadership: .leading) else {
            Issue.record("the leader must welcome a producer")
            return
        }
        guard case .fail(.notLeader, _) = producer.leadershipLost(group: "g1") else {
            Issue.record("a producer must be told the node stopped leading")
            return
        }
        var subscriber = machine()
        _ = subscriber.helloReceived(hello(.subscriber), leadership: .leading)
        guard case .fail(.notLeader, _) = subscriber.leadershipLost(group: "g1") else {
            Issue.record("a subscriber waiting to subscribe must be told too")
            return
        }
    }

    @Test func peerLinksNeedAnHANodeANameAndTheirHandshake() {
        var m = machine()
        guard case .acceptPeer(let id, _) = m.helloReceived(hello(.node, name: "127.0.0.1:7702"),
                                                             leadership: .following(group: "g1", leader: nil)) else {
            Issue.record("an HA node takes its peer's link whatever its role")
            return
        }
        #expect(id == "127.0.0.1:7702")
        guard case .cluster(let from) = m.clusterFrameReceived() else {
            Issue.record("cluster frames flow once the link is up")
            return
        }
        #expect(from == "127.0.0.1:7702")
        #expect(m.leadershipLost(group: "g1") == .ignore, "a peer link survives a change of leader")

        var standalone = machine(acceptsPeers: false)
        guard case .fail(.unexpectedFrame, _) = standalone.helloReceived(hello(.node, name: "x")) else {
            Issue.record("a standalone node refuses peer links")
            return
        }
        var anonymous = machine()
        guard case .fail(.malformedMessage, _) = anonymous.helloReceived(hello(.node, name: "")) else {
            Issue.record("a peer link must name its node")
            return
        }
        var early = machine()
        guard case .fail(.unexpectedFrame, _) = early.clusterFrameReceived() else {
            Issue.record("cluster frames before the handshake are refused")
            return
        }
    }

    @Test func aSubscriberAsksToResumeAfterItsLastOutput() {
        var m = machine()
        _ = m.helloReceived(hello(.subscriber), leadership: .leading)
        var s = Sluice_V1_Subscribe()
        s.stream = "In"
        s.resumeAfter = 41
        guard case .startSubscription(_, _, _, let resumeAfter) = m.subscribeReceived(s) else {
            Issue.record("expected a subscription")
            return
        }
        #expect(resumeAfter == 41)
    }

    @Test func theDataDirectoryKeepsTermVoteBootCountAndWitnessState() throws {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("ha-\(UUID())").path
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let store = try HAStateStore(directory: dir)
        #expect(try store.loadMember() == PersistentState())
        try store.save(PersistentState(term: 7, votedFor: "127.0.0.1:7702"))
        #expect(try HAStateStore(directory: dir).loadMember() == PersistentState(term: 7, votedFor: "127.0.0.1:7702"))
        try store.save(PersistentState(term: 8, votedFor: nil))
        #expect(try store.loadMember() == PersistentState(term: 8, votedFor: nil))
        #expect(try store.nextIncarnation() == 1)
        #expect(try store.nextIncarnation() == 2)
        let witness = Witness.State(term: 3, votedFor: "a", knownLog: LogPosition(term: 3, index: 99))
        try store.save(witness, group: "g1")
        #expect(try store.loadWitness(group: "g1") == witness)
        #expect(try store.loadWitness(group: "g2") == Witness.State())
        #expect(!FileManager.default.fileExists(atPath: dir + "/term.tmp"), "writes go through a renamed temporary file")
    }

    @Test func anEngineSnapshotCarriesProducerSequencesAndTheOutputSequence() throws {
        var sequences = ProducerSequences(memory: 3)
        for s in [1, 2, 3, 4, 5] as [UInt64] { _ = sequences.apply(producer: 9, sequence: s) }
        _ = sequences.apply(producer: 2, sequence: 40)
        var origins = OriginSequences()
        _ = origins.admit(OutputOrigin(group: "g2", term: 4, sequence: 77, part: 1), stream: "In")
        let state = EngineState(runtime: [1, 2, 3, 250], sequences: sequences.encoded, outputSequence: 1234, origins: origins)
        let back = try EngineState(decoding: state.encoded)
        #expect(back.runtime == [1, 2, 3, 250] && back.outputSequence == 1234)
        var backOrigins = back.origins
        #expect(backOrigins.admit(OutputOrigin(group: "g2", term: 4, sequence: 77, part: 1), stream: "In") == .repeated)
        let restored = try #require(ProducerSequences(memory: 3, encoded: back.sequences))
        for s in [1, 2, 3, 4, 5] as [UInt64] { #expect(restored.wasApplied(producer: 9, sequence: s)) }
        #expect(!restored.wasApplied(producer: 9, sequence: 6))
        #expect(restored.wasApplied(producer: 2, sequence: 40) && !restored.wasApplied(producer: 2, sequence: 41))
        #expect(ProducerSequences(encoded: [1, 0, 5, 1]) == nil, "a count past the end is refused")

        var truncated = state.encoded
        truncated.removeLast()
        #expect(throws: (any Error).self) { try EngineState(decoding: truncated) }
        #expect(throws: (any Error).self) { try EngineState(decoding: Array("not a snapshot".utf8)) }
    }

    @Test func retainedOutputsAreBoundedReleasedByTheWatermarkAndFilteredByStream() {
        func batch(_ n: Int) -> EventBatch {
            var b = EventBatch(types: [.long])
            for i in 0..<n { b.append(timestamp: Int64(i), values: [.long(Int64(i))]) }
            return b
        }
        var kept = RetainedOutputs(maxBatches: 4, maxEvents: 100)
        for s in 1...6 as ClosedRange<UInt64> { kept.append(sequence: s, stream: s % 2 == 0 ? "Even" : "Odd", batch: batch(1)) }
        #expect(kept.count == 4, "the oldest go beyond the batch bound")
        #expect(kept.after(0, stream: "Even").map(\.sequence) == [4, 6])
        #expect(kept.after(4, stream: "Even").map(\.sequence) == [6])
        kept.release(through: 4)
        #expect(kept.after(0, stream: "Odd").map(\.sequence) == [5])
        kept.append(sequence: 7, stream: "Odd", batch: batch(99))
        #expect(kept.after(0, stream: "Odd").map(\.sequence) == [7], "the event bound drops older batches, never the newest")
    }

    /// A resume position below what a stream dropped would skip outputs: the node says which.
    @Test func retainedOutputsKnowWhatEachStreamDropped() {
        var kept = RetainedOutputs(maxBatches: 3, maxEvents: 100)
        var one = EventBatch(types: [.long])
        one.append(timestamp: 0, values: [.long(1)])
        for (s, stream) in zip(1...6 as ClosedRange<UInt64>, ["A", "A", "B", "A", "B", "B"]) { kept.append(sequence: s, stream: stream, batch: one) }
        // Kept: 4 (A), 5 (B), 6 (B); dropped: 1, 2 (A) and 3 (B).
        #expect(kept.gap(after: 1, stream: "A") == 2...2)
        #expect(kept.gap(after: 2, stream: "A") == nil)
        #expect(kept.gap(after: 2, stream: "B") == 3...3)
        #expect(kept.gap(after: 3, stream: "B") == nil)
        #expect(kept.gap(after: 0, stream: "C") == nil, "a stream that never output lost nothing")
        kept.release(through: 5)
        #expect(kept.gap(after: 3, stream: "A") == 4...4 && kept.gap(after: 4, stream: "B") == 5...5)
        let restored = RetainedOutputs(unknownThrough: 10)
        #expect(restored.gap(after: 7, stream: "C") == 8...10 && restored.gap(after: 10, stream: "C") == nil)
    }

    @Test func anEnabledClusterSectionBecomesTheNodesGroup() throws {
        let yaml = """
        node: { id: a1, listen: 127.0.0.1:7701, dataDir: /var/sluice/a1 }
        cluster: { enabled: true, groupId: g1, peer: 127.0.0.1:7802, peerId: 127.0.0.1:7702, witness: 127.0.0.1:7600,
                   heartbeatInterval: 50ms, heartbeatMaxRetry: 4, replication: async }
        apps: [ app.siddhi ]
        """
        let file = try NodeConfigFile.parse(yaml: yaml, file: "node.yaml", baseDirectory: "/etc") { _ in true }
        let ha = try #require(file.nodeConfiguration(appSource: "").ha)
        #expect(ha.group.groupID == "g1" && ha.group.selfID == "127.0.0.1:7701")
        #expect(ha.group.peerID == "127.0.0.1:7702", "peerId names the peer when `peer` is a relay")
        #expect(ha.peerAddress.description == "127.0.0.1:7802" && ha.group.witnessID == "127.0.0.1:7600")
        #expect(ha.group.heartbeatInterval == .milliseconds(50) && ha.group.heartbeatMaxRetry == 4)
        #expect(ha.group.replication == .async && ha.dataDirectory == "/var/sluice/a1/ha")

        let standalone = try NodeConfigFile.parse(yaml: "node: { id: a, listen: 127.0.0.1:1 }\napps: [a]", file: "n", baseDirectory: "/")
            { _ in true }
        #expect(standalone.nodeConfiguration(appSource: "").ha == nil)

        for (text, message) in [
            ("cluster: { enabled: true, groupId: g, peer: 127.0.0.1:2 }", "'node.dataDir' is required"),
            ("cluster: { enabled: true, groupId: g, peer: 127.0.0.1:2, witness: 127.0.0.1:2 }", "'cluster.witness' must be a third party"),
            ("cluster: { enabled: true, groupId: g, peer: 127.0.0.1:2, replication: sometimes }", "'cluster.replication' must be"),
        ] {
            do {
                _ = try NodeConfigFile.parse(yaml: "node: { id: a, listen: 127.0.0.1:1 }\n\(text)\napps: [a]", file: "n",
                                             baseDirectory: "/") { _ in true }
                Issue.record("expected an error for \(text)")
            } catch {
                #expect(error.message.hasPrefix(message), "\(error.message)")
            }
        }
    }

    @Test func aTopologysWitnessAndReplicationReachEveryStatefulNode() throws {
        let yaml = """
        name: demo
        stateful:
          apps: [ stats.siddhi ]
          replication: sync
          witness: { listen: 127.0.0.1:27790 }
          groups:
            g1:
              a1: { listen: 127.0.0.1:27721, admin: 127.0.0.1:27821 }
              b1: { listen: 127.0.0.1:27722, admin: 127.0.0.1:27822 }
        """
        let topology = try Topology.parse(yaml: yaml, file: "t.yaml", baseDirectory: "/srv") { _ in true }
        #expect(topology.witness?.listen.description == "127.0.0.1:27790" && topology.replication == .sync)
        let node = try topology.nodeConfigYAML(for: "a1", source: "t.yaml", defaultDataDir: "/run/a1")
        let config = try NodeConfigFile.parse(yaml: node, file: "node.yaml", baseDirectory: "/") { _ in true }
        let ha = try #require(config.nodeConfiguration(appSource: "").ha)
        #expect(ha.group.peerID == "127.0.0.1:27722" && ha.group.witnessID == "127.0.0.1:27790" && ha.group.replication == .sync)

        let clash = yaml.replacingOccurrences(of: "27790", with: "27721")
        #expect(throws: ConfigError.self) { try Topology.parse(yaml: clash, file: "t.yaml", baseDirectory: "/srv") { _ in true } }
    }

    @Test func aNodeCanAlsoBeTheWitnessAndATopologyCanNameOne() throws {
        let yaml = """
        node: { id: p1, listen: 127.0.0.1:27711, dataDir: /var/sluice/p1 }
        witness: { enabled: true, heartbeatInterval: 50ms, heartbeatMaxRetry: 4 }
        apps: [ a.siddhi ]
        """
        let file = try NodeConfigFile.parse(yaml: yaml, file: "node.yaml", baseDirectory: "/") { _ in true }
        let hosting = try #require(file.nodeConfiguration(appSource: "").witness)
        #expect(hosting.dataDirectory == "/var/sluice/p1/witness" && hosting.failureTimeout == .milliseconds(200))
        #expect(throws: ConfigError.self) {
            try NodeConfigFile.parse(yaml: "node: { id: p, listen: 127.0.0.1:1 }\nwitness: { enabled: true }\napps: [a]", file: "n",
                                     baseDirectory: "/") { _ in true }
        }

        let topology = """
        name: demo
        partitioner:
          apps: [ p.siddhi ]
          nodes:
            p1: { listen: 127.0.0.1:27711, admin: 127.0.0.1:27811 }
        stateful:
          apps: [ s.siddhi ]
          witness: p1
          groups:
            g1:
              a1: { listen: 127.0.0.1:27721, admin: 127.0.0.1:27821 }
              b1: { listen: 127.0.0.1:27722, admin: 127.0.0.1:27822 }
        """
        let parsed = try Topology.parse(yaml: topology, file: "t.yaml", baseDirectory: "/srv") { _ in true }
        #expect(parsed.witnessNode == "p1" && parsed.witness == nil)
        let p1 = try NodeConfigFile.parse(yaml: try parsed.nodeConfigYAML(for: "p1", source: "t.yaml", defaultDataDir: "/run/p1"),
                                          file: "node.yaml", baseDirectory: "/") { _ in true }
        #expect(p1.witness != nil)
        let a1 = try NodeConfigFile.parse(yaml: try parsed.nodeConfigYAML(for: "a1", source: "t.yaml", defaultDataDir: "/run/a1"),
                                          file: "node.yaml", baseDirectory: "/") { _ in true }
        #expect(a1.cluster?.witness?.description == "127.0.0.1:27711" && a1.witness == nil)
        let wrong = topology.replacingOccurrences(of: "witness: p1", with: "witness: a1")
        #expect(throws: ConfigError.self) { try Topology.parse(yaml: wrong, file: "t.yaml", baseDirectory: "/srv") { _ in true } }
    }
}

/// The engine thread with a tiny retention: a subscriber resuming below what was dropped is told
/// which outputs are gone instead of silently skipping them.
@Suite struct RetentionGapTests {
    final class Recorder: OutputSubscriber, @unchecked Sendable {
        let id: UInt64
        private let lock = NSLock()
        private var _sequences: [UInt64] = []
        private var _missed: [String] = []
        init(id: UInt64) { self.id = id }
        var resumesItself: Bool { true }
        var sequences: [UInt64] { lock.withLock { _sequences } }
        var missedReasons: [String] { lock.withLock { _missed } }
        func deliver(_ batch: EventBatch, stamp: OutputOrigin?) { lock.withLock { _sequences.append(stamp?.sequence ?? 0) } }
        func missed(_ reason: String) { lock.withLock { _missed.append(reason) } }
    }

    struct NoReply: BatchReply {
        func applied(producer: UInt64, sequence: UInt64, duplicate: Bool) {}
        func refused(producer: UInt64, sequence: UInt64, reason: String) {}
    }

    @Test func aResumeBelowTheDroppedOutputsIsRefusedWithTheMissingRange() throws {
        let runtime = try AppRuntime(source: "define stream Values (v long);\nfrom Values select v insert into Out;")
        let engine = EngineLoop(runtime: runtime, haOutputs: ("g1", ["Out"]), retention: (3, 100), logger: Logger(label: "test"))
        engine.start(name: "retention-test")
        for i in 1...6 as ClosedRange<UInt64> {
            var b = EventBatch(types: [.long])
            b.append(timestamp: Int64(i), values: [.long(Int64(i))])
            #expect(engine.submit(.batch(stream: "Values", batch: b, producer: 9, sequence: i, reply: NoReply())))
        }
        let late = Recorder(id: 1), recent = Recorder(id: 2)
        #expect(engine.submit(.subscribe(stream: "Out", subscriber: late, resumeAfter: 1)))
        #expect(engine.submit(.subscribe(stream: "Out", subscriber: recent, resumeAfter: 4)))
        engine.stop()
        #expect(late.sequences.isEmpty)
        #expect(late.missedReasons.count == 1 && late.missedReasons[0].contains("outputs 2 through 3"))
        #expect(recent.sequences == [5, 6] && recent.missedReasons.isEmpty)
    }
}
