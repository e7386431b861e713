import Foundation
import Testing
@testable import SluiceCluster

/// Random runs of the real machines. `SLUICE_SIM_SEEDS` sets how many seeds (1,000 by default;
/// `make chaos` runs more) and `SLUICE_SIM_FIRST_SEED` where they start, so a failure's seed
/// reproduces it alone: `SLUICE_SIM_FIRST_SEED=1234 SLUICE_SIM_SEEDS=1 swift test --filter Simulation`.
@Suite struct SimulationTests {
    static func environment(_ name: String) -> UInt64? {
        ProcessInfo.processInfo.environment[name].flatMap { UInt64($0) }
    }

    /// The seeds in four interleaved shares, which Swift Testing runs in parallel.
    @Test(arguments: 0..<4 as Range<UInt64>)
    func randomFaultsKeepEveryInvariant(share: UInt64) {
        let count = Self.environment("SLUICE_SIM_SEEDS") ?? 1_000
        let first = Self.environment("SLUICE_SIM_FIRST_SEED") ?? 1
        var failed = 0
        var live = 0
        for seed in first..<(first + count) where seed % 4 == share {
            let result = RandomRun.run(seed: seed)
            if result.checkedLiveness { live += 1 }
            guard result.violations.isEmpty else {
                failed += 1
                Issue.record("seed \(seed) (\(result.summary)): \(result.violations.prefix(3).joined(separator: "; "))")
                if failed >= 5 { break }
                continue
            }
        }
        #expect(failed == 0)
        #expect(live > 0 || count < 40)
    }
}

/// One seed: a random network, a random schedule of crashes, partitions and pauses for two
/// seconds, then quiet until every fault has healed and 1.2 s more. Safety is checked throughout; where no data node crashed
/// (so no log was lost) the group must also be serving again at the end.
enum RandomRun {
    struct Result {
        var violations: [String]
        var checkedLiveness: Bool
        var summary: String
    }

    static func run(seed: UInt64) -> Result {
        var rng = SeededRandom(seed: seed)
        func draw(_ range: ClosedRange<Int64>) -> Int64 { range.lowerBound + Int64(rng.next() % UInt64(range.count)) }
        let network = SimulationWorld.NetworkProfile(
            minDelayMs: 1, maxDelayMs: draw(2...20), dropRate: Double(draw(0...5)) / 100, duplicateRate: Double(draw(0...3)) / 100)
        let withWitness = seed % 5 != 0
        let crashesAllowed = seed % 3 != 0
        var world = SimulationWorld(seed: seed, network: network, withWitness: withWitness)
        world.produceEveryMs = 30
        var faults: [String] = []
        var dataCrash = false
        world.run(forMs: draw(0...600))
        while world.now < .milliseconds(2_000) {
            let duration = draw(50...1_000)
            let parties: [NodeID] = withWitness ? ["a", "b", "w"] : ["a", "b"]
            let x = parties[Int(rng.next() % UInt64(parties.count))]
            let y = parties.filter { $0 != x }[Int(rng.next() % UInt64(parties.count - 1))]
            switch rng.next() % 6 {
            case 0 where crashesAllowed:
                // One data node at a time: losing both memories loses the data by design.
                let other = x == "a" ? "b" : "a"
                if x == "w" || (world.nodes[other]?.member?.logIntact == true) {
                    world.crash(x, downMs: duration)
                    faults.append("crash \(x) \(duration)ms")
                    if x != "w" { dataCrash = true }
                }
            case 1:
                world.block(from: x, to: y, forMs: duration)
                world.block(from: y, to: x, forMs: duration)
                faults.append("partition \(x)-\(y) \(duration)ms")
            case 2:
                world.block(from: x, to: y, forMs: duration)
                faults.append("one-way \(x)->\(y) \(duration)ms")
            case 3:
                world.pause(x, forMs: duration)
                faults.append("pause \(x) \(duration)ms")
            default:
                break
            }
            world.run(forMs: draw(50...400))
        }
        world.run(until: .milliseconds(3_000))
        let acknowledgedBefore = world.acknowledged.count
        world.run(until: .milliseconds(4_200))
        var violations = world.violations
        for id in world.leaders() { world.checkLeaderHoldsAcknowledged(id) }
        violations = world.violations
        let checkLiveness = !dataCrash
        if checkLiveness {
            if world.leaders().isEmpty { violations.append("seed \(seed): no leader 1.2 s after every fault healed") }
            if world.acknowledged.count <= acknowledgedBefore {
                violations.append("seed \(seed): nothing acknowledged in the last 1.2 quiet seconds")
            }
        }
        let summary = "witness: \(withWitness), network: \(network.minDelayMs)-\(network.maxDelayMs)ms drop \(network.dropRate) dup \(network.duplicateRate), faults: \(faults.joined(separator: ", "))"
        return Result(violations: violations, checkedLiveness: checkLiveness, summary: summary)
    }
}
