import SluiceCore

/// What an expression sees when it runs: the rows of one chunk and the engine's state.
public struct EvaluationInput {
    public var batch: EventBatch
    /// The engine clock (playback or injected), for `currentTimeMillis()`.
    public var now: Int64
    let context: ExecutionContext

    init(batch: EventBatch, now: Int64, context: ExecutionContext) {
        self.batch = batch
        self.now = now
        self.context = context
    }
}

/// An expression compiled once, at deploy time, into a closure that evaluates a whole column.
/// Constants and plain attribute references are kept visible so that operators can specialise on them.
public struct CompiledExpression {
    public let type: AttributeType
    /// Set when the expression has the same value for every row.
    public let constant: Value?
    /// Set when the expression is a plain reference to a column of the input.
    public let attributeIndex: Int?
    /// True when every leaf is a constant and nothing reads the clock or a generator: the planner folds it.
    let foldable: Bool
    let evaluator: (borrowing EvaluationInput) -> Column

    init(type: AttributeType, constant: Value? = nil, attributeIndex: Int? = nil, foldable: Bool = false,
         evaluator: @escaping (borrowing EvaluationInput) -> Column) {
        self.type = type
        self.constant = constant
        self.attributeIndex = attributeIndex
        self.foldable = foldable || constant != nil
        self.evaluator = evaluator
    }

    static func constant(_ value: Value, type: AttributeType) -> CompiledExpression {
        CompiledExpression(type: type, constant: value) { input in
            Column(repeating: value, type: type, count: input.batch.count)
        }
    }

    static func attribute(_ index: Int, type: AttributeType) -> CompiledExpression {
        CompiledExpression(type: type, attributeIndex: index) { input in input.batch.columns[index] }
    }

    @inline(__always)
    func evaluate(_ input: borrowing EvaluationInput) -> Column { evaluator(input) }
}
