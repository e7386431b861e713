import SluiceCore

/// `sluice.v1.AttributeType` numbers. They differ from `AttributeType`'s raw values on purpose:
/// zero means "unset" on the wire, and `object` has no wire form.
extension AttributeType {
    public var wireValue: Sluice_V1_AttributeType? {
        switch self {
        case .string: .string
        case .int: .int
        case .long: .long
        case .float: .float
        case .double: .double
        case .bool: .bool
        case .object: nil
        }
    }

    public init?(wireValue: Sluice_V1_AttributeType) {
        switch wireValue {
        case .string: self = .string
        case .int: self = .int
        case .long: self = .long
        case .float: self = .float
        case .double: self = .double
        case .bool: self = .bool
        case .unspecified, .UNRECOGNIZED: return nil
        }
    }
}
