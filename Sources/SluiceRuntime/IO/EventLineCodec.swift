import SluiceCore

/// One line of `sluice run` input: an event for a stream, or a clock tick.
public enum InputLine: Sendable {
    case event(stream: String, timestamp: Int64, values: [Value])
    case tick(Int64)
}

/// The `run` contract's JSON lines, checked against the app's stream schemas.
public enum EventLineCodec {
    /// Decodes `{"stream":"S","timestamp":1000,"data":[…]}` or `{"tick":5000}`, checking the data
    /// against the stream's schema. `schema` returns nil for an unknown stream.
    public static func decode(_ line: String, schema: (String) -> StreamSchema?) throws(JSONError) -> InputLine {
        switch try JSONLines.parse(line) {
        case .tick(let t):
            return .tick(t)
        case .event(let stream, let ts, let data):
            guard let s = schema(stream) else { throw JSONError(description: "stream '\(stream)' is not defined in the app") }
            let values = try JSONLines.values(data, attributes: s.attributes.map { ($0.name, $0.type) }, stream: stream)
            return .event(stream: stream, timestamp: ts, values: values)
        }
    }

    /// Encodes one output event: `{"stream":"Out","timestamp":1000,"data":[…],"expired":false}`.
    public static func encode(stream: String, batch: EventBatch, row: Int, into out: inout String) {
        JSONLines.append(stream: stream, batch: batch, row: row, to: &out)
    }
}
