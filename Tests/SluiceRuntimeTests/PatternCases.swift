@testable import SluiceRuntime

/// Streams and events shaped as in Siddhi's own pattern and sequence tests
/// (siddhi-core's CountPatternTestCase, SequenceTestCase, AbsentPatternTestCase, LogicalPatternTestCase).
enum PatternCases {
    static let streams = (1...3).map { "define stream Stream\($0) (symbol string, price double, volume int);\n" }.joined()

    static func s1(_ ts: Int64, _ symbol: String, _ price: Double, _ volume: Int = 100) -> String { on(1, ts, symbol, price, volume) }
    static func s2(_ ts: Int64, _ symbol: String, _ price: Double, _ volume: Int = 100) -> String { on(2, ts, symbol, price, volume) }
    static func s3(_ ts: Int64, _ symbol: String, _ price: Double, _ volume: Int = 100) -> String { on(3, ts, symbol, price, volume) }

    private static func on(_ n: Int, _ ts: Int64, _ symbol: String, _ price: Double, _ volume: Int) -> String {
        event("Stream\(n)", ts, "\"\(symbol)\", \(price), \(volume)")
    }

    /// Successive events of Stream1, one millisecond apart, from prices.
    static func prices(_ prices: [Double], from start: Int64 = 0) -> [String] {
        prices.enumerated().map { s1(start + Int64($0.offset), "S", $0.element) }
    }
}

/// Output lines with their timestamps: `1000 O [...]`.
func runTimed(_ app: String, _ lines: [String]) throws -> [String] {
    var printed: [String] = []
    let runner = try PlaybackRunner(source: app) { printed.append($0) }
    for (i, line) in lines.enumerated() { try runner.feed(line: line, number: i + 1) }
    return printed.map { json in
        let start = json.range(of: "\"timestamp\":")!.upperBound
        let digits = json[start...].prefix { $0.isNumber || $0 == "-" }
        return "\(digits) \(compact(json))"
    }
}
