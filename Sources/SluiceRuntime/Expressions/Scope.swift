import SluiceCore
import SluiceQL

/// The attributes an expression can name, and the column each one lives in.
struct Scope {
    struct Entry {
        var qualifiers: [String]
        var name: String
        var type: AttributeType
        var index: Int
        /// The side of a join the attribute belongs to (1 or 2); 0 outside joins.
        var side = 0
        /// Reachable only qualified (a table's attributes beside a query's output).
        var qualifiedOnly = false
        /// Which of a pattern's collected events (`e1[0]`, `e1[last]`) the entry holds; nil for the event itself.
        var eventIndex: EventIndex?
    }

    var entries: [Entry] = []

    /// How `e1 is null` is decided for an event of a pattern: it is always there, a count has
    /// collected fewer events than the index asks, or a side of `and` / `or` has not happened.
    enum Presence {
        case always
        case counted(column: Int)
        case flagged(column: Int, bit: Int64)
    }

    /// The pattern events `e1 is null` can test, by reference.
    var presence: [String: Presence] = [:]

    init() {}

    /// The attributes of one stream, with the names it can be qualified by (its id and alias).
    init(stream: String, alias: String? = nil, attributes: [(String, AttributeType)], offset: Int = 0) {
        add(qualifiers: [stream] + (alias.map { [$0] } ?? []), attributes: attributes, offset: offset)
    }

    mutating func add(qualifiers: [String], attributes: [(String, AttributeType)], offset: Int, side: Int = 0,
                      qualifiedOnly: Bool = false, eventIndex: EventIndex? = nil) {
        for (i, a) in attributes.enumerated() {
            entries.append(Entry(qualifiers: qualifiers, name: a.0, type: a.1, index: offset + i, side: side, qualifiedOnly: qualifiedOnly,
                                 eventIndex: eventIndex))
        }
    }

    /// The join sides that both have an attribute named as `variable`, when it names none of
    /// them and no other attribute comes first: the name alone is ambiguous.
    func ambiguity(_ variable: Variable) -> [String]? {
        guard variable.qualifier == nil else { return nil }
        let named = entries.filter { $0.name == variable.attribute.name && !$0.qualifiedOnly }
        guard let first = named.first, first.side != 0 else { return nil }
        let sides = named.filter { $0.side != first.side && $0.side != 0 }
        guard let second = sides.first else { return nil }
        return [first.qualifiers.first ?? "", second.qualifiers.first ?? ""]
    }

    /// An indexed reference finds the collected event it names; `e1[0]` and `e1[last]` of a
    /// stream that holds one event find that event.
    func lookup(_ variable: Variable) -> Entry? {
        let name = variable.attribute.name
        if let q = variable.qualifier?.name {
            let named = entries.filter { $0.name == name && $0.qualifiers.contains(q) }
            if let exact = named.first(where: { $0.eventIndex == variable.index }) { return exact }
            guard variable.index == .position(0) || variable.index == .last(minus: 0) else { return nil }
            return named.first { $0.eventIndex == nil }
        }
        return entries.first { $0.name == name && !$0.qualifiedOnly && $0.eventIndex == nil }
    }

    func knowsQualifier(_ q: String) -> Bool { entries.contains { $0.qualifiers.contains(q) } }
}
