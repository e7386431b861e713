import SluiceCore
import SluiceWire

/// A seeded generator, so a failing random case reproduces.
struct SplitMix64: RandomNumberGenerator {
    var state: UInt64
    init(seed: UInt64) { state = seed }
    mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }
}

enum TestBatches {
    static let allTypes: [AttributeType] = [.string, .int, .long, .float, .double, .bool]

    static let strings = [
        "", "a", "WSO2", "foo.com", "Grüße", "日本語のテキスト", "🍕🍕 pizza", "e\u{301}", "\u{0}nul",
        "a string that is longer than fifteen bytes, so it is not stored inline",
        String(repeating: "x", count: 200), String(repeating: "ü", count: 90),
    ]

    /// A random schema of `arity` attributes.
    static func schema<R: RandomNumberGenerator>(arity: Int, using rng: inout R) -> [AttributeType] {
        (0..<arity).map { _ in allTypes.randomElement(using: &rng)! }
    }

    /// A batch with values across each type's range, nulls in about `nullRate` of the cells, and
    /// some expired rows when `kinds` is set.
    static func batch<R: RandomNumberGenerator>(_ types: [AttributeType], count: Int, nullRate: Double = 0.1,
                                                kinds: Bool = false, using rng: inout R) -> EventBatch {
        var batch = EventBatch(types: types, capacity: count)
        var time = Int64.random(in: -1_000_000...1_800_000_000_000, using: &rng)
        // Some columns hold clustered values (the delta-coded path), others spread ones.
        let clustered = types.map { _ in Bool.random(using: &rng) }
        var base = types.map { _ in Int64.random(in: -1_000_000_000...1_000_000_000, using: &rng) }
        for _ in 0..<count {
            time &+= Int64.random(in: -5...1_000, using: &rng)
            let values: [Value] = types.indices.map { i in
                if Double.random(in: 0..<1, using: &rng) < nullRate { return .null }
                switch types[i] {
                case .string: return .string(strings.randomElement(using: &rng)! + (Bool.random(using: &rng) ? "" : "\(rng.next() % 1000)"))
                case .int: return .int(clustered[i] ? Int32(truncatingIfNeeded: base[i] >> 8) &+ Int32.random(in: -3...3, using: &rng) : Int32.random(in: .min ... .max, using: &rng))
                case .long:
                    if clustered[i] {
                        base[i] &+= Int64.random(in: 0...100, using: &rng)
                        return .long(base[i])
                    }
                    return .long([Int64.min, Int64.max, 0, -1, Int64.random(in: .min ... .max, using: &rng)].randomElement(using: &rng)!)
                case .float: return .float([Float.infinity, -0.0, 1.5, Float.random(in: -1e6...1e6, using: &rng)].randomElement(using: &rng)!)
                case .double: return .double([Double.infinity, -Double.infinity, -0.0, .ulpOfOne, Double.random(in: -1e300...1e300, using: &rng)].randomElement(using: &rng)!)
                case .bool: return .bool(Bool.random(using: &rng))
                case .object: return .null
                }
            }
            let kind: EventKind = kinds ? [.current, .expired, .reset].randomElement(using: &rng)! : .current
            batch.append(timestamp: time, values: values, kind: kind)
        }
        return batch
    }

    /// The seed's 17-attribute `Request` stream.
    static let requestSchema: [AttributeType] = Array(repeating: .string, count: 13) + [.long, .bool, .long, .long]
}

/// Batches compare by their lanes' bits (so -0.0 and infinities count) and their null flags.
func sameEvents(_ a: EventBatch, _ b: EventBatch) -> Bool {
    guard a.timestamps == b.timestamps, a.kinds == b.kinds, a.columns.count == b.columns.count else { return false }
    for (x, y) in zip(a.columns, b.columns) {
        guard x.type == y.type, x.count == y.count else { return false }
        for row in 0..<x.count {
            guard x.isNull(row) == y.isNull(row) else { return false }
            if x.isNull(row) { continue }
            switch x.type {
            case .int, .long: guard x.longs[row] == y.longs[row] else { return false }
            case .float, .double: guard x.doubles[row].bitPattern == y.doubles[row].bitPattern else { return false }
            case .bool: guard x.bools[row] == y.bools[row] else { return false }
            case .string: guard x.strings[row].utf8.elementsEqual(y.strings[row].utf8) else { return false }
            case .object: return false
            }
        }
    }
    return true
}
