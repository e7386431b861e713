import SluiceCore
import SluiceQL

/// `define window W (…) length(5) output all events`: one window shared by every query that
/// inserts into it or reads from it. Readers see its expired events as expired.
final class NamedWindow {
    let input: StreamJunction
    let output: StreamJunction
    let window: WindowProcessor

    init(definition: WindowDefinition, context: ExecutionContext, scheduler: Scheduler) throws(Diagnostic) {
        let schema = StreamSchema(name: definition.name.name,
                                  attributes: definition.attributes.map { .init(name: $0.name, type: $0.type) })
        input = StreamJunction(schema: schema)
        output = StreamJunction(schema: schema)
        let compiler = ExpressionCompiler(scope: Scope(stream: schema.name, attributes: schema.pairs), context: context)
        window = try WindowFactory(context: context, scheduler: scheduler).make(definition.window, schema: schema, compiler: compiler)
        window.expectsExpired = definition.outputEventType != .current
        let entry = StreamEntryProcessor()
        entry.next = window
        let output = output
        let wanted = definition.outputEventType
        window.next = CallbackProcessor { batch in
            switch wanted {
            case .all: output.publish(batch)
            case .current, .expired:
                let want: EventKind = wanted == .current ? .current : .expired
                let rows = (0..<batch.count).filter { batch.kinds[$0] == want || batch.kinds[$0] == .reset }
                output.publish(rows.count == batch.count ? batch : batch.gather(rows))
            }
        }
        input.subscribe { entry.process($0) }
    }
}
