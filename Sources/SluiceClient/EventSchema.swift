import SluiceCore
import SluiceWire

/// A stream's definition as a producer declares it in Hello and a subscriber learns it from
/// Welcome: the stream name and its attributes in order (SiddhiQL's `define stream`).
public struct EventSchema: Sendable, Hashable, CustomStringConvertible {
    public struct Attribute: Sendable, Hashable {
        public var name: String
        public var type: AttributeType

        public init(_ name: String, _ type: AttributeType) {
            self.name = name
            self.type = type
        }
    }

    public var name: String
    public var attributes: [Attribute]

    public init(name: String, attributes: [Attribute]) {
        self.name = name
        self.attributes = attributes
    }

    public init(_ name: String, _ attributes: [(String, AttributeType)]) {
        self.init(name: name, attributes: attributes.map { Attribute($0.0, $0.1) })
    }

    /// Parses `name type, name type, …` (the inside of `define stream S (…)`).
    public init(name: String, parsing list: String) throws(ClientError) {
        var attributes: [Attribute] = []
        for part in list.split(separator: ",") {
            let words = part.split(whereSeparator: \.isWhitespace)
            guard words.count == 2, let type = AttributeType(keyword: String(words[1])), type != .object else {
                throw ClientError(.invalidEvent, "'\(part.trimmingCharacters())' is not 'name type' with type string, int, long, float, double or bool")
            }
            attributes.append(Attribute(String(words[0]), type))
        }
        guard !attributes.isEmpty else { throw ClientError(.invalidEvent, "stream '\(name)' has no attributes") }
        self.init(name: name, attributes: attributes)
    }

    public var types: [AttributeType] { attributes.map(\.type) }
    public var arity: Int { attributes.count }

    public var description: String {
        "\(name) (" + attributes.map { "\($0.name) \($0.type)" }.joined(separator: ", ") + ")"
    }

    /// An empty batch of this schema.
    public func makeBatch(capacity: Int = 0) -> EventBatch {
        EventBatch(types: types, capacity: capacity)
    }

    // MARK: Checks

    /// Whether a value may go into an attribute of `type`: nulls anywhere, the exact type, or a
    /// widening that loses nothing a SiddhiQL stream would keep (int to long, any number to double,
    /// int or long to float).
    public static func accepts(_ value: Value, as type: AttributeType) -> Bool {
        switch (value, type) {
        case (.null, _): true
        case (.string, .string), (.bool, .bool), (.int, .int), (.long, .long), (.float, .float), (.double, .double): true
        case (.int, .long), (.int, .float), (.long, .float), (.int, .double), (.long, .double), (.float, .double): true
        default: false
        }
    }

    /// Throws `.invalidEvent` unless `values` fit the attributes.
    public func check(_ values: [Value]) throws(ClientError) {
        guard values.count == attributes.count else {
            throw ClientError(.invalidEvent, "stream '\(name)' has \(attributes.count) attributes, the event has \(values.count)")
        }
        for (a, v) in zip(attributes, values) where !Self.accepts(v, as: a.type) {
            throw ClientError(.invalidEvent, "attribute '\(a.name)' of '\(name)' is \(a.type), got \(v.type.map { "\($0) \(v)" } ?? "\(v)")")
        }
    }

    /// Throws `.invalidEvent` unless the batch's columns have this schema's types and as many
    /// rows as it has timestamps.
    public func check(_ batch: EventBatch) throws(ClientError) {
        guard batch.columns.count == attributes.count else {
            throw ClientError(.invalidEvent, "stream '\(name)' has \(attributes.count) attributes, the batch has \(batch.columns.count) columns")
        }
        guard batch.kinds.count == batch.count else {
            throw ClientError(.invalidEvent, "batch for '\(name)' has \(batch.count) timestamps and \(batch.kinds.count) kinds")
        }
        for (a, c) in zip(attributes, batch.columns) {
            guard c.type == a.type else {
                throw ClientError(.invalidEvent, "attribute '\(a.name)' of '\(name)' is \(a.type), the batch's column is \(c.type)")
            }
            guard c.count == batch.count, c.nulls.isEmpty || c.nulls.count == batch.count else {
                throw ClientError(.invalidEvent, "column '\(a.name)' of '\(name)' has \(c.count) values for \(batch.count) events")
            }
        }
    }

    /// What differs between this schema and `other`, for error messages; nil when they match.
    /// Attribute names are reported too, though only name, arity and types must match.
    public func difference(from other: EventSchema) -> String? {
        if name != other.name { return "stream '\(name)' is '\(other.name)' there" }
        if arity != other.arity {
            return "stream '\(name)' has \(arity) attributes here and \(other.arity) there (\(other))"
        }
        for (i, (a, b)) in zip(attributes, other.attributes).enumerated() where a.type != b.type {
            return "attribute \(i + 1) of '\(name)' ('\(a.name)') is \(a.type) here and \(b.type) there ('\(b.name)')"
        }
        return nil
    }

    // MARK: Wire form

    var wire: Sluice_V1_StreamSchema {
        var s = Sluice_V1_StreamSchema()
        s.name = name
        s.attributes = attributes.map { a in
            var w = Sluice_V1_Attribute()
            w.name = a.name
            w.type = a.type.wireValue ?? .unspecified
            return w
        }
        return s
    }

    /// Nil when an attribute has a type Sluice does not know.
    init?(wire: Sluice_V1_StreamSchema) {
        var attributes: [Attribute] = []
        for a in wire.attributes {
            guard let t = AttributeType(wireValue: a.type) else { return nil }
            attributes.append(Attribute(a.name, t))
        }
        self.init(name: wire.name, attributes: attributes)
    }
}

extension Substring {
    func trimmingCharacters() -> Substring {
        var s = self
        while let f = s.first, f.isWhitespace { s = s.dropFirst() }
        while let l = s.last, l.isWhitespace { s = s.dropLast() }
        return s
    }
}

// MARK: - Typed values

/// A Swift type that maps to one SiddhiQL attribute type.
public protocol AttributeConvertible: Sendable {
    static var attributeType: AttributeType { get }
    var attributeValue: Value { get }
}

extension String: AttributeConvertible {
    public static var attributeType: AttributeType { .string }
    public var attributeValue: Value { .string(self) }
}

extension Int32: AttributeConvertible {
    public static var attributeType: AttributeType { .int }
    public var attributeValue: Value { .int(self) }
}

extension Int64: AttributeConvertible {
    public static var attributeType: AttributeType { .long }
    public var attributeValue: Value { .long(self) }
}

/// `Int` is a `long`, as on every 64-bit platform Sluice runs on.
extension Int: AttributeConvertible {
    public static var attributeType: AttributeType { .long }
    public var attributeValue: Value { .long(Int64(self)) }
}

extension Float: AttributeConvertible {
    public static var attributeType: AttributeType { .float }
    public var attributeValue: Value { .float(self) }
}

extension Double: AttributeConvertible {
    public static var attributeType: AttributeType { .double }
    public var attributeValue: Value { .double(self) }
}

extension Bool: AttributeConvertible {
    public static var attributeType: AttributeType { .bool }
    public var attributeValue: Value { .bool(self) }
}

/// `nil` is a null of the wrapped type.
extension Optional: AttributeConvertible where Wrapped: AttributeConvertible {
    public static var attributeType: AttributeType { Wrapped.attributeType }
    public var attributeValue: Value { self?.attributeValue ?? .null }
}

/// Builds an `EventBatch` of one schema from Swift values, checking each event as it goes, so
/// that a wrong event is refused where it is written rather than by the node.
///
///     var b = BatchBuilder(schema: EventSchema("Stock", [("symbol", .string), ("price", .double)]))
///     try b.append(timestamp: 1000, "IBM", 75.5)
///     try await producer.send(stream: "Stock", batch: b.take())
public struct BatchBuilder: Sendable {
    public let schema: EventSchema
    public private(set) var batch: EventBatch

    public init(schema: EventSchema, capacity: Int = 0) {
        self.schema = schema
        batch = schema.makeBatch(capacity: capacity)
    }

    public var count: Int { batch.count }
    public var isEmpty: Bool { batch.isEmpty }

    /// Appends one event given as `Value`s.
    public mutating func append(timestamp: Int64, values: [Value]) throws(ClientError) {
        try schema.check(values)
        batch.append(timestamp: timestamp, values: values)
    }

    /// Appends one event given as Swift values; their static types are checked against the
    /// schema (an `Int32` for an `int`, `Int`/`Int64` for a `long`, an optional for a nullable cell).
    public mutating func append<each V: AttributeConvertible>(timestamp: Int64, _ values: repeat each V) throws(ClientError) {
        var converted: [Value] = []
        var index = 0
        var mismatch: String?
        for v in repeat each values {
            let type = type(of: v).attributeType
            if mismatch == nil, index < schema.arity, schema.attributes[index].type != type,
               !EventSchema.accepts(Self.sample(type), as: schema.attributes[index].type) {
                let a = schema.attributes[index]
                mismatch = "attribute '\(a.name)' of '\(schema.name)' is \(a.type), got a Swift value of type \(type)"
            }
            converted.append(v.attributeValue)
            index += 1
        }
        if let mismatch { throw ClientError(.invalidEvent, mismatch) }
        try append(timestamp: timestamp, values: converted)
    }

    /// Returns the batch built so far and starts an empty one.
    public mutating func take() -> EventBatch {
        let out = batch
        batch = schema.makeBatch(capacity: out.count)
        return out
    }

    /// A non-null value of `type`, to ask whether the type widens to an attribute's.
    private static func sample(_ type: AttributeType) -> Value {
        switch type {
        case .string: .string("")
        case .int: .int(0)
        case .long: .long(0)
        case .float: .float(0)
        case .double: .double(0)
        case .bool: .bool(false)
        case .object: .null
        }
    }
}
