/// A `WireError` as the `Error` message that tells the peer why its connection closes, and back.
extension WireError {
    public var proto: Sluice_V1_Error {
        var m = Sluice_V1_Error()
        m.code = Sluice_V1_ErrorCode(rawValue: code.rawValue) ?? .internal
        m.message = message
        return m
    }

    /// The error a peer reported; an unknown code (a newer peer's) reads as `.internal`.
    public init(_ error: Sluice_V1_Error) {
        self.init(Code(rawValue: error.code.rawValue) ?? .internal, error.message)
    }
}
