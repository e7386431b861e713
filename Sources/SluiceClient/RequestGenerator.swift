import SluiceCore

/// Deterministic seed-style `Request` events (the API-analytics stream of the seed app): 50
/// tenants `tenant00.com` … `tenant49.com`, each with its applications, APIs and users. The
/// same seed gives the same events, so load runs and tests can be compared and replayed.
public struct RequestGenerator: Sendable {
    public static let attributes: [(String, AttributeType)] = [
        ("meta_clientType", .string), ("applicationConsumerKey", .string), ("applicationName", .string),
        ("applicationId", .string), ("applicationOwner", .string), ("apiContext", .string), ("apiName", .string),
        ("apiVersion", .string), ("apiCreator", .string), ("apiTier", .string), ("apiHostname", .string),
        ("username", .string), ("userTenantDomain", .string), ("requestTimestamp", .long), ("throttledOut", .bool),
        ("responseTime", .long), ("backendTime", .long),
    ]

    /// With `ids`, a last attribute `requestId long` that `sluice send --ids` fills with 1, 2, …
    public static func schema(stream: String = "Request", ids: Bool = false) -> EventSchema {
        EventSchema(stream, ids ? attributes + [("requestId", .long)] : attributes)
    }

    public static let defaultSeed: UInt64 = 0x5EED_CAFE
    public static let defaultStart: Int64 = 1_700_000_000_000

    struct Application: Sendable {
        let consumerKey: String, name: String, id: String, owner: String
    }

    struct API: Sendable {
        let context: String, name: String, version: String, creator: String, tier: String, hostname: String
    }

    struct Tenant: Sendable {
        let domain: String
        let applications: [Application]
        let apis: [API]
        let users: [String]
    }

    private let tenants: [Tenant]
    /// Per string column, every value it can take, indexed by code: client types; then per
    /// application (columns 1–4), per API (5–10), per user (11) and per tenant (12). Events are
    /// drawn as codes, then each column copies its rows from its pool in one pass.
    private let pools: [Column]
    private var rng: SplitMix64
    /// The next event's time, milliseconds.
    public private(set) var clock: Int64
    public private(set) var generated = 0

    public init(seed: UInt64 = RequestGenerator.defaultSeed, start: Int64 = RequestGenerator.defaultStart, tenants: Int = 50) {
        var rng = SplitMix64(seed: seed)
        let appNames = ["PizzaShack Mobile", "WeatherBoard", "Payments Portal", "Fleet Tracker", "Checkout Web",
                        "Inventory Sync", "Travel Desk", "Health Hub", "Loyalty App", "Partner Gateway"]
        let apiNames = [("PizzaShackAPI", "pizzashack"), ("WeatherAPI", "weather"), ("PaymentsAPI", "payments"),
                        ("StockQuoteAPI", "stockquote"), ("BookingAPI", "booking"), ("InventoryAPI", "inventory"),
                        ("NotificationsAPI", "notify"), ("GeoLocationAPI", "geo")]
        let versions = ["1.0.0", "1.1.0", "2.0.0", "v3"]
        let tiers = ["Unlimited", "Gold", "Silver", "Bronze"]
        let people = ["alice", "bob", "chen", "dana", "emeka", "farah", "gita", "hiro", "ines", "jonas",
                      "kofi", "lena", "mateo", "nour", "olga", "priya", "quinn", "rafael", "sara", "tomas"]
        var made: [Tenant] = []
        for t in 0..<max(1, tenants) {
            let domain = t < 10 ? "tenant0\(t).com" : "tenant\(t).com"
            var applications: [Application] = []
            for _ in 0..<Self.applicationsPerTenant {
                let name = appNames[rng.below(appNames.count)]
                let owner = "\(people[rng.below(people.count)])@\(domain)"
                applications.append(Application(consumerKey: rng.token(28), name: name, id: rng.uuid(), owner: owner))
            }
            var apis: [API] = []
            for _ in 0..<Self.apisPerTenant {
                let (name, path) = apiNames[rng.below(apiNames.count)]
                let version = versions[rng.below(versions.count)]
                apis.append(API(context: "/t/\(domain)/\(path)/\(version)", name: name, version: version,
                                creator: "admin@\(domain)", tier: tiers[rng.below(tiers.count)],
                                hostname: "gw\(rng.below(4) + 1).\(domain)"))
            }
            let users = (0..<Self.usersPerTenant).map { i in "\(people[i % people.count])\(i / people.count == 0 ? "" : String(i))@\(domain)" }
            made.append(Tenant(domain: domain, applications: applications, apis: apis, users: users))
        }
        self.tenants = made
        let applications = made.flatMap(\.applications), apis = made.flatMap(\.apis)
        pools = [Column(strings: Self.clientTypes)]
            + [\Application.consumerKey, \.name, \.id, \.owner].map { key in Column(strings: applications.map { $0[keyPath: key] }) }
            + [\API.context, \.name, \.version, \.creator, \.tier, \.hostname].map { key in Column(strings: apis.map { $0[keyPath: key] }) }
            + [Column(strings: made.flatMap(\.users)), Column(strings: made.map(\.domain))]
        self.rng = rng
        clock = start
    }

    /// Appends `count` events to `batch`, which must have the `Request` schema.
    public mutating func append(_ count: Int, to batch: inout EventBatch) {
        generate(count, into: &batch)
    }

    /// The next `count` events as one batch. Its string columns are in dictionary form (`ValueCodes`,
    /// each value's index in the generator's pools), so they copy no bytes and encoding them
    /// builds the dictionary without hashing.
    public mutating func batch(_ count: Int) -> EventBatch {
        var b = EventBatch(types: Self.attributes.map(\.1), capacity: count)
        generate(count, into: &b)
        return b
    }

    static let applicationsPerTenant = 4, apisPerTenant = 3, usersPerTenant = 20
    static let clientTypes = ["web", "mobile-android", "mobile-ios", "server", "iot"]

    private mutating func generate(_ count: Int, into batch: inout EventBatch) {
        precondition(batch.columns.count == Self.attributes.count, "not a Request batch")
        var codes = pools.map { _ in [UInt32](repeating: 0, count: count) }
        for k in 0..<count {
            // A fifth of the tenants get half of the traffic, as real tenants are uneven.
            let hot = rng.below(2) == 0
            let t = hot ? rng.below(max(1, tenants.count / 5)) : rng.below(tenants.count)
            let a = rng.below(Self.applicationsPerTenant), p = rng.below(Self.apisPerTenant)
            clock += Int64(rng.below(3))
            let throttled = rng.below(100) < 3
            var response = Int64(5 + rng.below(200))
            if rng.below(100) == 0 { response += Int64(1000 + rng.below(4000)) }
            let backend = throttled ? 0 : max(0, response - Int64(1 + rng.below(5)))
            let client = rng.below(Self.clientTypes.count)
            let u = rng.below(Self.usersPerTenant)
            batch.timestamps.append(clock)
            batch.kinds.append(.current)
            codes[0][k] = UInt32(client)
            for c in 1...4 { codes[c][k] = UInt32(t * Self.applicationsPerTenant + a) }
            for c in 5...10 { codes[c][k] = UInt32(t * Self.apisPerTenant + p) }
            codes[11][k] = UInt32(t * Self.usersPerTenant + u)
            codes[12][k] = UInt32(t)
            batch.columns[13].appendLong(clock)
            batch.columns[14].appendBool(throttled)
            batch.columns[15].appendLong(throttled ? 0 : response)
            batch.columns[16].appendLong(backend)
        }
        for (c, pool) in pools.enumerated() {
            // The pools are the values of dictionary-form columns: an empty batch takes only codes.
            let coded = Column(strings: StringLane(values: pool.strings, codes: codes[c]))
            batch.columns[c].append(from: coded, rows: 0..<count)
        }
        generated += count
    }
}

extension SplitMix64 {
    mutating func token(_ length: Int) -> String {
        let alphabet = Array("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789")
        return String((0..<length).map { _ in alphabet[below(alphabet.count)] })
    }

    mutating func uuid() -> String {
        let hex = Array("0123456789abcdef")
        var s = ""
        for (i, group) in [8, 4, 4, 4, 12].enumerated() {
            if i > 0 { s += "-" }
            for _ in 0..<group { s.append(hex[below(16)]) }
        }
        return s
    }
}
