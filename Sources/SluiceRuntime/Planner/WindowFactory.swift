import SluiceCore
import SluiceQL

/// Builds a window stage from `#window.name(args)`, checking its arguments.
struct WindowFactory {
    let context: ExecutionContext
    let scheduler: Scheduler

    /// Windows that emit in batches; a query behind one aggregates per chunk (Siddhi's batching mode).
    static let batchWindows: Set<String> = ["lengthBatch", "timeBatch", "externalTimeBatch", "batch", "cron"]

    static let known: Set<String> = ["length", "lengthBatch", "time", "timeBatch", "timeLength", "externalTime",
                                     "externalTimeBatch", "sort", "delay", "session", "batch", "frequent", "lossyFrequent"]

    func make(_ call: FunctionCall, schema: StreamSchema, compiler: ExpressionCompiler) throws(Diagnostic) -> WindowProcessor {
        let name = call.name.name
        if let ns = call.namespace {
            throw Diagnostic("unknown window '\(ns.name):\(name)'", at: call.range)
        }
        var args: [CompiledExpression] = []
        for a in call.arguments { args.append(try compiler.compile(a)) }
        let types = schema.types

        func arity(_ allowed: ClosedRange<Int>) throws(Diagnostic) {
            guard allowed.contains(args.count) else {
                let want = allowed.lowerBound == allowed.upperBound ? "\(allowed.lowerBound)" : "\(allowed.lowerBound) to \(allowed.upperBound)"
                throw Diagnostic("window '\(name)' takes \(want) argument\(allowed.upperBound == 1 ? "" : "s"), found \(args.count)", at: call.range)
            }
        }
        func constantInt(_ i: Int, what: String) throws(Diagnostic) -> Int64 {
            guard let c = args[i].constant, args[i].type.isIntegral, let v = c.asInt64 else {
                throw Diagnostic("window '\(name)' needs a constant \(what) as argument \(i + 1)", at: call.arguments[i].range)
            }
            guard v >= 0 else { throw Diagnostic("window '\(name)' needs a non-negative \(what)", at: call.arguments[i].range) }
            return v
        }
        func constantDouble(_ i: Int, what: String) throws(Diagnostic) -> Double {
            guard let c = args[i].constant, let v = c.asDouble else {
                throw Diagnostic("window '\(name)' needs a constant \(what) as argument \(i + 1)", at: call.arguments[i].range)
            }
            return v
        }
        func attribute(_ i: Int, long: Bool = false) throws(Diagnostic) -> Int {
            guard let idx = args[i].attributeIndex else {
                throw Diagnostic("window '\(name)' needs an attribute as argument \(i + 1)", at: call.arguments[i].range)
            }
            if long && args[i].type != .long {
                throw Diagnostic("window '\(name)' needs a long attribute as argument \(i + 1), found \(args[i].type)", at: call.arguments[i].range)
            }
            return idx
        }

        // `stream.current.event = true` changes what a batch window emits; until it is implemented, refuse it
        // rather than run with different semantics.
        func refuseStreamingCurrentEvents(_ i: Int) throws(Diagnostic) {
            guard i >= 1, i < args.count, args[i].type == .bool else { return }
            if args[i].constant == .bool(true) {
                throw Diagnostic("window '\(name)' with stream.current.event = true is not supported yet", at: call.arguments[i].range)
            }
        }

        switch name {
        case "length":
            try arity(1...1)
            return LengthWindow(length: Int(try constantInt(0, what: "length")), types: types, context: context, scheduler: scheduler)
        case "lengthBatch":
            try arity(1...2)
            try refuseStreamingCurrentEvents(1)
            return LengthBatchWindow(length: Int(try constantInt(0, what: "length")), types: types, context: context, scheduler: scheduler)
        case "time":
            try arity(1...1)
            return TimeWindow(duration: try constantInt(0, what: "time"), types: types, context: context, scheduler: scheduler)
        case "timeLength":
            try arity(2...2)
            return TimeLengthWindow(duration: try constantInt(0, what: "time"), length: Int(try constantInt(1, what: "length")),
                                    types: types, context: context, scheduler: scheduler)
        case "timeBatch":
            try arity(1...3)
            var start: Int64?
            if args.count >= 2, args[1].type.isIntegral { start = try constantInt(1, what: "start time") }
            try refuseStreamingCurrentEvents(args.count - 1)
            return TimeBatchWindow(duration: try constantInt(0, what: "time"), startTime: start, types: types,
                                   context: context, scheduler: scheduler)
        case "externalTime":
            try arity(2...2)
            return ExternalTimeWindow(timeColumn: try attribute(0, long: true), duration: try constantInt(1, what: "time"),
                                      types: types, context: context, scheduler: scheduler)
        case "externalTimeBatch":
            try arity(2...5)
            let start = args.count >= 3 ? try constantInt(2, what: "start time") : nil
            let timeout = args.count >= 4 ? try constantInt(3, what: "timeout") : nil
            return ExternalTimeBatchWindow(timeColumn: try attribute(0, long: true), duration: try constantInt(1, what: "time"),
                                           startTime: start, timeout: timeout, types: types, context: context, scheduler: scheduler)
        case "batch":
            try arity(0...1)
            let length = args.isEmpty ? nil : Int(try constantInt(0, what: "length"))
            return ChunkBatchWindow(length: length, types: types, context: context, scheduler: scheduler)
        case "sort":
            guard args.count >= 1 else { try arity(1...1); fatalError() }
            let length = Int(try constantInt(0, what: "length"))
            var keys: [(column: Int, ascending: Bool)] = []
            var i = 1
            while i < args.count {
                let column = try attribute(i)
                var ascending = true
                if i + 1 < args.count, case .string(let dir)? = args[i + 1].constant {
                    switch dir.lowercased() {
                    case "asc": ascending = true
                    case "desc": ascending = false
                    default: throw Diagnostic("sort order must be 'asc' or 'desc', found '\(dir)'", at: call.arguments[i + 1].range)
                    }
                    i += 1
                }
                keys.append((column, ascending))
                i += 1
            }
            return SortWindow(length: length, ordering: RowOrdering(keys: keys), types: types, context: context, scheduler: scheduler)
        case "cron":
            try arity(1...1)
            guard case .string(let text)? = args[0].constant else {
                throw Diagnostic("window 'cron' needs a constant cron expression as argument 1", at: call.arguments[0].range)
            }
            do {
                return CronWindow(cron: try CronSchedule(text), types: types, context: context, scheduler: scheduler)
            } catch {
                throw Diagnostic("window 'cron': \(error.message)", at: call.arguments[0].range)
            }
        case "delay":
            try arity(1...1)
            return DelayWindow(duration: try constantInt(0, what: "time"), types: types, context: context, scheduler: scheduler)
        case "session":
            try arity(1...3)
            let gap = try constantInt(0, what: "session gap")
            var keyColumn: Int?
            var latency: Int64 = 0
            if args.count >= 2 {
                if args[1].attributeIndex != nil {
                    keyColumn = try attribute(1)
                    if args.count == 3 { latency = try constantInt(2, what: "allowed latency") }
                } else {
                    latency = try constantInt(1, what: "allowed latency")
                }
            }
            return SessionWindow(gap: gap, keyColumn: keyColumn, allowedLatency: latency, types: types, context: context, scheduler: scheduler)
        case "frequent":
            guard !args.isEmpty else { try arity(1...1); fatalError() }
            let count = Int(try constantInt(0, what: "event count"))
            var keys: [Int] = []
            for i in 1..<args.count { keys.append(try attribute(i)) }
            return FrequentWindow(mostFrequent: count, keyColumns: keys.isEmpty ? Array(types.indices) : keys,
                                  types: types, context: context, scheduler: scheduler)
        case "lossyFrequent":
            guard !args.isEmpty else { try arity(1...1); fatalError() }
            let support = try constantDouble(0, what: "support threshold")
            var error = support / 10
            var first = 1
            if args.count >= 2, args[1].attributeIndex == nil {
                error = try constantDouble(1, what: "error bound")
                first = 2
            }
            var keys: [Int] = []
            if first < args.count { for i in first..<args.count { keys.append(try attribute(i)) } }
            return LossyFrequentWindow(support: support, error: error, keyColumns: keys.isEmpty ? Array(types.indices) : keys,
                                       types: types, context: context, scheduler: scheduler)
        default:
            throw Diagnostic("unknown window '\(name)'", at: call.name.range)
        }
    }
}
