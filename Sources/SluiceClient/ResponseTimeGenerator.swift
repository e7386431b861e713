import SluiceCore

/// The events of the peers' benchmark job (`make bench-peers`, perf/peers/README.md), defined by a
/// formula so that every peer, in any language, generates the very same events:
/// event i has `tenant` "tenant%02d" of (i·7919) mod 50, `ts` 1,700,000,000,000 + i (ms) and
/// `responseTime` (i·2654435761) mod 1000.
public struct ResponseTimeGenerator: Sendable {
    public static let attributes: [(String, AttributeType)] = [("tenant", .string), ("ts", .long), ("responseTime", .long)]
    public static let start: Int64 = 1_700_000_000_000

    public static func schema(stream: String = "Request") -> EventSchema { EventSchema(stream, attributes) }

    public static func tenant(ofEvent i: Int) -> Int { (i &* 7919) % 50 }
    public static func responseTime(ofEvent i: Int) -> Int64 { Int64((i &* 2_654_435_761) % 1_000) }
    public static func timestamp(ofEvent i: Int) -> Int64 { start + Int64(i) }

    /// "tenant00" … "tenant49": eight bytes, so an inline Swift string.
    public static let tenantNames: [String] = (0..<50).map { $0 < 10 ? "tenant0\($0)" : "tenant\($0)" }

    /// The index of the next event.
    public private(set) var next: Int

    public init(first: Int = 0) { next = first }

    /// Events `next ..< next + count` as one batch; the engine timestamp is `ts`.
    public mutating func batch(_ count: Int) -> EventBatch {
        let range = next..<(next + count)
        next += count
        return Self.batch(range)
    }

    public static func batch(_ range: Range<Int>) -> EventBatch {
        let timestamps = range.map(timestamp(ofEvent:))
        var tenants = StringLane()
        tenants.reserveCapacity(rows: range.count, bytes: range.count * 8)
        for i in range { tenants.append(tenantNames[tenant(ofEvent: i)]) }
        return EventBatch(timestamps: timestamps, columns: [
            Column(strings: tenants), Column(longs: timestamps), Column(longs: range.map(responseTime(ofEvent:))),
        ])
    }
}
