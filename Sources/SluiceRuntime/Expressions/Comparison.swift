import SluiceCore
import SluiceQL

/// `== != < <= > >=`. Numbers compare after promotion; strings and bools only test equality.
/// A comparison with a null operand is false.
enum Comparison {
    static func compile(_ op: ComparisonOperator, _ a: CompiledExpression, _ b: CompiledExpression,
                        range: SourceRange) throws(Diagnostic) -> CompiledExpression {
        let foldable = a.foldable && b.foldable
        if a.type == .object || b.type == .object {
            if a.constant == .null || b.constant == .null {
                throw Diagnostic("comparing with null is always false: use 'is null'", at: range)
            }
            throw Diagnostic("cannot compare \(a.type) with \(b.type) using '\(op.rawValue)'", at: range)
        }
        if a.type.isNumeric && b.type.isNumeric {
            if a.type.isIntegral && b.type.isIntegral {
                return numeric(op, a, b, foldable: foldable, lane: { $0.longs }, scalar: { $0.asInt64 ?? 0 })
            }
            return numeric(op, a, b, foldable: foldable, lane: Arithmetic.doubleLane, scalar: { $0.asDouble ?? 0 })
        }
        guard a.type == b.type else {
            throw Diagnostic("cannot compare \(a.type) with \(b.type) using '\(op.rawValue)'", at: range)
        }
        guard op == .equal || op == .notEqual else {
            throw Diagnostic("'\(op.rawValue)' cannot compare \(a.type) values; only '==' and '!=' can", at: range)
        }
        let wantEqual = op == .equal
        if a.type == .string {
            return stringEquality(a, b, foldable: foldable, wantEqual: wantEqual)
        }
        return equality(a, b, foldable: foldable, wantEqual: wantEqual) { $0.bools }
    }

    private static func predicate<T: Comparable>(_ op: ComparisonOperator) -> (T, T) -> Bool {
        switch op {
        case .equal: return { $0 == $1 }
        case .notEqual: return { $0 != $1 }
        case .less: return { $0 < $1 }
        case .lessOrEqual: return { $0 <= $1 }
        case .greater: return { $0 > $1 }
        case .greaterOrEqual: return { $0 >= $1 }
        }
    }

    private static func numeric<T: Comparable>(_ op: ComparisonOperator, _ a: CompiledExpression, _ b: CompiledExpression,
                                               foldable: Bool, lane: @escaping (Column) -> [T],
                                               scalar: @escaping (Value) -> T) -> CompiledExpression {
        let p: (T, T) -> Bool = predicate(op)
        // The common filter shape, `attribute op constant`, runs without materialising the constant.
        if let c = b.constant, !c.isNull {
            let k = scalar(c)
            return CompiledExpression(type: .bool, foldable: foldable) { input in
                let x = a.evaluate(input)
                let xs = lane(x)
                let n = xs.count
                let out = [Bool](unsafeUninitializedCapacity: n) { buf, count in
                    xs.withUnsafeBufferPointer { xa in
                        for i in 0..<n { buf[i] = p(xa[i], k) }
                    }
                    count = n
                }
                return Column(bools: clearNulls(out, x, nil))
            }
        }
        return CompiledExpression(type: .bool, foldable: foldable) { input in
            let x = a.evaluate(input)
            let y = b.evaluate(input)
            let xs = lane(x)
            let ys = lane(y)
            let n = xs.count
            let out = [Bool](unsafeUninitializedCapacity: n) { buf, count in
                xs.withUnsafeBufferPointer { xa in
                    ys.withUnsafeBufferPointer { ya in
                        for i in 0..<n { buf[i] = p(xa[i], ya[i]) }
                    }
                }
                count = n
            }
            return Column(bools: clearNulls(out, x, y))
        }
    }

    private static func equality<T: Equatable>(_ a: CompiledExpression, _ b: CompiledExpression, foldable: Bool, wantEqual: Bool,
                                               lane: @escaping (Column) -> [T]) -> CompiledExpression {
        CompiledExpression(type: .bool, foldable: foldable) { input in
            let x = a.evaluate(input)
            let y = b.evaluate(input)
            let xs = lane(x)
            let ys = lane(y)
            var out = [Bool](repeating: false, count: xs.count)
            for i in 0..<xs.count { out[i] = (xs[i] == ys[i]) == wantEqual }
            return Column(bools: clearNulls(out, x, y))
        }
    }

    /// Strings compare as bytes in their arenas; a constant side (the usual `attr == 'x'`) is
    /// compared without materialising a column of it.
    private static func stringEquality(_ a: CompiledExpression, _ b: CompiledExpression, foldable: Bool,
                                       wantEqual: Bool) -> CompiledExpression {
        if a.constant != nil, b.constant == nil { return stringEquality(b, a, foldable: foldable, wantEqual: wantEqual) }
        if case .string(let k)? = b.constant {
            return CompiledExpression(type: .bool, foldable: foldable) { input in
                let x = a.evaluate(input)
                var out = [Bool](repeating: false, count: x.count)
                withUTF8Bytes(k) { key in
                    if let coded = x.strings.valueCodes {
                        // Each distinct value is compared once; rows look their value's answer up.
                        let values = coded.values.lane
                        let answers = (0..<values.count).map { v in values.withUTF8(at: v) { equalBytes($0, key) == wantEqual } }
                        coded.codes.withUnsafeBufferPointer { codes in
                            for i in 0..<codes.count { out[i] = answers[Int(codes[i])] }
                        }
                        return
                    }
                    x.strings.withUnsafeStorage { arena, ends in
                        var start = 0
                        for i in 0..<ends.count {
                            out[i] = equalBytes(UnsafeRawBufferPointer(rebasing: arena[start..<ends[i]]), key) == wantEqual
                            start = ends[i]
                        }
                    }
                }
                return Column(bools: clearNulls(out, x, nil))
            }
        }
        return CompiledExpression(type: .bool, foldable: foldable) { input in
            let x = a.evaluate(input)
            let y = b.evaluate(input)
            var out = [Bool](repeating: false, count: x.count)
            for i in 0..<x.count { out[i] = x.strings.equals(row: i, y.strings, row: i) == wantEqual }
            return Column(bools: clearNulls(out, x, y))
        }
    }

    @inline(__always)
    static func clearNulls(_ out: [Bool], _ x: Column, _ y: Column?) -> [Bool] {
        guard x.hasNulls || (y?.hasNulls ?? false) else { return out }
        var out = out
        for i in 0..<out.count where x.isNull(i) || (y?.isNull(i) ?? false) { out[i] = false }
        return out
    }
}

/// `and`, `or`, `not`, `is null`. A null condition counts as false.
enum Logic {
    @inline(__always)
    static func truth(_ c: Column) -> [Bool] {
        guard c.hasNulls else { return c.bools }
        var out = c.bools
        for i in 0..<out.count where c.nulls[i] { out[i] = false }
        return out
    }

    static func and(_ a: CompiledExpression, _ b: CompiledExpression) -> CompiledExpression {
        CompiledExpression(type: .bool, foldable: a.foldable && b.foldable) { input in
            let x = truth(a.evaluate(input))
            let y = truth(b.evaluate(input))
            var out = x
            for i in 0..<out.count { out[i] = x[i] && y[i] }
            return Column(bools: out)
        }
    }

    static func or(_ a: CompiledExpression, _ b: CompiledExpression) -> CompiledExpression {
        CompiledExpression(type: .bool, foldable: a.foldable && b.foldable) { input in
            let x = truth(a.evaluate(input))
            let y = truth(b.evaluate(input))
            var out = x
            for i in 0..<out.count { out[i] = x[i] || y[i] }
            return Column(bools: out)
        }
    }

    static func not(_ a: CompiledExpression) -> CompiledExpression {
        CompiledExpression(type: .bool, foldable: a.foldable) { input in
            Column(bools: truth(a.evaluate(input)).map { !$0 })
        }
    }

    static func isNull(_ a: CompiledExpression) -> CompiledExpression {
        if let c = a.constant { return .constant(.bool(c.isNull), type: .bool) }
        return CompiledExpression(type: .bool, foldable: a.foldable) { input in
            let x = a.evaluate(input)
            return Column(bools: x.hasNulls ? x.nulls : [Bool](repeating: false, count: x.count))
        }
    }
}
