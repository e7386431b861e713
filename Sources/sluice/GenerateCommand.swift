import ArgumentParser
import Foundation
import SluiceClient
import SluiceCore

/// `sluice generate`: prints the events `sluice send --generate` sends, as JSON lines, so that
/// `sluice run` can compute what a cluster fed by `sluice send` must output.
struct Generate: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Print generated events as JSON lines: the same events `sluice send --generate` sends.",
        discussion: "The same --seed, --count and --stream give the same events as `sluice send --generate request`."
    )

    @Argument(help: "What to generate: 'request' (seed-style Request events) or 'response-times' (the peers' job).") var kind: String
    @Option(help: "Events to print.") var count: Int = 100_000
    @Option(help: "The stream name written on each line.") var stream: String = "Request"
    @Option(help: "Seed, as for `sluice send --seed`.") var seed: UInt64 = RequestGenerator.defaultSeed
    @Flag(help: "Add a last attribute 'requestId long' numbering the events 1, 2, …, as `sluice send --ids` does.") var ids = false

    func validate() throws {
        guard GeneratedKind(rawValue: kind) != nil else { throw ValidationError(GeneratedKind.unknown) }
        guard count >= 0 else { throw ValidationError("--count must not be negative") }
    }

    func run() throws {
        var request = RequestGenerator(seed: seed)
        var responseTimes = ResponseTimeGenerator()
        var out = OutputBuffer()
        var made = 0
        var text = ""
        while made < count {
            // The same batch cuts as `send` is not needed: the generator's sequence does not depend on them.
            let n = min(1024, count - made)
            var batch = kind == GeneratedKind.request.rawValue ? request.batch(n) : responseTimes.batch(n)
            if ids, kind == GeneratedKind.request.rawValue {
                var column = Column(type: .long)
                for id in made + 1...made + batch.count { column.appendLong(Int64(id)) }
                batch.columns.append(column)
            }
            for row in 0..<batch.count {
                text.removeAll(keepingCapacity: true)
                EventJSON.append(stream: stream, batch: batch, row: row, to: &text)
                out.write(text)
            }
            made += batch.count
        }
        out.flush()
    }
}
