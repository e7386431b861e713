import SluiceCore
import SluiceQL

/// The attributes an expression can name, and the column each one lives in.
struct Scope {
    struct Entry {
        var qualifiers: [String]
        var name: String
        var type: AttributeType
        var index: Int
    }

    var entries: [Entry] = []

    init() {}

    /// The attributes of one stream, with the names it can be qualified by (its id and alias).
    init(stream: String, alias: String? = nil, attributes: [(String, AttributeType)], offset: Int = 0) {
        add(qualifiers: [stream] + (alias.map { [$0] } ?? []), attributes: attributes, offset: offset)
    }

    mutating func add(qualifiers: [String], attributes: [(String, AttributeType)], offset: Int) {
        for (i, a) in attributes.enumerated() {
            entries.append(Entry(qualifiers: qualifiers, name: a.0, type: a.1, index: offset + i))
        }
    }

    func lookup(_ variable: Variable) -> Entry? {
        let name = variable.attribute.name
        if let q = variable.qualifier?.name {
            return entries.first { $0.name == name && $0.qualifiers.contains(q) }
        }
        return entries.first { $0.name == name }
    }

    func knowsQualifier(_ q: String) -> Bool { entries.contains { $0.qualifiers.contains(q) } }
}
