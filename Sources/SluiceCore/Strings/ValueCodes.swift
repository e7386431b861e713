/// A string lane in dictionary form: its distinct values once, and per row the code of its value.
/// A lane decoded from the wire's dictionary form stays in this form, and so do rows gathered or
/// sliced from it into an empty lane, so that a batch can cross a node (decode, filter, split by
/// key, encode) without copying the bytes of strings that nothing reads, and an encoder rebuilds
/// the dictionary by array lookups instead of hashing every cell. Equal codes mean equal bytes;
/// equal bytes may still have different codes.
public struct ValueCodes: Sendable {
    /// The values rows refer to, in flat form.
    public let values: StringValues
    /// One per row, each below `count`.
    public internal(set) var codes: [UInt32]

    /// How many values the codes can name.
    @inlinable public var count: Int { values.lane.count }

    @usableFromInline
    init(values: StringValues, codes: [UInt32]) {
        self.values = values
        self.codes = codes
    }
}

/// The distinct values of a lane in dictionary form, shared by every lane cut from it.
public final class StringValues: Sendable {
    /// Always flat (not itself in dictionary form).
    public let lane: StringLane

    @usableFromInline
    init(flat lane: StringLane) {
        precondition(lane._codes == nil, "dictionary values are flat")
        self.lane = lane
    }
}
