import SluiceCore
import SluiceQL

/// How a `@store` aggregation lays its buckets out in database tables, as Siddhi does: one table
/// per duration, named `<AGG>_<DURATION>` (`Trades_SECONDS` … `Trades_YEARS`), one row per
/// bucket and group:
///
///     AGG_TIMESTAMP | AGG_GROUP | group-by values… | AGG_COUNT | AGG_EVENT_TIMESTAMP | bases…
///
/// `AGG_GROUP` is the group's id (its rank of first arrival), so that a restarted aggregation
/// orders groups as before; the group-by values beside it make the rows readable. The bases are
/// what buckets merge by (`AGG_SUM_x`, `AGG_COUNT_x` for the non-null values, `AGG_MIN_x`,
/// `AGG_MAX_x`, `AGG_DISTINCT_x`, `AGG_LAST_x`): `avg` is its sum and count, never an average.
///
/// The finest table also holds the clock row (`AGG_GROUP` -1, `AGG_TIMESTAMP` the newest finest
/// bucket), because the engine clock may have moved past the newest event: without it a restart
/// would roll finished buckets up a second time. Each coarser table holds a frontier row
/// (`AGG_GROUP` -1, `AGG_TIMESTAMP` the finer duration's `handedOnBefore`): the finer buckets it has
/// absorbed, written in the same transaction as the absorbed rows, so that a restart after a crash
/// between two tables' transactions neither repeats a roll-up that committed nor loses one that did not.
struct AggregationTables {
    static let groupColumn = "AGG_GROUP"
    static let countColumn = "AGG_COUNT"
    static let eventTimeColumn = "AGG_EVENT_TIMESTAMP"
    static let clockGroup: Int64 = -1
    /// Columns before the group-by values.
    static let keyColumns = 2

    let aggregation: String
    /// Every table's columns, in order.
    let attributes: [StreamSchema.Attribute]
    let groupByCount: Int

    /// - Parameters:
    ///   - groupBy: per group-by expression, its name (an attribute's own, else `AGG_GROUP_<i>`) and type.
    ///   - arguments: per aggregated argument, its name (an attribute's own, else `arg<i>`) and type.
    init(aggregation: String, groupBy: [(name: String, type: AttributeType)], layout: AggregationLayout,
         arguments: [(name: String, type: AttributeType)]) {
        self.aggregation = aggregation
        groupByCount = groupBy.count
        var attributes: [StreamSchema.Attribute] = [
            .init(name: IncrementalAggregation.timestampAttribute, type: .long), .init(name: Self.groupColumn, type: .long),
        ]
        var taken = Set(attributes.map(\.name) + [Self.countColumn, Self.eventTimeColumn])
        func unique(_ name: String) -> String {
            var candidate = name, n = 2
            while !taken.insert(candidate).inserted {
                candidate = "\(name)_\(n)"
                n += 1
            }
            return candidate
        }
        for g in groupBy { attributes.append(.init(name: unique(g.name), type: g.type)) }
        attributes.append(.init(name: Self.countColumn, type: .long))
        attributes.append(.init(name: Self.eventTimeColumn, type: .long))
        for base in layout.bases {
            let argument = arguments[base.argument]
            let (prefix, type): (String, AttributeType) = switch base {
            case .longSum: ("SUM", .long)
            case .doubleSum: ("SUM", .double)
            case .present: ("COUNT", .long)
            case .longMin: ("MIN", .long)
            case .longMax: ("MAX", .long)
            case .doubleMin: ("MIN", .double)
            case .doubleMax: ("MAX", .double)
            case .distinct: ("DISTINCT", .string)
            case .last: ("LAST", argument.type == .object ? .string : argument.type)
            }
            attributes.append(.init(name: unique("AGG_\(prefix)_\(argument.name)"), type: type))
        }
        self.attributes = attributes
    }

    func tableName(_ duration: AggregationDuration) -> String { "\(aggregation)_\(duration.name.uppercased())" }

    func schema(_ duration: AggregationDuration) -> StreamSchema { StreamSchema(name: tableName(duration), attributes: attributes) }

    /// The table as a `define table` would declare it, for the store provider.
    func definition(_ duration: AggregationDuration, store: Annotation, at range: SourceRange) -> TableDefinition {
        // The tables are named after the aggregation and duration, whatever `table.name` says.
        var store = store
        store.elements.removeAll { $0.key?.lowercased() == "table.name" }
        return TableDefinition(annotations: [store], name: Identifier(tableName(duration), range: range),
                               attributes: attributes.map { AttributeDefinition(name: $0.name, type: $0.type, range: range) },
                               range: range)
    }

    static var primaryKey: [String] { [IncrementalAggregation.timestampAttribute, groupColumn] }

    /// The row of cell `c`; `groupValues` gives a group id's group-by values.
    func row(_ cells: AggregationCells, _ c: Int32, groupValues: (Int32) -> [Value]) -> [Value] {
        let group = cells.groups[Int(c)]
        return [.long(cells.starts[Int(c)]), .long(Int64(group))] + groupValues(group) + cells.storedValues(of: c)
    }

    /// The clock row: the newest finest bucket, and in `AGG_EVENT_TIMESTAMP` when the next purge is due.
    func clockRow(newest: Int64, nextPurge: Int64?) -> [Value] {
        var row = [Value.long(newest), .long(Self.clockGroup)] + Array(repeating: .null, count: attributes.count - Self.keyColumns)
        row[Self.keyColumns + groupByCount] = .long(0)
        row[Self.keyColumns + groupByCount + 1] = nextPurge.map(Value.long) ?? .null
        return row
    }

    /// A coarser table's frontier row: it holds every finer bucket that starts before `frontier`.
    func frontierRow(_ frontier: Int64) -> [Value] { clockRow(newest: frontier, nextPurge: nil) }

    /// A stored row's parts: bucket start, group id, group-by values, and the cell's stored values.
    func parts(of row: [Value]) throws(TableStoreError) -> (start: Int64, group: Int64, groupValues: [Value], stored: [Value]) {
        guard row.count == attributes.count, let start = row[0].asInt64, let group = row[1].asInt64 else {
            throw TableStoreError("a stored row of aggregation '\(aggregation)' has \(row.count) values or no AGG_TIMESTAMP/AGG_GROUP, "
                                  + "expected \(attributes.count)")
        }
        let groupEnd = Self.keyColumns + groupByCount
        return (start, group, Array(row[Self.keyColumns..<groupEnd]), Array(row[groupEnd...]))
    }
}
