import SluiceClient
import SluiceCore

/// Seed-style `Request` events (the 17 attributes of the seed's stream), deterministic.
public enum RequestEvents {
    /// The seed's Request schema, as the SDK's generator declares it.
    public static let attributes: [(String, AttributeType)] = RequestGenerator.attributes

    public static var types: [AttributeType] { attributes.map(\.1) }

    static let apis = [("PizzaShackAPI", "/pizzashack/1.0.0"), ("WeatherAPI", "/weather/2.1.0"), ("PaymentsAPI", "/payments/v3"),
                       ("OrdersAPI", "/orders/1.4.2"), ("InventoryAPI", "/inventory/1.0.0")]
    static let tiers = ["Unlimited", "Gold", "Silver", "Bronze"]

    static func hex(_ x: UInt64, _ digits: Int) -> String {
        let chars = Array("0123456789abcdef")
        var v = x
        var out = ""
        for _ in 0..<digits {
            out.append(chars[Int(v & 15)])
            v = v >> 4 | v << 60
        }
        return out
    }

    /// Batch `b` of `size` events; event i = b * size + k.
    public static func batch(_ b: Int, size: Int = Shape.batchSize) -> EventBatch {
        var batch = EventBatch(types: types, capacity: size)
        for k in 0..<size {
            let i = b * size + k
            let tenant = tenant(ofEvent: i)
            let app = (i &* 31) % 200
            let api = apis[(i &* 7) % apis.count]
            let ts = Shape.baseTimestamp + Int64(i)
            let rt = responseTime(ofEvent: i)
            batch.append(timestamp: ts, values: [
                .string(i % 3 == 0 ? "mobile" : "web"),
                .string(hex(UInt64(app) &* 0x9E37_79B9_7F4A_7C15, 32)),
                .string("App-\(app)"),
                .string(hex(UInt64(app) &* 0xC2B2_AE3D_27D4_EB4F, 8) + "-" + hex(UInt64(app), 4) + "-4a1f-9c2e-" + hex(UInt64(app) &* 31, 12)),
                .string("owner\(app % 40)@tenant\(tenant).com"),
                .string(api.1), .string(api.0), .string("1.0.0"), .string("admin"),
                .string(tiers[(i &* 13) % tiers.count]), .string("gw-\(i % 4).example.com"),
                .string("user\((i &* 17) % 5000)@tenant\(tenant).com"), .string("tenant\(tenant).com"),
                .long(ts), .bool(i % 97 == 0), .long(rt), .long(rt / 2 + Int64(k % 7)),
            ])
        }
        return batch
    }
}
