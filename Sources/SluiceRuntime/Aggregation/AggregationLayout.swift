import SluiceCore

/// What an aggregation keeps per cell (one bucket of one group) and how each output reads it.
///
/// As in Siddhi, each output decomposes into base values that merge by addition, minimum,
/// maximum or union, so that a finished bucket rolls up into the next coarser duration:
/// `avg` is kept as a sum and a count of the values it saw, never as an average.
struct AggregationLayout {
    /// A value kept per cell. `argument` indexes the aggregation's evaluated argument columns.
    enum Base: Hashable {
        case longSum(argument: Int)
        case doubleSum(argument: Int)
        /// How many non-null values the argument had (avg's divisor; null sum, min and max when 0).
        case present(argument: Int)
        case longMin(argument: Int), longMax(argument: Int)
        case doubleMin(argument: Int), doubleMax(argument: Int)
        /// The distinct values seen (distinctCount).
        case distinct(argument: Int)
        /// The value of the cell's newest event, by event time (attributes that are not aggregated).
        case last(argument: Int)

        var argument: Int {
            switch self {
            case .longSum(let a), .doubleSum(let a), .present(let a), .longMin(let a), .longMax(let a),
                 .doubleMin(let a), .doubleMax(let a), .distinct(let a), .last(let a): a
            }
        }

        enum Storage { case longs, doubles, sets, values }

        var storage: Storage {
            switch self {
            case .longSum, .present, .longMin, .longMax: .longs
            case .doubleSum, .doubleMin, .doubleMax: .doubles
            case .distinct: .sets
            case .last: .values
            }
        }
    }

    /// How one output attribute is computed from the bases (indexes into `bases`).
    enum Output {
        case sum(Int, present: Int, type: AttributeType)
        case avg(sum: Int, present: Int)
        case count
        case extreme(Int, present: Int, type: AttributeType)
        case distinctCount(Int)
        case last(Int, type: AttributeType)
    }

    private(set) var bases: [Base] = []
    /// Per base, its slot among the arrays of its storage kind.
    private(set) var slots: [Int] = []
    private(set) var storageCounts: [Base.Storage: Int] = [:]
    var outputs: [Output] = []

    /// The index of `base`, added if new (outputs share bases: `sum(x)` and `avg(x)` one count).
    mutating func base(_ base: Base) -> Int {
        if let i = bases.firstIndex(of: base) { return i }
        bases.append(base)
        slots.append(storageCounts[base.storage, default: 0])
        storageCounts[base.storage, default: 0] += 1
        return bases.count - 1
    }
}
