import SluiceCore
import SluiceQL

/// Siddhi's core scalar functions. They are off the hot path, so they run row by row over `Value`s.
enum BuiltinFunctions {
    static func compile(_ call: FunctionCall, compiler: ExpressionCompiler) throws(Diagnostic) -> CompiledExpression {
        if let ns = call.namespace {
            throw Diagnostic("unknown function '\(ns.name):\(call.name.name)'", at: call.range)
        }
        var args: [CompiledExpression] = []
        for a in call.arguments { args.append(try compiler.compile(a)) }
        let name = call.name.name
        func arity(_ range: ClosedRange<Int>) throws(Diagnostic) {
            guard range.contains(args.count) else {
                let want = range.lowerBound == range.upperBound ? "\(range.lowerBound)" : "\(range.lowerBound) to \(range.upperBound)"
                throw Diagnostic("'\(name)' takes \(want) argument\(range.upperBound == 1 ? "" : "s"), found \(args.count)", at: call.range)
            }
        }
        func typeArgument(_ i: Int) throws(Diagnostic) -> AttributeType {
            guard case .string(let s)? = args[i].constant, let t = AttributeType(keyword: s) else {
                throw Diagnostic("'\(name)' needs a type name such as 'string', 'int', 'long', 'float', 'double' or 'bool'",
                                 at: call.arguments[i].range)
            }
            return t
        }
        switch name {
        case "cast", "convert":
            try arity(2...2)
            let target = try typeArgument(1)
            return rowwise(target, args, foldable: args[0].foldable) { convert($0[0], to: target) }
        case "coalesce":
            guard !args.isEmpty else { throw Diagnostic("'coalesce' needs at least one argument", at: call.range) }
            let type = try commonType(args, call: call)
            return rowwise(type, args, foldable: args.allSatisfy(\.foldable)) { values in
                values.first { !$0.isNull } ?? .null
            }
        case "default":
            try arity(2...2)
            let type = args[0].type == .object ? args[1].type : args[0].type
            return rowwise(type, args, foldable: args.allSatisfy(\.foldable)) { $0[0].isNull ? $0[1] : $0[0] }
        case "ifThenElse":
            try arity(3...3)
            guard args[0].type == .bool else {
                throw Diagnostic("'ifThenElse' needs a bool condition, found \(args[0].type)", at: call.arguments[0].range)
            }
            let type = try commonType(Array(args[1...]), call: call)
            if args[1].type == type && args[2].type == type && type != .object {
                return choose(type, condition: args[0], then: args[1], else: args[2])
            }
            return rowwise(type, args, foldable: args.allSatisfy(\.foldable)) { v in
                if case .bool(true) = v[0] { return v[1] }
                return v[2]
            }
        case "maximum", "minimum":
            guard !args.isEmpty else { throw Diagnostic("'\(name)' needs at least one argument", at: call.range) }
            var type = args[0].type
            for (i, a) in args.enumerated() {
                guard let t = AttributeType.promote(type, a.type) else {
                    throw Diagnostic("'\(name)' needs numeric arguments, found \(a.type)", at: call.arguments[i].range)
                }
                type = t
            }
            let wantMax = name == "maximum"
            return rowwise(type, args, foldable: args.allSatisfy(\.foldable)) { values in
                var best: Value = .null
                for v in values where !v.isNull {
                    guard let b = best.asDouble, let x = v.asDouble else { best = v; continue }
                    if wantMax ? x > b : x < b { best = v }
                }
                return best
            }
        case "instanceOfBoolean", "instanceOfString", "instanceOfInteger", "instanceOfLong", "instanceOfFloat", "instanceOfDouble":
            try arity(1...1)
            let wanted: AttributeType = switch name {
            case "instanceOfBoolean": .bool
            case "instanceOfString": .string
            case "instanceOfInteger": .int
            case "instanceOfLong": .long
            case "instanceOfFloat": .float
            default: .double
            }
            let argType = args[0].type
            return rowwise(.bool, args, foldable: args[0].foldable) { v in
                if v[0].isNull { return .bool(false) }
                return .bool((v[0].type ?? argType) == wanted)
            }
        case "eventTimestamp":
            try arity(0...0)
            return CompiledExpression(type: .long) { input in Column(longs: input.batch.timestamps) }
        case "currentTimeMillis":
            try arity(0...0)
            return CompiledExpression(type: .long) { input in
                Column(longs: [Int64](repeating: input.now, count: input.batch.count))
            }
        case "UUID":
            try arity(0...0)
            let context = compiler.context
            return CompiledExpression(type: .string) { input in
                Column(strings: (0..<input.batch.count).map { _ in context.nextUUID() })
            }
        default:
            throw Diagnostic("unknown function '\(name)'", at: call.name.range)
        }
    }

    private static func commonType(_ args: [CompiledExpression], call: FunctionCall) throws(Diagnostic) -> AttributeType {
        var type: AttributeType = .object
        for a in args where a.type != .object {
            if type == .object { type = a.type; continue }
            if type == a.type { continue }
            guard let t = AttributeType.promote(type, a.type) else {
                throw Diagnostic("'\(call.name.name)' needs arguments of one type, found \(type) and \(a.type)", at: call.range)
            }
            type = t
        }
        return type
    }

    /// `ifThenElse` over branches of the result's own type, lane by lane: a null or false
    /// condition takes the else branch.
    private static func choose(_ type: AttributeType, condition: CompiledExpression, then: CompiledExpression,
                               else otherwise: CompiledExpression) -> CompiledExpression {
        // Two constant branches (the usual `ifThenElse(flag, 1, 0)`) are picked as scalars, so a
        // small chunk does not materialise two columns of them.
        let scalars: (Column, Column)? = then.constant.flatMap { x in otherwise.constant.map { y in
            var a = Column(type: type, capacity: 1), b = Column(type: type, capacity: 1)
            a.append(x)
            b.append(y)
            return (a, b)
        } }.flatMap { $0.0.hasNulls || $0.1.hasNulls || type == .string || type == .object ? nil : $0 }
        return CompiledExpression(type: type, foldable: condition.foldable && then.foldable && otherwise.foldable) { input in
            let c = condition.evaluate(input)
            let n = input.batch.count
            if let (a, b) = scalars, !c.hasNulls {
                @inline(__always)
                func pick<T>(_ x: T, _ y: T) -> [T] { c.bools.withUnsafeBufferPointer { flags in (0..<n).map { flags[$0] ? x : y } } }
                switch type {
                case .int, .long: return Column(longs: pick(a.longs[0], b.longs[0]), type: type)
                case .float, .double: return Column(doubles: pick(a.doubles[0], b.doubles[0]), type: type)
                case .bool: return Column(bools: pick(a.bools[0], b.bools[0]))
                case .string, .object: break
                }
            }
            let a = then.evaluate(input), b = otherwise.evaluate(input)
            if !c.hasNulls && !a.hasNulls && !b.hasNulls {
                @inline(__always)
                func pick<T>(_ x: [T], _ y: [T]) -> [T] { (0..<n).map { c.bools[$0] ? x[$0] : y[$0] } }
                switch type {
                case .int, .long: return Column(longs: pick(a.longs, b.longs), type: type)
                case .float, .double: return Column(doubles: pick(a.doubles, b.doubles), type: type)
                case .bool: return Column(bools: pick(a.bools, b.bools))
                case .string, .object: break
                }
            }
            var out = Column(type: type, capacity: n)
            for i in 0..<n { out.append(from: !c.isNull(i) && c.bools[i] ? a : b, row: i) }
            return out
        }
    }

    private static func rowwise(_ type: AttributeType, _ args: [CompiledExpression], foldable: Bool,
                                _ f: @escaping ([Value]) -> Value) -> CompiledExpression {
        CompiledExpression(type: type, foldable: foldable) { input in
            let columns = args.map { $0.evaluate(input) }
            let n = input.batch.count
            var out = Column(type: type, capacity: n)
            var row = [Value](repeating: .null, count: columns.count)
            for i in 0..<n {
                for (j, c) in columns.enumerated() { row[j] = c.value(at: i) }
                out.append(f(row))
            }
            return out
        }
    }

    /// Siddhi's `convert`: numbers widen or truncate, strings parse (null when they don't), bools map to and from 1/0.
    static func convert(_ v: Value, to type: AttributeType) -> Value {
        switch (v, type) {
        case (.null, _): return .null
        case (_, .string):
            if case .string = v { return v }
            return .string(v.description)
        case (.string(let s), .int): return Int32(s.trimmingSpaces).map { .int($0) } ?? .null
        case (.string(let s), .long): return Int64(s.trimmingSpaces).map { .long($0) } ?? .null
        case (.string(let s), .float): return Float(s.trimmingSpaces).map { .float($0) } ?? .null
        case (.string(let s), .double): return Double(s.trimmingSpaces).map { .double($0) } ?? .null
        case (.string(let s), .bool): return .bool(s.trimmingSpaces.lowercased() == "true")
        case (.bool(let b), .int): return .int(b ? 1 : 0)
        case (.bool(let b), .long): return .long(b ? 1 : 0)
        case (.bool(let b), .float): return .float(b ? 1 : 0)
        case (.bool(let b), .double): return .double(b ? 1 : 0)
        case (.bool, .bool): return v
        case (_, .bool): return .bool(v.asDouble == 1)
        case (_, .int): return .int(javaTruncate(v, Int32.self))
        case (_, .long): return .long(javaTruncate(v, Int64.self))
        case (_, .float): return .float(Float(v.asDouble ?? 0))
        case (_, .double): return .double(v.asDouble ?? 0)
        case (_, .object): return v
        }
    }

    /// Java's narrowing of a floating value: NaN becomes 0 and out-of-range values saturate.
    private static func javaTruncate<T: FixedWidthInteger>(_ v: Value, _: T.Type) -> T {
        switch v {
        case .int(let i): return T(truncatingIfNeeded: i)
        case .long(let l): return T(truncatingIfNeeded: l)
        default:
            let d = v.asDouble ?? 0
            if d.isNaN { return 0 }
            if d >= Double(T.max) { return T.max }
            if d <= Double(T.min) { return T.min }
            return T(d.rounded(.towardZero))
        }
    }
}

extension String {
    var trimmingSpaces: String {
        var s = Substring(self)
        while s.first?.isWhitespace == true { s.removeFirst() }
        while s.last?.isWhitespace == true { s.removeLast() }
        return String(s)
    }
}
