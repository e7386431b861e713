import Foundation
import Testing
import SluiceCore
import SluiceQL
@testable import SluiceRuntime

/// Replays the fuzzing corpus (Tests/FuzzCorpus, see tools/fuzz/README.md) through the decoders
/// the fuzzers drive, without sanitizers: every seed and every saved crash must make them return
/// or throw their typed error, never trap. `make fuzz-replay` runs the same files under ASan.
@Suite struct FuzzCorpusReplayTests {
    static let corpus = URL(fileURLWithPath: #filePath)
        .deletingLastPathComponent().deletingLastPathComponent()
        .appendingPathComponent("FuzzCorpus")

    /// The schema the event-line fuzzer decodes against (tools/fuzz/Sources/FuzzEventLine).
    static let schema = StreamSchema(name: "S", attributes: [
        .init(name: "a", type: .string),
        .init(name: "b", type: .int),
        .init(name: "c", type: .double),
        .init(name: "d", type: .bool),
    ])

    /// Seeds and saved crashes of one fuzz target, as paths relative to Tests/FuzzCorpus.
    static func inputs(_ target: String) -> [String] {
        [target, "crashes/" + target].flatMap { dir in
            let names = (try? FileManager.default.contentsOfDirectory(atPath: corpus.appendingPathComponent(dir).path)) ?? []
            return names.filter { !$0.hasPrefix(".") }.map { dir + "/" + $0 }
        }.sorted()
    }

    /// The file as the fuzzers see it: bytes decoded as UTF-8, invalid sequences repaired.
    static func text(_ relativePath: String) throws -> String {
        let data = try Data(contentsOf: corpus.appendingPathComponent(relativePath))
        return String(decoding: data, as: UTF8.self)
    }

    @Test func corpusIsThere() {
        #expect(Self.inputs("event-line").count >= 5, "no event-line seeds under \(Self.corpus.path)")
        #expect(Self.inputs("siddhiql").count >= 5, "no siddhiql seeds under \(Self.corpus.path)")
    }

    @Test(arguments: inputs("event-line"))
    func eventLine(_ file: String) throws {
        let line = try Self.text(file)
        _ = try? JSONParser.parse(line)
        _ = try? EventLineCodec.decode(line) { $0 == Self.schema.name ? Self.schema : nil }
    }

    @Test(arguments: inputs("siddhiql"))
    func siddhiQL(_ file: String) throws {
        let source = try Self.text(file)
        guard let app = try? SiddhiParser.parse(source) else { return }
        _ = try? AppRuntime(app: app)
    }
}
