/// One attribute value at the edges of the engine (JSON, constants, snapshots).
/// The hot path never uses it: columns are typed.
public enum Value: Sendable, Hashable, CustomStringConvertible {
    case null
    case bool(Bool)
    case int(Int32)
    case long(Int64)
    case float(Float)
    case double(Double)
    case string(String)

    public var type: AttributeType? {
        switch self {
        case .null: nil
        case .bool: .bool
        case .int: .int
        case .long: .long
        case .float: .float
        case .double: .double
        case .string: .string
        }
    }

    public var isNull: Bool {
        if case .null = self { return true }
        return false
    }

    public var description: String {
        switch self {
        case .null: "null"
        case .bool(let v): String(v)
        case .int(let v): String(v)
        case .long(let v): String(v)
        case .float(let v): String(v)
        case .double(let v): String(v)
        case .string(let v): v
        }
    }

    public var asInt64: Int64? {
        switch self {
        case .int(let v): Int64(v)
        case .long(let v): v
        case .float(let v): v.isFinite ? Int64(v) : nil
        case .double(let v): v.isFinite ? Int64(v) : nil
        default: nil
        }
    }

    public var asDouble: Double? {
        switch self {
        case .int(let v): Double(v)
        case .long(let v): Double(v)
        case .float(let v): Double(v)
        case .double(let v): v
        default: nil
        }
    }
}
