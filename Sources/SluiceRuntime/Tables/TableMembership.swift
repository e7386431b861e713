import SluiceCore
import SluiceQL

/// `cond in T`: true for a row when some row of table T satisfies `cond`, which sees the row's
/// attributes unqualified and the table's written `T.x` (Siddhi's `InConditionExpressionExecutor`).
enum TableMembership {
    /// Pairs tested per pass, so that a large table costs time, not memory.
    static let pairsPerPass = 1 << 16

    static func compile(_ condition: Expression, table: InMemoryTable, scope: Scope,
                        context: ExecutionContext) throws(Diagnostic) -> CompiledExpression {
        let arity = (scope.entries.map(\.index).max() ?? -1) + 1
        var probeTypes = [AttributeType](repeating: .bool, count: arity)
        for entry in scope.entries { probeTypes[entry.index] = entry.type }
        var pairScope = scope
        pairScope.add(qualifiers: [table.schema.name], attributes: table.schema.pairs, offset: arity, side: 2, qualifiedOnly: true)
        let compiled = try ExpressionCompiler(scope: pairScope, context: context).compileCondition(condition, what: "an 'in' condition")
        var reads = [Bool](repeating: false, count: arity + table.schema.attributes.count)
        for v in AttributeUsage.variables(in: condition) { if let e = pairScope.lookup(v) { reads[e.index] = true } }
        let matcher = PairMatcher(condition: compiled, reads: reads, leftTypes: probeTypes, rightTypes: table.schema.attributes.map(\.type),
                                  probeIsLeft: true)
        let key = QueryPlanner.equalKey(in: condition, scope: pairScope, probe: 0, probeStart: 0, found: 2, foundStart: arity)
        return CompiledExpression(type: .bool) { input in
            let batch = input.batch
            let found = table.contents
            var out = [Bool](repeating: false, count: batch.count)
            guard found.count > 0 else { return Column(bools: out) }
            let buckets = key.map { EqualKeyBuckets(key: (mine: $0.probe, theirs: $0.found), probe: batch, found: found, rows: 0..<found.count) }
            let perPass = max(1, pairsPerPass / found.count)
            var start = 0
            while start < batch.count {
                let end = min(batch.count, start + perPass)
                var probes: [Int] = [], founds: [Int] = []
                for row in start..<end where batch.kinds[row] != .reset {
                    if let buckets {
                        let b = Int(buckets.bucket[row])
                        var r = b < buckets.first.count ? buckets.first[b] : -1
                        while r >= 0 {
                            probes.append(row)
                            founds.append(Int(r))
                            r = buckets.next[Int(r)]
                        }
                    } else {
                        for r in 0..<found.count {
                            probes.append(row)
                            founds.append(r)
                        }
                    }
                }
                let ok = matcher.matches(batch, probes, found, founds, context: input.context)
                for (i, row) in probes.enumerated() where ok[i] { out[row] = true }
                start = end
            }
            return Column(bools: out)
        }
    }
}
