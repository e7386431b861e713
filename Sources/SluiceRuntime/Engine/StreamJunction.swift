import SluiceCore

/// A stream's schema as the runtime sees it.
public struct StreamSchema: Sendable, Hashable {
    public var name: String
    public var attributes: [Attribute]

    public struct Attribute: Sendable, Hashable {
        public var name: String
        public var type: AttributeType
        public init(name: String, type: AttributeType) {
            self.name = name
            self.type = type
        }
    }

    public init(name: String, attributes: [Attribute]) {
        self.name = name
        self.attributes = attributes
    }

    public var types: [AttributeType] { attributes.map(\.type) }
    var pairs: [(String, AttributeType)] { attributes.map { ($0.name, $0.type) } }
    public func index(of attribute: String) -> Int? { attributes.firstIndex { $0.name == attribute } }
}

/// Where a stream's events meet its subscribers. Delivery is synchronous and depth-first:
/// a query's output is fully processed downstream before the next subscriber sees the input.
final class StreamJunction {
    let schema: StreamSchema
    private var receivers: [(id: Int, receive: (EventBatch) -> Void)] = []
    private var nextID = 0

    init(schema: StreamSchema) {
        self.schema = schema
    }

    /// Returns a token for `unsubscribe`.
    @discardableResult
    func subscribe(_ receiver: @escaping (EventBatch) -> Void) -> Int {
        nextID += 1
        receivers.append((nextID, receiver))
        return nextID
    }

    func unsubscribe(_ token: Int) {
        receivers.removeAll { $0.id == token }
    }

    var hasSubscribers: Bool { !receivers.isEmpty }

    /// Observers (output callbacks) see a chunk before any query does, so that callbacks
    /// report events in the order they were emitted.
    private var observers: [(EventBatch) -> Void] = []

    func observe(_ observer: @escaping (EventBatch) -> Void) {
        observers.append(observer)
    }

    func publish(_ batch: EventBatch) {
        guard !batch.isEmpty else { return }
        for o in observers { o(batch) }
        for r in receivers { r.receive(batch) }
    }
}
