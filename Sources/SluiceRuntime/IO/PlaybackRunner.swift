import SluiceCore
import SluiceQL

/// Runs an app over `run`-contract JSON lines, writing output lines in emission order.
/// This is what `sluice run` does; tests use it directly.
public final class PlaybackRunner {
    public let runtime: AppRuntime
    private var output: String = ""
    private let write: (String) -> Void

    /// Deploys the app and subscribes to every stream that a query inserts into. `stores` opens
    /// its `@store` tables.
    public init(source: String, stores: TableStoreProvider? = nil, write: @escaping (String) -> Void) throws(Diagnostic) {
        runtime = try AppRuntime(source: source, stores: stores)
        self.write = write
        let inputs = Set(runtime.definedStreams.map(\.name))
        for schema in runtime.streams where !inputs.contains(schema.name) {
            let name = schema.name
            try? runtime.addCallback(stream: name) { [unowned self] batch in
                for row in 0..<batch.count where batch.kinds[row] != .reset {
                    self.output.removeAll(keepingCapacity: true)
                    EventLineCodec.encode(stream: name, batch: batch, row: row, into: &self.output)
                    self.write(self.output)
                }
            }
        }
    }

    /// Feeds one input line. Blank lines are skipped; a malformed line throws with its number.
    public func feed(line: String, number: Int) throws(RuntimeError) {
        if line.allSatisfy(\.isWhitespace) { return }
        let decoded: InputLine
        do {
            decoded = try EventLineCodec.decode(line) { runtime.schema(of: $0) }
        } catch {
            throw RuntimeError("line \(number): \(error.description)")
        }
        switch decoded {
        case .tick(let t):
            runtime.advanceTime(to: t)
        case .event(let stream, let ts, let values):
            guard let handler = try? runtime.inputHandler(for: stream) else {
                throw RuntimeError("line \(number): stream '\(stream)' is not defined in the app")
            }
            do {
                try handler.send(timestamp: ts, values: values)
            } catch {
                throw RuntimeError("line \(number): \(error.description)")
            }
        }
    }
}
