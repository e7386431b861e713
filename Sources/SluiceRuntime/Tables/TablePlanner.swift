import SluiceCore
import SluiceQL

/// Compiles what a query does to a table: its `on` condition and `set` values over the pair of
/// the query's output event (attributes unqualified) and a table row (attributes written `T.x`),
/// as Siddhi compiles them.
struct TablePlanner {
    let context: ExecutionContext

    /// The scope of the pair: output attributes first, then the table's, reachable only qualified.
    static func pairScope(output: [StreamSchema.Attribute], table: InMemoryTable) -> Scope {
        var scope = Scope()
        scope.add(qualifiers: [], attributes: output.map { ($0.name, $0.type) }, offset: 0)
        scope.add(qualifiers: [table.schema.name], attributes: table.schema.pairs, offset: output.count, side: 2, qualifiedOnly: true)
        return scope
    }

    func writer(_ action: TableWriter.Action, table: InMemoryTable, output: [StreamSchema.Attribute], set: [SetAssignment]?,
                on: Expression?, at range: SourceRange) throws(Diagnostic) -> TableWriter {
        let tableAttributes = table.schema.attributes
        let scope = Self.pairScope(output: output, table: table)
        let compiler = ExpressionCompiler(scope: scope, context: context)
        var matcher: PairMatcher?
        var keyProbe: [CompiledExpression]?
        if let on {
            let condition = try compiler.compileCondition(on, what: "a table condition")
            var reads = [Bool](repeating: false, count: output.count + tableAttributes.count)
            for v in AttributeUsage.variables(in: on) { if let e = scope.lookup(v) { reads[e.index] = true } }
            matcher = PairMatcher(condition: condition, reads: reads, leftTypes: output.map(\.type), rightTypes: tableAttributes.map(\.type),
                                  probeIsLeft: true)
            keyProbe = try Self.keyProbe(on, table: table, scope: scope, output: output, context: context)
        }
        // Inserted rows: the output must be the table's row, attribute for attribute.
        if action == .insert || action == .updateOrInsert {
            guard output == tableAttributes else {
                func describe(_ a: [StreamSchema.Attribute]) -> String { "(" + a.map { "\($0.name) \($0.type)" }.joined(separator: ", ") + ")" }
                throw Diagnostic("the query's output \(describe(output)) does not match table '\(table.schema.name)' \(describe(tableAttributes))",
                                 at: range)
            }
        }
        var assignments: [(column: Int, value: CompiledExpression)] = []
        if action == .update || action == .updateOrInsert {
            if let set, !set.isEmpty {
                for assignment in set {
                    guard case .variable(let v) = assignment.target.kind, let entry = scope.lookup(v), entry.side == 2 else {
                        throw Diagnostic("'set' assigns to an attribute of table '\(table.schema.name)', written '\(table.schema.name).x'",
                                         at: assignment.target.range)
                    }
                    let value = try compiler.compile(assignment.value)
                    let column = entry.index - output.count
                    guard Self.assignable(value.type, to: tableAttributes[column].type) else {
                        throw Diagnostic("cannot set \(tableAttributes[column].type) attribute '\(tableAttributes[column].name)' "
                                         + "to a \(value.type) value", at: assignment.value.range)
                    }
                    assignments.append((column, value))
                }
            } else {
                // Siddhi: without `set`, every output attribute sets the table attribute of its name.
                for (i, attribute) in output.enumerated() {
                    guard let column = tableAttributes.firstIndex(where: { $0.name == attribute.name }),
                          tableAttributes[column].type == attribute.type else {
                        throw Diagnostic("output attribute '\(attribute.name) \(attribute.type)' is not an attribute of table "
                                         + "'\(table.schema.name)': add a 'set' clause", at: range)
                    }
                    assignments.append((column, .attribute(i, type: attribute.type)))
                }
            }
        }
        return TableWriter(table: table, action: action, matcher: matcher, assignments: assignments, keyProbe: keyProbe,
                           context: context)
    }

    static func assignable(_ type: AttributeType, to target: AttributeType) -> Bool {
        type == target || (target == .long && type == .int) || (target == .double && (type == .float || type == .int || type == .long))
            || (target == .float && (type == .int || type == .long))
    }

    /// Per primary-key column, the expression over the output alone that `on` requires it to
    /// equal (`T.k == x` among its top-level `and`s); nil unless every key column has one.
    static func keyProbe(_ on: Expression, table: InMemoryTable, scope: Scope, output: [StreamSchema.Attribute],
                         context: ExecutionContext) throws(Diagnostic) -> [CompiledExpression]? {
        guard !table.primaryKey.isEmpty else { return nil }
        var terms: [Expression] = []
        func flatten(_ e: Expression) {
            if case .and(let a, let b) = e.kind { flatten(a); flatten(b) } else { terms.append(e) }
        }
        flatten(on)
        let outputOnly = ExpressionCompiler(scope: Scope(stream: "", attributes: output.map { ($0.name, $0.type) }), context: context)
        var probes: [Int: CompiledExpression] = [:]
        for term in terms {
            guard case .comparison(.equal, let a, let b) = term.kind else { continue }
            for (keySide, other) in [(a, b), (b, a)] {
                guard case .variable(let v) = keySide.kind, let entry = scope.lookup(v), entry.side == 2 else { continue }
                let column = entry.index - output.count
                guard table.primaryKey.contains(column),
                      AttributeUsage.variables(in: other).allSatisfy({ scope.lookup($0)?.side == 0 }),
                      let probe = try? outputOnly.compile(other), probe.type == table.schema.attributes[column].type else { continue }
                probes[column] = probe
            }
        }
        let ordered = table.primaryKey.compactMap { probes[$0] }
        return ordered.count == table.primaryKey.count ? ordered : nil
    }
}
