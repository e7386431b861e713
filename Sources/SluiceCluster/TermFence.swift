/// A receiver's guard against deposed leaders: per group it remembers the highest term it has
/// seen and refuses anything older. A leader paused with SIGSTOP that wakes up still believes in
/// its old term; whatever it sends under that term is refused here.
public struct TermFence: Sendable, Hashable {
    public private(set) var highest: [String: Term] = [:]

    public init() {}

    /// True when `term` is the newest seen from `group` (recording it); false when fenced.
    public mutating func admit(group: String, term: Term) -> Bool {
        let known = highest[group] ?? 0
        guard term >= known else { return false }
        highest[group] = term
        return true
    }
}
