/// A string lane's rows as small integers where equal codes mean equal bytes (equal bytes may
/// still have different codes). A lane decoded from dictionary form keeps the references it was
/// sent, and rows copied into an empty lane keep theirs, so that an encoder can rebuild the
/// dictionary by array lookups instead of hashing and comparing every cell again.
public struct ValueCodes: Sendable {
    /// One per row, each below `count`.
    public let codes: [UInt32]
    public let count: Int

    @inlinable
    public init(codes: [UInt32], count: Int) {
        self.codes = codes
        self.count = count
    }
}
