import ArgumentParser
import Foundation
import SluiceCore
import SluiceQL
import SluiceRuntime
import SluiceStores

@main
struct Sluice: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "sluice",
        abstract: "A stream-processing engine for Siddhi apps.",
        subcommands: [Run.self, Check.self, NodeCommand.self, Send.self, Generate.self, Subscribe.self, ClusterCommand.self,
                      StatusCommand.self, WitnessCommand.self, QueryCommand.self]
    )
}

/// Prints `file:line:column: message` and exits non-zero.
func fail(_ diagnostic: Diagnostic, file: String) -> Never {
    FileHandle.standardError.write(Data((diagnostic.formatted(file: file) + "\n").utf8))
    exit(1)
}

func fail(_ message: String) -> Never {
    FileHandle.standardError.write(Data(("sluice: " + message + "\n").utf8))
    exit(1)
}

func readApp(_ path: String) -> String {
    guard let data = FileManager.default.contents(atPath: path) else { fail("cannot read '\(path)'") }
    return String(decoding: data, as: UTF8.self)
}

struct Check: ParsableCommand {
    static let configuration = CommandConfiguration(abstract: "Validate an app; errors print as file:line:column: message.")

    @Argument(help: "The Siddhi app (.siddhi).") var app: String

    func run() throws {
        do {
            // A check opens no database: the @store options are validated, nothing more.
            let runtime = try AppRuntime(source: readApp(app), stores: CheckedOnlyStore.provider)
            print("\(app): ok (app '\(runtime.name)', \(runtime.streams.count) streams)")
        } catch {
            fail(error, file: app)
        }
    }
}

struct Run: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Run an app over JSON-lines events in playback time and print its output as JSON lines."
    )

    @Argument(help: "The Siddhi app (.siddhi).") var app: String
    @Option(help: "Events as JSON lines (default: standard input).") var events: String?
    @Option(help: "Where @store tables without a jdbc.url keep their SQLite file (tables/<app>.sqlite).")
    var dataDir: String = "."

    func run() throws {
        let source = readApp(app)
        var out = OutputBuffer()
        let runner: PlaybackRunner
        do {
            runner = try PlaybackRunner(source: source, stores: RDBMSStores(dataDirectory: dataDir).provider) { line in out.write(line) }
        } catch {
            fail(error, file: app)
        }
        let input: UnsafeMutablePointer<FILE>
        if let events {
            guard let f = fopen(events, "r") else { fail("cannot read '\(events)'") }
            input = f
        } else {
            guard let f = fdopen(0, "r") else { fail("cannot read standard input") }
            input = f
        }
        var number = 0
        var linePointer: UnsafeMutablePointer<CChar>?
        var capacity = 0
        while getline(&linePointer, &capacity, input) > 0 {
            number += 1
            let line = String(cString: linePointer!)
            do {
                try runner.feed(line: line, number: number)
            } catch {
                out.flush()
                fail("\(events ?? "<stdin>"):\(error.description)")
            }
        }
        free(linePointer)
        out.flush()
    }
}

/// Buffers stdout writes; the engine can emit millions of lines.
struct OutputBuffer {
    private var buffer: [UInt8] = []

    mutating func write(_ line: String) {
        buffer.append(contentsOf: line.utf8)
        buffer.append(0x0A)
        if buffer.count > 1 << 16 { flush() }
    }

    mutating func flush() {
        guard !buffer.isEmpty else { return }
        buffer.withUnsafeBytes { raw in
            var offset = 0
            while offset < raw.count {
                let n = Foundation.write(1, raw.baseAddress! + offset, raw.count - offset)
                if n <= 0 { break }
                offset += n
            }
        }
        buffer.removeAll(keepingCapacity: true)
    }
}
