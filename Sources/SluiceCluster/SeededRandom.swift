/// SplitMix64: a small, seeded, deterministic generator. The machines draw election jitter from
/// it, so one seed reproduces a whole run (Swift's `SystemRandomNumberGenerator` cannot be seeded).
public struct SeededRandom: RandomNumberGenerator, Sendable, Hashable {
    private var state: UInt64

    public init(seed: UInt64) { state = seed }

    public mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }

    /// A duration drawn uniformly from `0..<bound` (zero when `bound` is not positive).
    public mutating func duration(below bound: Duration) -> Duration {
        let ns = bound.nanosecondsClamped
        guard ns > 0 else { return .zero }
        return .nanoseconds(Int64(next() % UInt64(ns)))
    }
}
