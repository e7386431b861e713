import SluiceCore

/// The JSON lines of `sluice run`'s contract, for tools built on the SDK (which does not link
/// the runtime that has the engine's own codec):
/// in `{"stream":"S","timestamp":1000,"data":[…]}`, out the same plus `"expired":false`.
public enum EventJSON {
    /// A JSON value of an input line.
    public typealias JSON = JSONValue

    /// One output line for row `row` of `batch`.
    public static func line(stream: String, batch: EventBatch, row: Int) -> String {
        var out = ""
        append(stream: stream, batch: batch, row: row, to: &out)
        return out
    }

    public static func line(_ event: SubscribedEvent) -> String {
        var out = ""
        JSONLines.append(stream: event.stream, timestamp: event.timestamp, values: event.values, expired: event.expired, to: &out)
        return out
    }

    public static func append(stream: String, batch: EventBatch, row: Int, to out: inout String) {
        JSONLines.append(stream: stream, batch: batch, row: row, to: &out)
    }

    // MARK: Input

    /// One input event: a line with `stream`, `timestamp` and `data`.
    public struct InputEvent: Sendable, Equatable {
        public var stream: String
        public var timestamp: Int64
        public var data: [JSON]
    }

    /// The event on a line, or nil for a tick line.
    public static func parseEvent(_ line: String) throws(ClientError) -> InputEvent? {
        do {
            switch try JSONLines.parse(line) {
            case .tick: return nil
            case .event(let stream, let ts, let data): return InputEvent(stream: stream, timestamp: ts, data: data)
            }
        } catch {
            throw ClientError(.invalidEvent, error.description)
        }
    }

    /// The event's data as values of `schema`, checked as `sluice run` checks them.
    public static func values(_ data: [JSON], schema: EventSchema) throws(ClientError) -> [Value] {
        do {
            return try JSONLines.values(data, attributes: schema.attributes.map { ($0.name, $0.type) }, stream: schema.name)
        } catch {
            throw ClientError(.invalidEvent, error.description)
        }
    }

    /// Parses one JSON document (RFC 8259; nesting limited to 64).
    public static func parse(_ text: String) throws(ClientError) -> JSON {
        do {
            return try JSONParser.parse(text)
        } catch {
            throw ClientError(.invalidEvent, error.description)
        }
    }
}
