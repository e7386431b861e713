import SluiceCore
import Testing
import SluiceQL
@testable import SluiceRuntime

/// Runs an app over `run`-contract lines and returns what it printed, one compact line per event:
/// `Stream [data...]`, with ` expired` appended for expired events.
func run(_ app: String, _ lines: [String]) throws -> [String] {
    var printed: [String] = []
    let runner = try PlaybackRunner(source: app) { printed.append($0) }
    for (i, line) in lines.enumerated() { try runner.feed(line: line, number: i + 1) }
    return printed.map(compact)
}

/// Lines of one stream only.
func run(_ app: String, _ lines: [String], stream: String) throws -> [String] {
    try run(app, lines).filter { $0.hasPrefix(stream + " ") }.map { String($0.dropFirst(stream.count + 1)) }
}

/// `{"stream":"S","timestamp":…,"data":[…],"expired":x}` → `S […]` or `S […] expired`.
func compact(_ json: String) -> String {
    guard case .object = try? JSONParser.parse(json), let parsed = try? JSONParser.parse(json),
          case .string(let stream)? = parsed["stream"] else { return json }
    let dataStart = json.range(of: "\"data\":")!.upperBound
    let dataEnd = json.range(of: ",\"expired\":")!.lowerBound
    let expired = parsed["expired"] == .bool(true)
    return "\(stream) \(json[dataStart..<dataEnd])" + (expired ? " expired" : "")
}

func event(_ stream: String, _ ts: Int64, _ data: String) -> String {
    "{\"stream\":\"\(stream)\",\"timestamp\":\(ts),\"data\":[\(data)]}"
}

func tick(_ ts: Int64) -> String { "{\"tick\":\(ts)}" }

/// The diagnostic an app is refused with, as `line:column: message`.
func deployError(_ app: String) -> String? {
    do {
        _ = try AppRuntime(source: app)
        return nil
    } catch {
        return error.description
    }
}

/// Runs `app` over `lines` uninterrupted, then once per cut point: the first part, a snapshot, a
/// new runtime restored from it, the rest. Records an issue for every cut whose output differs;
/// returns the uninterrupted output.
@discardableResult
func expectRestoreAnywhereMatches(_ app: String, _ lines: [String],
                                  sourceLocation: Testing.SourceLocation = #_sourceLocation) throws -> [String] {
    let reference = try run(app, lines)
    for cut in 1..<lines.count {
        var printed: [String] = []
        let first = try PlaybackRunner(source: app) { printed.append($0) }
        for (i, line) in lines[..<cut].enumerated() { try first.feed(line: line, number: i + 1) }
        let state = try first.runtime.snapshot()
        let second = try PlaybackRunner(source: app) { printed.append($0) }
        try second.runtime.restore(state)
        for (i, line) in lines[cut...].enumerated() { try second.feed(line: line, number: cut + i + 1) }
        #expect(printed.map(compact) == reference, "cut after line \(cut)", sourceLocation: sourceLocation)
    }
    return reference
}
