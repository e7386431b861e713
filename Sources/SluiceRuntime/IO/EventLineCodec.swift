import SluiceCore

/// One line of `sluice run` input: an event for a stream, or a clock tick.
public enum InputLine: Sendable {
    case event(stream: String, timestamp: Int64, values: [Value])
    case tick(Int64)
}

/// The `run` contract's JSON lines, in and out.
public enum EventLineCodec {
    /// Decodes `{"stream":"S","timestamp":1000,"data":[…]}` or `{"tick":5000}`, checking the data
    /// against the stream's schema. `schema` returns nil for an unknown stream.
    public static func decode(_ line: String, schema: (String) -> StreamSchema?) throws(JSONError) -> InputLine {
        let json = try JSONParser.parse(line)
        guard case .object = json else { throw JSONError(description: "expected a JSON object") }
        if let tick = json["tick"] {
            guard case .integer(let t) = tick else { throw JSONError(description: "'tick' must be an integer") }
            return .tick(t)
        }
        guard case .string(let stream)? = json["stream"] else { throw JSONError(description: "missing \"stream\" (or \"tick\")") }
        guard let s = schema(stream) else { throw JSONError(description: "stream '\(stream)' is not defined in the app") }
        guard case .integer(let ts)? = json["timestamp"] else { throw JSONError(description: "missing integer \"timestamp\"") }
        guard case .array(let data)? = json["data"] else { throw JSONError(description: "missing \"data\" array") }
        guard data.count == s.attributes.count else {
            throw JSONError(description: "stream '\(stream)' has \(s.attributes.count) attributes, the event has \(data.count)")
        }
        var values: [Value] = []
        values.reserveCapacity(data.count)
        for (a, v) in zip(s.attributes, data) { values.append(try value(v, for: a, stream: stream)) }
        return .event(stream: stream, timestamp: ts, values: values)
    }

    private static func value(_ v: JSONValue, for a: StreamSchema.Attribute, stream: String) throws(JSONError) -> Value {
        func bad() -> JSONError { JSONError(description: "attribute '\(a.name)' of '\(stream)' is \(a.type), got \(describe(v))") }
        switch (a.type, v) {
        case (_, .null): return .null
        case (.string, .string(let s)): return .string(s)
        case (.int, .integer(let i)):
            guard let x = Int32(exactly: i) else { throw JSONError(description: "attribute '\(a.name)' of '\(stream)' is int, \(i) is out of range") }
            return .int(x)
        case (.long, .integer(let i)): return .long(i)
        case (.float, .integer(let i)): return .float(Float(i))
        case (.float, .number(let d)): return .float(Float(d))
        case (.double, .integer(let i)): return .double(Double(i))
        case (.double, .number(let d)): return .double(d)
        case (.bool, .bool(let b)): return .bool(b)
        case (.object, .string(let s)): return .string(s)
        case (.object, .integer(let i)): return .long(i)
        case (.object, .number(let d)): return .double(d)
        case (.object, .bool(let b)): return .bool(b)
        default: throw bad()
        }
    }

    private static func describe(_ v: JSONValue) -> String {
        switch v {
        case .null: "null"
        case .bool: "a bool"
        case .integer(let i): "the integer \(i)"
        case .number(let d): "the number \(d)"
        case .string: "a string"
        case .array: "an array"
        case .object: "an object"
        }
    }

    /// Encodes one output event: `{"stream":"Out","timestamp":1000,"data":[…],"expired":false}`.
    public static func encode(stream: String, batch: EventBatch, row: Int, into out: inout String) {
        out += "{\"stream\":"
        appendString(stream, to: &out)
        out += ",\"timestamp\":"
        out += String(batch.timestamps[row])
        out += ",\"data\":["
        for (i, c) in batch.columns.enumerated() {
            if i > 0 { out += "," }
            appendCell(c, row, to: &out)
        }
        out += "],\"expired\":"
        out += batch.kinds[row] == .expired ? "true}" : "false}"
    }

    static func appendCell(_ c: Column, _ row: Int, to out: inout String) {
        if c.isNull(row) { out += "null"; return }
        switch c.type {
        case .int, .long: out += String(c.longs[row])
        case .float: appendNumber(Double(Float(c.doubles[row])), float: true, to: &out)
        case .double: appendNumber(c.doubles[row], float: false, to: &out)
        case .bool: out += c.bools[row] ? "true" : "false"
        case .string: appendString(c.strings[row], to: &out)
        case .object:
            switch c.objects[row] {
            case .string(let s): appendString(s, to: &out)
            case .null: out += "null"
            case let v: out += v.description
            }
        }
    }

    /// JSON has no NaN or infinities: they become null. Floats print with float precision.
    static func appendNumber(_ d: Double, float: Bool, to out: inout String) {
        guard d.isFinite else { out += "null"; return }
        out += float ? String(Float(d)) : String(d)
    }

    static func appendString(_ s: String, to out: inout String) {
        out += "\""
        for u in s.unicodeScalars {
            switch u {
            case "\"": out += "\\\""
            case "\\": out += "\\\\"
            case "\n": out += "\\n"
            case "\r": out += "\\r"
            case "\t": out += "\\t"
            default:
                if u.value < 0x20 {
                    let hex = String(u.value, radix: 16)
                    out += "\\u" + String(repeating: "0", count: 4 - hex.count) + hex
                } else {
                    out.unicodeScalars.append(u)
                }
            }
        }
        out += "\""
    }
}
