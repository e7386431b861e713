import SluiceCore
import SluiceQL

/// Streams and named windows of the app itself.
final class GlobalResolver: StreamResolver {
    var streams: [String: StreamJunction] = [:]
    var windows: [String: NamedWindow] = [:]
    var tables: [String: InMemoryTable] = [:]
    var aggregations: [String: IncrementalAggregation] = [:]
    /// Stream names in the order they became known.
    var streamOrder: [String] = []

    func define(_ schema: StreamSchema) -> StreamJunction {
        let j = StreamJunction(schema: schema)
        streams[schema.name] = j
        streamOrder.append(schema.name)
        return j
    }

    func inputJunction(_ stream: Identifier, isInner: Bool) throws(Diagnostic) -> (StreamJunction, isWindow: Bool) {
        if isInner { throw Diagnostic("inner stream '#\(stream.name)' can only be used inside a partition", at: stream.range) }
        if let w = windows[stream.name] { return (w.output, true) }
        if tables[stream.name] != nil {
            throw Diagnostic("table '\(stream.name)' cannot be read as a stream: join it, test with 'in \(stream.name)', "
                             + "or query it on demand", at: stream.range)
        }
        if aggregations[stream.name] != nil {
            throw Diagnostic("aggregation '\(stream.name)' cannot be read as a stream: join it 'within … per …', "
                             + "or query it on demand", at: stream.range)
        }
        if let j = streams[stream.name] { return (j, false) }
        throw Diagnostic("stream '\(stream.name)' is not defined", at: stream.range)
    }

    func namedWindow(_ name: String) -> NamedWindow? { windows[name] }
    func table(_ name: String) -> InMemoryTable? { tables[name] }
    func aggregation(_ name: String) -> IncrementalAggregation? { aggregations[name] }

    func outputJunction(_ stream: Identifier, isInner: Bool, schema: StreamSchema) throws(Diagnostic) -> StreamJunction {
        if isInner { throw Diagnostic("inner stream '#\(stream.name)' can only be used inside a partition", at: stream.range) }
        if let w = windows[stream.name] {
            try Self.check(schema, against: w.input.schema, kind: "window", at: stream.range)
            return w.input
        }
        if let j = streams[stream.name] {
            try Self.check(schema, against: j.schema, kind: "stream", at: stream.range)
            return j
        }
        return define(schema)
    }

    /// A query's projection must match an output stream that is already defined: same names and types.
    static func check(_ projected: StreamSchema, against defined: StreamSchema, kind: String, at range: SourceRange) throws(Diagnostic) {
        guard projected.attributes != defined.attributes else { return }
        func describe(_ s: StreamSchema) -> String { "(" + s.attributes.map { "\($0.name) \($0.type)" }.joined(separator: ", ") + ")" }
        throw Diagnostic("the query's output \(describe(projected)) does not match \(kind) '\(defined.name)' \(describe(defined))", at: range)
    }
}

/// Streams as one partition instance sees them: partitioned and inner streams are its own.
final class PartitionResolver: StreamResolver {
    let global: GlobalResolver
    let instance: PartitionInstance
    let partitioned: Set<String>

    init(global: GlobalResolver, instance: PartitionInstance, partitioned: Set<String>) {
        self.global = global
        self.instance = instance
        self.partitioned = partitioned
        for name in partitioned {
            if let j = global.streams[name] { instance.junctions[name] = StreamJunction(schema: j.schema) }
        }
    }

    func inputJunction(_ stream: Identifier, isInner: Bool) throws(Diagnostic) -> (StreamJunction, isWindow: Bool) {
        if isInner {
            guard let j = instance.junctions["#" + stream.name] else {
                throw Diagnostic("inner stream '#\(stream.name)' is not defined before this query", at: stream.range)
            }
            return (j, false)
        }
        if partitioned.contains(stream.name), let j = instance.junctions[stream.name] { return (j, false) }
        return try global.inputJunction(stream, isInner: false)
    }

    func namedWindow(_ name: String) -> NamedWindow? { partitioned.contains(name) ? nil : global.windows[name] }
    func table(_ name: String) -> InMemoryTable? { global.tables[name] }
    func aggregation(_ name: String) -> IncrementalAggregation? { global.aggregations[name] }

    func outputJunction(_ stream: Identifier, isInner: Bool, schema: StreamSchema) throws(Diagnostic) -> StreamJunction {
        guard isInner else { return try global.outputJunction(stream, isInner: false, schema: schema) }
        let name = "#" + stream.name
        if let j = instance.junctions[name] {
            try GlobalResolver.check(schema, against: j.schema, kind: "inner stream", at: stream.range)
            return j
        }
        let j = StreamJunction(schema: schema)
        instance.junctions[name] = j
        return j
    }
}
