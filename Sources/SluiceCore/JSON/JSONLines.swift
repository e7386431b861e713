/// The event lines of the `sluice run` contract, shared by the engine's CLI and the SDK's tools:
/// in `{"stream":"S","timestamp":1000,"data":[…]}` or `{"tick":5000}`, out the same plus `"expired"`.
public enum JSONLines {
    /// One input line.
    public enum Line: Sendable, Equatable {
        case event(stream: String, timestamp: Int64, data: [JSONValue])
        case tick(Int64)
    }

    public static func parse(_ line: String) throws(JSONError) -> Line {
        let json = try JSONParser.parse(line)
        guard case .object = json else { throw JSONError(description: "expected a JSON object") }
        if let tick = json["tick"] {
            guard case .integer(let t) = tick else { throw JSONError(description: "'tick' must be an integer") }
            return .tick(t)
        }
        guard case .string(let stream)? = json["stream"] else { throw JSONError(description: "missing \"stream\" (or \"tick\")") }
        guard case .integer(let ts)? = json["timestamp"] else { throw JSONError(description: "missing integer \"timestamp\"") }
        guard case .array(let data)? = json["data"] else { throw JSONError(description: "missing \"data\" array") }
        return .event(stream: stream, timestamp: ts, data: data)
    }

    /// An event's data as values of the stream's attributes. Integers and decimals map to attribute
    /// types as `sluice run` documents; a value of the wrong kind is an error naming the attribute.
    public static func values(_ data: [JSONValue], attributes: [(name: String, type: AttributeType)],
                              stream: String) throws(JSONError) -> [Value] {
        guard data.count == attributes.count else {
            throw JSONError(description: "stream '\(stream)' has \(attributes.count) attributes, the event has \(data.count)")
        }
        var values: [Value] = []
        values.reserveCapacity(data.count)
        for (a, v) in zip(attributes, data) {
            switch (a.type, v) {
            case (_, .null): values.append(.null)
            case (.string, .string(let s)): values.append(.string(s))
            case (.int, .integer(let i)):
                guard let x = Int32(exactly: i) else {
                    throw JSONError(description: "attribute '\(a.name)' of '\(stream)' is int, \(i) is out of range")
                }
                values.append(.int(x))
            case (.long, .integer(let i)): values.append(.long(i))
            case (.float, .integer(let i)): values.append(.float(Float(i)))
            case (.float, .number(let d)): values.append(.float(Float(d)))
            case (.double, .integer(let i)): values.append(.double(Double(i)))
            case (.double, .number(let d)): values.append(.double(d))
            case (.bool, .bool(let b)): values.append(.bool(b))
            case (.object, .string(let s)): values.append(.string(s))
            case (.object, .integer(let i)): values.append(.long(i))
            case (.object, .number(let d)): values.append(.double(d))
            case (.object, .bool(let b)): values.append(.bool(b))
            default:
                throw JSONError(description: "attribute '\(a.name)' of '\(stream)' is \(a.type), got \(describe(v))")
            }
        }
        return values
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

    /// Appends the output line for row `row` of `batch`.
    public static func append(stream: String, batch: EventBatch, row: Int, to out: inout String) {
        out += "{\"stream\":"
        appendString(stream, to: &out)
        out += ",\"timestamp\":"
        out += String(batch.timestamps[row])
        out += ",\"data\":["
        for (i, c) in batch.columns.enumerated() {
            if i > 0 { out += "," }
            appendCell(c, row, to: &out)
        }
        out += batch.kinds[row] == .expired ? "],\"expired\":true}" : "],\"expired\":false}"
    }

    /// Appends an output line from values.
    public static func append(stream: String, timestamp: Int64, values: [Value], expired: Bool, to out: inout String) {
        out += "{\"stream\":"
        appendString(stream, to: &out)
        out += ",\"timestamp\":" + String(timestamp) + ",\"data\":["
        for (i, v) in values.enumerated() {
            if i > 0 { out += "," }
            appendValue(v, to: &out)
        }
        out += expired ? "],\"expired\":true}" : "],\"expired\":false}"
    }

    public static func appendCell(_ c: Column, _ row: Int, to out: inout String) {
        if c.isNull(row) { out += "null"; return }
        switch c.type {
        case .int, .long: out += String(c.longs[row])
        case .float: appendNumber(Double(Float(c.doubles[row])), float: true, to: &out)
        case .double: appendNumber(c.doubles[row], float: false, to: &out)
        case .bool: out += c.bools[row] ? "true" : "false"
        case .string: appendString(c.string(at: row), to: &out)
        case .object: appendValue(c.objects[row], to: &out)
        }
    }

    public static func appendValue(_ v: Value, to out: inout String) {
        switch v {
        case .null: out += "null"
        case .bool(let b): out += b ? "true" : "false"
        case .int(let i): out += String(i)
        case .long(let l): out += String(l)
        case .float(let f): appendNumber(Double(f), float: true, to: &out)
        case .double(let d): appendNumber(d, float: false, to: &out)
        case .string(let s): appendString(s, to: &out)
        }
    }

    /// JSON has no NaN or infinities: they become null. Floats print with float precision.
    public static func appendNumber(_ d: Double, float: Bool, to out: inout String) {
        guard d.isFinite else { out += "null"; return }
        out += float ? String(Float(d)) : String(d)
    }

    public static func appendString(_ s: String, to out: inout String) {
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
