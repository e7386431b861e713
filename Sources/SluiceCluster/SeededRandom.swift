import SluiceCore

/// The machines draw election jitter from SplitMix64, so one seed reproduces a whole run
/// (Swift's `SystemRandomNumberGenerator` cannot be seeded).
public typealias SeededRandom = SplitMix64

extension SplitMix64 {
    /// A duration drawn uniformly from `0..<bound` (zero when `bound` is not positive).
    public mutating func duration(below bound: Duration) -> Duration {
        let ns = bound.nanosecondsClamped
        guard ns > 0 else { return .zero }
        return .nanoseconds(Int64(next() % UInt64(ns)))
    }
}
