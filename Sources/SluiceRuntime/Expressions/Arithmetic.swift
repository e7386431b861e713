import SluiceCore
import SluiceQL

/// `+ - * / %` with Java's semantics, as Siddhi has them: integer overflow wraps, integer division
/// truncates, `%` keeps the dividend's sign, and division or remainder by zero gives null.
enum Arithmetic {
    static func compile(_ op: ArithmeticOperator, _ a: CompiledExpression, _ b: CompiledExpression,
                        type: AttributeType) -> CompiledExpression {
        let foldable = a.foldable && b.foldable
        let zeroIsNull = op == .divide || op == .modulo
        if type.isIntegral {
            let narrow = type == .int
            let f: (Int64, Int64) -> Int64
            switch op {
            case .add: f = { $0 &+ $1 }
            case .subtract: f = { $0 &- $1 }
            case .multiply: f = { $0 &* $1 }
            case .divide: f = { $1 == 0 ? 0 : $0.dividedReportingOverflow(by: $1).partialValue }
            case .modulo: f = { $1 == 0 ? 0 : $0.remainderReportingOverflow(dividingBy: $1).partialValue }
            }
            return CompiledExpression(type: type, foldable: foldable) { input in
                let x = a.evaluate(input)
                let y = b.evaluate(input)
                var out = mapLongs(x.longs, y.longs, narrow: narrow, f)
                out.nulls = mergeNulls(x, y, zeroDivisor: zeroIsNull ? { y.longs[$0] == 0 } : nil)
                return Column(longs: out.values, nulls: out.nulls, type: type)
            }
        }
        let narrow = type == .float
        let f: (Double, Double) -> Double
        switch op {
        case .add: f = { $0 + $1 }
        case .subtract: f = { $0 - $1 }
        case .multiply: f = { $0 * $1 }
        case .divide: f = { $1 == 0 ? 0 : $0 / $1 }
        case .modulo: f = { $1 == 0 ? 0 : $0.truncatingRemainder(dividingBy: $1) }
        }
        return CompiledExpression(type: type, foldable: foldable) { input in
            let x = a.evaluate(input)
            let y = b.evaluate(input)
            let xs = doubleLane(x)
            let ys = doubleLane(y)
            let values = mapDoubles(xs, ys, narrow: narrow, f)
            let nulls = mergeNulls(x, y, zeroDivisor: zeroIsNull ? { ys[$0] == 0 } : nil)
            return Column(doubles: values, nulls: nulls, type: type)
        }
    }

    static func negate(_ a: CompiledExpression) -> CompiledExpression {
        let type = a.type
        return CompiledExpression(type: type, foldable: a.foldable) { input in
            var x = a.evaluate(input)
            if type.isIntegral {
                x.longs = x.longs.map { type == .int ? Int64(Int32(truncatingIfNeeded: 0 &- $0)) : 0 &- $0 }
            } else {
                x.doubles = x.doubles.map { -$0 }
            }
            return x
        }
    }

    /// The values of a numeric column as doubles (copying only when the column is integral).
    @inline(__always)
    static func doubleLane(_ c: Column) -> [Double] {
        c.type.isFloating ? c.doubles : c.longs.map { Double($0) }
    }

    @inline(__always)
    static func mapLongs(_ x: [Int64], _ y: [Int64], narrow: Bool, _ f: (Int64, Int64) -> Int64) -> (values: [Int64], nulls: [Bool]) {
        let n = x.count
        let values = [Int64](unsafeUninitializedCapacity: n) { buf, count in
            x.withUnsafeBufferPointer { xa in
                y.withUnsafeBufferPointer { ya in
                    if narrow {
                        for i in 0..<n { buf[i] = Int64(Int32(truncatingIfNeeded: f(xa[i], ya[i]))) }
                    } else {
                        for i in 0..<n { buf[i] = f(xa[i], ya[i]) }
                    }
                }
            }
            count = n
        }
        return (values, [])
    }

    @inline(__always)
    static func mapDoubles(_ x: [Double], _ y: [Double], narrow: Bool, _ f: (Double, Double) -> Double) -> [Double] {
        let n = x.count
        return [Double](unsafeUninitializedCapacity: n) { buf, count in
            x.withUnsafeBufferPointer { xa in
                y.withUnsafeBufferPointer { ya in
                    if narrow {
                        for i in 0..<n { buf[i] = Double(Float(f(xa[i], ya[i]))) }
                    } else {
                        for i in 0..<n { buf[i] = f(xa[i], ya[i]) }
                    }
                }
            }
            count = n
        }
    }

    /// A row is null when either operand is, or when the divisor is zero.
    static func mergeNulls(_ x: Column, _ y: Column, zeroDivisor: ((Int) -> Bool)?) -> [Bool] {
        let n = x.count
        if !x.hasNulls && !y.hasNulls && zeroDivisor == nil { return [] }
        var nulls = [Bool](repeating: false, count: n)
        var any = false
        for i in 0..<n {
            let isNull = x.isNull(i) || y.isNull(i) || (zeroDivisor?(i) ?? false)
            nulls[i] = isNull
            any = any || isNull
        }
        return any ? nulls : []
    }
}

extension Column {
    init(longs: [Int64], nulls: [Bool], type: AttributeType) {
        self.init(longs: longs, type: type)
        self.nulls = nulls
    }

    init(doubles: [Double], nulls: [Bool], type: AttributeType) {
        self.init(doubles: doubles, type: type)
        self.nulls = nulls
    }
}
