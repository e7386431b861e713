import SluiceCore

/// One stream event of a pattern or sequence: `e1=S[filter]`.
struct PatternLeaf {
    var stream: String
    var types: [AttributeType]
    /// Over the partial's columns it may see, then this event; nil accepts every event.
    var filter: CompiledExpression?
    /// Whether the filter reads the partial (else it is evaluated once per chunk).
    var readsEarlier: Bool
}

/// One side of `and` / `or`: an event, or `not S[…] [for t]`.
enum PatternSide {
    case event(PatternLeaf)
    /// Without `for`, the absence holds until the `and`'s other side arrives.
    case absent(PatternLeaf, waitFor: Int64?)

    var leaf: PatternLeaf {
        switch self {
        case .event(let l), .absent(let l, _): l
        }
    }

    /// The columns the side adds to a match: none for an absence, which has no event.
    var eventTypes: [AttributeType] {
        if case .event(let l) = self { return l.types }
        return []
    }
}

/// One step of a pattern (`->`) or sequence (`,`) and the columns it adds to a match.
enum PatternElement {
    /// `e1=S[…]`.
    case single(PatternLeaf)
    /// `e1=S[…]<min:max>`, and a sequence's `*`, `+` and `?`. It keeps the events its query
    /// names by index: the first `head` (`e1[0]`, `e1[1]`…) and the last `tail` (`e1[last]`,
    /// `e1[last-1]`…), then the number collected.
    case count(PatternLeaf, min: Int, max: Int, head: Int, tail: Int)
    /// `A and B`, `A or B`; then two bookkeeping columns: which sides happened, and when an absence is over.
    case logical(isAnd: Bool, PatternSide, PatternSide)
    /// `not S[…] for t`; then one bookkeeping column: when the absence is over.
    case absent(PatternLeaf, waitFor: Int64)

    /// The logical element's bookkeeping bits.
    static let leftTaken: Int64 = 1, rightTaken: Int64 = 2, absenceOver: Int64 = 4, absenceBroken: Int64 = 8

    var leaves: [PatternLeaf] {
        switch self {
        case .single(let l), .count(let l, _, _, _, _), .absent(let l, _): [l]
        case .logical(_, let a, let b): [a.leaf, b.leaf]
        }
    }

    /// Whether a partial stays at this element for more than one event (it then carries the element's columns while it waits).
    var takesSteps: Bool {
        if case .single = self { return false }
        return true
    }

    var columnTypes: [AttributeType] {
        switch self {
        case .single(let l): l.types
        case .count(let l, _, _, let head, let tail): Array([[AttributeType]](repeating: l.types, count: head + tail).joined()) + [.long]
        case .logical(_, let a, let b): a.eventTypes + b.eventTypes + [.long, .long]
        case .absent: [.long]
        }
    }

    /// An absence's duration, if the element waits for one.
    var waitFor: Int64? {
        switch self {
        case .absent(_, let t): t
        case .logical(_, let a, let b):
            if case .absent(_, let t?) = a { t } else if case .absent(_, let t?) = b { t } else { nil }
        default: nil
        }
    }
}
