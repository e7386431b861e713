import SluiceWire
import Testing
@testable import SluiceCluster

/// The named failures of the HA issue, each on the real machines in the simulated world with
/// default timeouts (100 ms × 3) and a clean 1 ms network, so the timings are exact.
@Suite struct FailureScenarioTests {
    /// A settled group: `a` or `b` leads, producing has run for a second.
    static func settled(seed: UInt64 = 7, withWitness: Bool = true) -> (SimulationWorld, NodeID) {
        var world = SimulationWorld(seed: seed, network: .perfect, withWitness: withWitness)
        world.run(forMs: 1_500)
        let leaders = world.leaders()
        #expect(leaders.count == 1, "seed \(seed): leaders \(leaders)")
        return (world, leaders.first ?? "a")
    }

    static func other(_ id: NodeID) -> NodeID { id == "a" ? "b" : "a" }

    @Test func aGroupElectsOneLeaderAndAcknowledges() {
        let (world, _) = Self.settled()
        #expect(world.violations.isEmpty, "\(world.violations)")
        #expect(world.leadersElected.count == 1)
        #expect(world.acknowledged.count > 40)
        #expect(world.deliveredBatches.count > 40)
    }

    @Test(arguments: [1, 2, 3, 4, 5, 6, 7, 8] as [UInt64])
    func leaderKilledFollowerTakesOverWithinTheDeadline(seed: UInt64) {
        var (world, leader) = Self.settled(seed: seed)
        let killedAt = world.now
        let acknowledged = world.acknowledged
        world.crash(leader, downMs: 60_000)
        world.run(forMs: 1_000)
        let successor = world.leadersElected.last!
        #expect(successor.node == Self.other(leader), "seed \(seed)")
        let gap = successor.at - killedAt
        #expect(gap <= .milliseconds(500), "seed \(seed): failover took \(gap)")
        // Everything acknowledged before the kill survives, and input flows again (degraded).
        for batch in acknowledged.keys { #expect(world.acknowledged[batch] != nil) }
        #expect(world.acknowledged.count > acknowledged.count, "seed \(seed)")
        #expect(world.violations.isEmpty, "seed \(seed): \(world.violations)")
    }

    @Test func partitionBetweenDataNodesWhileTheWitnessSeesBothNeverMakesTwoLeaders() {
        var (world, leader) = Self.settled()
        let acknowledged = world.acknowledged.count
        world.block(from: "a", to: "b", forMs: 5_000)
        world.block(from: "b", to: "a", forMs: 5_000)
        world.run(forMs: 5_000)
        // The witness keeps hearing the leader, so the cut-off follower never wins a pre-vote.
        #expect(world.leadersElected.count == 1)
        #expect(world.leaders() == [leader])
        #expect(world.acknowledged.count > acknowledged + 100, "the leader acknowledges alone, degraded")
        world.run(forMs: 2_000)
        #expect(world.nodes[Self.other(leader)]!.engine.appliedIndex + 10 >= world.nodes[leader]!.engine.appliedIndex)
        #expect(world.violations.isEmpty, "\(world.violations)")
    }

    @Test(arguments: [true, false])
    func oneWayPartitionSettlesWithoutFlapping(leaderToFollower: Bool) {
        var (world, leader) = Self.settled()
        let follower = Self.other(leader)
        let (from, to) = leaderToFollower ? (leader, follower) : (follower, leader)
        world.block(from: from, to: to, forMs: 60_000)
        world.run(forMs: 60_000)
        #expect(world.leadersElected.count < 1 + 3, "elections: \(world.leadersElected.map { "\($0.node)@\($0.term)" })")
        #expect(world.leaders().count == 1)
        #expect(world.violations.isEmpty, "\(world.violations)")
    }

    @Test func steadyGroupDoesNotFlap() {
        var world = SimulationWorld(seed: 11, network: SimulationWorld.NetworkProfile(minDelayMs: 1, maxDelayMs: 30, dropRate: 0.02))
        world.run(forMs: 60_000)
        #expect(world.leadersElected.count < 3, "elections in a minute: \(world.leadersElected.count)")
        #expect(world.violations.isEmpty, "\(world.violations)")
    }

    @Test func pausedLeaderResumedAfterTwiceTheTimeoutIsFenced() {
        var (world, leader) = Self.settled()
        let timeout = world.configurations[leader]!.failureTimeout
        let pauseMs = 2 * Int64(timeout.components.seconds * 1_000 + timeout.components.attoseconds / 1_000_000_000_000_000)
        world.pause(leader, forMs: pauseMs)
        world.run(forMs: pauseMs + 300)
        #expect(world.leaders() == [Self.other(leader)])
        #expect(world.nodes[leader]!.member!.isLeader == false)
        #expect(world.nodes[leader]!.member!.term < world.nodes[Self.other(leader)]!.member!.term + 1)
        // Whatever the woken leader still sends under its old term is refused downstream.
        var receiver = world.delivered
        let stale = OutputIdentity(group: SimulationWorld.group, term: world.leadersElected.first!.term, sequence: 1_000_000)
        #expect(receiver.receive(stale) == .fenced(highestTerm: world.leadersElected.last!.term))
        #expect(world.violations.isEmpty, "\(world.violations)")
    }

    @Test func killedFollowerRejoinsByCatchUpAndCanThenTakeOver() {
        var (world, leader) = Self.settled()
        let follower = Self.other(leader)
        world.crash(follower, downMs: 2_000)
        world.run(forMs: 2_000)
        #expect(world.nodes[leader]!.member!.isDegraded(at: world.now))
        world.run(forMs: 1_000)
        let rejoined = world.nodes[follower]!
        #expect(rejoined.member!.logIntact, "caught up from a snapshot and the tail")
        #expect(rejoined.engine.appliedIndex + 10 >= world.nodes[leader]!.engine.appliedIndex)
        #expect(world.nodes[leader]!.member!.isDegraded(at: world.now) == false)
        // Bounded memory: the leader's log holds only what the follower has not applied.
        #expect(world.nodes[leader]!.member!.log.count < 64)
        world.crash(leader, downMs: 60_000)
        world.run(forMs: 1_000)
        #expect(world.leaders() == [follower])
        #expect(world.violations.isEmpty, "\(world.violations)")
    }

    @Test func withoutWitnessALeaderThatLosesItsFollowerStopsAcknowledging() {
        var (world, leader) = Self.settled(withWitness: false)
        world.crash(Self.other(leader), downMs: 60_000)
        world.run(forMs: 400)
        let acknowledged = world.acknowledged.count
        world.run(forMs: 2_000)
        #expect(world.acknowledged.count == acknowledged)
        #expect(world.leaders() == [leader], "it keeps leading, but alone it commits nothing")
        #expect(world.violations.isEmpty, "\(world.violations)")
    }

    @Test func withoutWitnessTheFollowerTakesOverAndAcknowledgesOnceThePeerIsBack() {
        var (world, leader) = Self.settled(withWitness: false)
        world.crash(leader, downMs: 1_000)
        world.run(forMs: 3_000)
        #expect(world.leaders() == [Self.other(leader)])
        let acknowledged = world.acknowledged.count
        world.run(forMs: 1_000)
        #expect(world.acknowledged.count > acknowledged)
        #expect(world.violations.isEmpty, "\(world.violations)")
    }

    @Test func asyncReplicationAcknowledgesBeforeTheFollowerHasTheEntry() {
        var world = SimulationWorld(seed: 3, network: .perfect, replication: .async)
        world.run(forMs: 1_000)
        let leader = world.leaders().first!
        world.block(from: leader, to: Self.other(leader), forMs: 10_000)
        world.block(from: leader, to: "w", forMs: 10_000)
        let acknowledged = world.acknowledged.count
        world.run(forMs: 200)
        // Acknowledged on the leader alone: these are the tail a crash now would lose.
        #expect(world.acknowledged.count > acknowledged)
    }
}
