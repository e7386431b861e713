/// The attribute types of SiddhiQL's `define stream`.
public enum AttributeType: UInt8, Sendable, Hashable, CustomStringConvertible {
    case string = 0
    case int = 1
    case long = 2
    case float = 3
    case double = 4
    case bool = 5
    case object = 6

    public init?(keyword: String) {
        switch keyword.lowercased() {
        case "string": self = .string
        case "int": self = .int
        case "long": self = .long
        case "float": self = .float
        case "double": self = .double
        case "bool": self = .bool
        case "object": self = .object
        default: return nil
        }
    }

    public var description: String {
        switch self {
        case .string: "string"
        case .int: "int"
        case .long: "long"
        case .float: "float"
        case .double: "double"
        case .bool: "bool"
        case .object: "object"
        }
    }

    public var isNumeric: Bool {
        switch self {
        case .int, .long, .float, .double: true
        default: false
        }
    }

    /// Integer types keep their values in the `Int64` lane of a column.
    public var isIntegral: Bool { self == .int || self == .long }

    /// Floating types keep their values in the `Double` lane of a column.
    public var isFloating: Bool { self == .float || self == .double }

    /// Java's binary numeric promotion, which Siddhi follows: int < long < float < double.
    public static func promote(_ a: AttributeType, _ b: AttributeType) -> AttributeType? {
        guard a.isNumeric, b.isNumeric else { return nil }
        func rank(_ t: AttributeType) -> Int {
            switch t {
            case .int: 0
            case .long: 1
            case .float: 2
            default: 3
            }
        }
        return rank(a) >= rank(b) ? a : b
    }
}
