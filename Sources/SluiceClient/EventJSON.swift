import SluiceCore

/// The JSON lines of `sluice run`'s contract, for tools built on the SDK (which does not link
/// the runtime that has the engine's own codec):
/// in `{"stream":"S","timestamp":1000,"data":[…]}`, out the same plus `"expired":false`.
public enum EventJSON {
    /// One output line for row `row` of `batch`.
    public static func line(stream: String, batch: EventBatch, row: Int) -> String {
        var out = ""
        append(stream: stream, batch: batch, row: row, to: &out)
        return out
    }

    public static func line(_ event: SubscribedEvent) -> String {
        var out = "{\"stream\":"
        appendString(event.stream, to: &out)
        out += ",\"timestamp\":" + String(event.timestamp) + ",\"data\":["
        for (i, v) in event.values.enumerated() {
            if i > 0 { out += "," }
            appendValue(v, to: &out)
        }
        out += event.expired ? "],\"expired\":true}" : "],\"expired\":false}"
        return out
    }

    public static func append(stream: String, batch: EventBatch, row: Int, to out: inout String) {
        out += "{\"stream\":"
        appendString(stream, to: &out)
        out += ",\"timestamp\":"
        out += String(batch.timestamps[row])
        out += ",\"data\":["
        for (i, c) in batch.columns.enumerated() {
            if i > 0 { out += "," }
            appendValue(c.value(at: row), to: &out)
        }
        out += batch.kinds[row] == .expired ? "],\"expired\":true}" : "],\"expired\":false}"
    }

    static func appendValue(_ v: Value, to out: inout String) {
        switch v {
        case .null: out += "null"
        case .bool(let b): out += b ? "true" : "false"
        case .int(let i): out += String(i)
        case .long(let l): out += String(l)
        // JSON has no NaN or infinities; floats print with float precision, as `sluice run` does.
        case .float(let f): out += f.isFinite ? String(f) : "null"
        case .double(let d): out += d.isFinite ? String(d) : "null"
        case .string(let s): appendString(s, to: &out)
        }
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

    // MARK: Input

    /// A JSON value of an input line.
    public indirect enum JSON: Sendable, Hashable {
        case null
        case bool(Bool)
        case integer(Int64)
        case number(Double)
        case string(String)
        case array([JSON])
        case object([String: JSON])

        public subscript(key: String) -> JSON? {
            if case .object(let o) = self { return o[key] }
            return nil
        }

        /// The attribute type an untyped value suggests (for inferring a schema).
        public var suggestedType: AttributeType? {
            switch self {
            case .bool: .bool
            case .integer: .long
            case .number: .double
            case .string: .string
            default: nil
            }
        }
    }

    /// One input event: a line with `stream`, `timestamp` and `data`. Nil for a tick line.
    public struct InputEvent: Sendable, Hashable {
        public var stream: String
        public var timestamp: Int64
        public var data: [JSON]
    }

    public static func parseEvent(_ line: String) throws(ClientError) -> InputEvent? {
        let json = try parse(line)
        guard case .object = json else { throw ClientError(.invalidEvent, "expected a JSON object") }
        if json["tick"] != nil { return nil }
        guard case .string(let stream)? = json["stream"] else { throw ClientError(.invalidEvent, "missing \"stream\"") }
        guard case .integer(let ts)? = json["timestamp"] else { throw ClientError(.invalidEvent, "missing integer \"timestamp\"") }
        guard case .array(let data)? = json["data"] else { throw ClientError(.invalidEvent, "missing \"data\" array") }
        return InputEvent(stream: stream, timestamp: ts, data: data)
    }

    /// The event's data as values of `schema`, checked as `sluice run` checks them.
    public static func values(_ data: [JSON], schema: EventSchema) throws(ClientError) -> [Value] {
        guard data.count == schema.arity else {
            throw ClientError(.invalidEvent, "stream '\(schema.name)' has \(schema.arity) attributes, the event has \(data.count)")
        }
        var out: [Value] = []
        out.reserveCapacity(data.count)
        for (a, v) in zip(schema.attributes, data) {
            switch (a.type, v) {
            case (_, .null): out.append(.null)
            case (.string, .string(let s)): out.append(.string(s))
            case (.int, .integer(let i)):
                guard let x = Int32(exactly: i) else {
                    throw ClientError(.invalidEvent, "attribute '\(a.name)' of '\(schema.name)' is int, \(i) is out of range")
                }
                out.append(.int(x))
            case (.long, .integer(let i)): out.append(.long(i))
            case (.float, .integer(let i)): out.append(.float(Float(i)))
            case (.float, .number(let d)): out.append(.float(Float(d)))
            case (.double, .integer(let i)): out.append(.double(Double(i)))
            case (.double, .number(let d)): out.append(.double(d))
            case (.bool, .bool(let b)): out.append(.bool(b))
            default:
                throw ClientError(.invalidEvent, "attribute '\(a.name)' of '\(schema.name)' is \(a.type), got \(v)")
            }
        }
        return out
    }

    /// Parses one JSON document (RFC 8259; nesting limited to 64).
    public static func parse(_ text: String) throws(ClientError) -> JSON {
        var p = Parser(bytes: Array(text.utf8))
        p.skipSpace()
        let v = try p.value(depth: 0)
        p.skipSpace()
        guard p.i == p.bytes.count else { throw p.error("trailing characters") }
        return v
    }

    private struct Parser {
        let bytes: [UInt8]
        var i = 0

        func error(_ what: String) -> ClientError {
            ClientError(.invalidEvent, "invalid JSON at byte \(i + 1): \(what)")
        }

        mutating func skipSpace() {
            while i < bytes.count, bytes[i] == 0x20 || bytes[i] == 0x09 || bytes[i] == 0x0A || bytes[i] == 0x0D { i += 1 }
        }

        mutating func literal(_ word: String, _ v: JSON) throws(ClientError) -> JSON {
            let w = Array(word.utf8)
            guard i + w.count <= bytes.count, Array(bytes[i..<i + w.count]) == w else { throw error("unexpected character") }
            i += w.count
            return v
        }

        mutating func value(depth: Int) throws(ClientError) -> JSON {
            guard depth < 64 else { throw error("nested too deeply") }
            guard i < bytes.count else { throw error("unexpected end") }
            switch bytes[i] {
            case UInt8(ascii: "{"):
                i += 1
                var o: [String: JSON] = [:]
                skipSpace()
                if i < bytes.count, bytes[i] == UInt8(ascii: "}") { i += 1; return .object(o) }
                while true {
                    skipSpace()
                    guard i < bytes.count, bytes[i] == UInt8(ascii: "\"") else { throw error("expected a key") }
                    let k = try string()
                    skipSpace()
                    guard i < bytes.count, bytes[i] == UInt8(ascii: ":") else { throw error("expected ':'") }
                    i += 1
                    skipSpace()
                    o[k] = try value(depth: depth + 1)
                    skipSpace()
                    guard i < bytes.count else { throw error("unexpected end") }
                    if bytes[i] == UInt8(ascii: ",") { i += 1; continue }
                    if bytes[i] == UInt8(ascii: "}") { i += 1; return .object(o) }
                    throw error("expected ',' or '}'")
                }
            case UInt8(ascii: "["):
                i += 1
                var a: [JSON] = []
                skipSpace()
                if i < bytes.count, bytes[i] == UInt8(ascii: "]") { i += 1; return .array(a) }
                while true {
                    skipSpace()
                    a.append(try value(depth: depth + 1))
                    skipSpace()
                    guard i < bytes.count else { throw error("unexpected end") }
                    if bytes[i] == UInt8(ascii: ",") { i += 1; continue }
                    if bytes[i] == UInt8(ascii: "]") { i += 1; return .array(a) }
                    throw error("expected ',' or ']'")
                }
            case UInt8(ascii: "\""):
                return .string(try string())
            case UInt8(ascii: "t"): return try literal("true", .bool(true))
            case UInt8(ascii: "f"): return try literal("false", .bool(false))
            case UInt8(ascii: "n"): return try literal("null", .null)
            default:
                return try number()
            }
        }

        mutating func number() throws(ClientError) -> JSON {
            let start = i
            if i < bytes.count, bytes[i] == UInt8(ascii: "-") { i += 1 }
            var integral = true
            let digitsStart = i
            while i < bytes.count, (0x30...0x39).contains(bytes[i]) { i += 1 }
            guard i > digitsStart else { throw error("unexpected character") }
            if bytes[digitsStart] == 0x30, i - digitsStart > 1 { throw error("leading zero") }
            if i < bytes.count, bytes[i] == UInt8(ascii: ".") {
                integral = false
                i += 1
                let f = i
                while i < bytes.count, (0x30...0x39).contains(bytes[i]) { i += 1 }
                guard i > f else { throw error("digits expected after '.'") }
            }
            if i < bytes.count, bytes[i] == UInt8(ascii: "e") || bytes[i] == UInt8(ascii: "E") {
                integral = false
                i += 1
                if i < bytes.count, bytes[i] == UInt8(ascii: "+") || bytes[i] == UInt8(ascii: "-") { i += 1 }
                let e = i
                while i < bytes.count, (0x30...0x39).contains(bytes[i]) { i += 1 }
                guard i > e else { throw error("digits expected in exponent") }
            }
            let text = String(decoding: bytes[start..<i], as: UTF8.self)
            if integral, let v = Int64(text) { return .integer(v) }
            guard let d = Double(text) else { throw error("bad number") }
            return .number(d)
        }

        mutating func hex4() throws(ClientError) -> UInt32 {
            guard i + 4 <= bytes.count, let v = UInt32(String(decoding: bytes[i..<i + 4], as: UTF8.self), radix: 16) else {
                throw error("bad \\u escape")
            }
            i += 4
            return v
        }

        mutating func string() throws(ClientError) -> String {
            i += 1
            var out: [UInt8] = []
            while true {
                guard i < bytes.count else { throw error("unterminated string") }
                let b = bytes[i]
                i += 1
                switch b {
                case UInt8(ascii: "\""):
                    let s = String(decoding: out, as: UTF8.self)
                    // Decoding repairs bad UTF-8; a repaired string has other bytes.
                    guard s.utf8.elementsEqual(out) else { throw error("invalid UTF-8") }
                    return s
                case UInt8(ascii: "\\"):
                    guard i < bytes.count else { throw error("unterminated string") }
                    let e = bytes[i]
                    i += 1
                    switch e {
                    case UInt8(ascii: "\""): out.append(0x22)
                    case UInt8(ascii: "\\"): out.append(0x5C)
                    case UInt8(ascii: "/"): out.append(0x2F)
                    case UInt8(ascii: "b"): out.append(0x08)
                    case UInt8(ascii: "f"): out.append(0x0C)
                    case UInt8(ascii: "n"): out.append(0x0A)
                    case UInt8(ascii: "r"): out.append(0x0D)
                    case UInt8(ascii: "t"): out.append(0x09)
                    case UInt8(ascii: "u"):
                        var scalar = try hex4()
                        if (0xD800...0xDBFF).contains(scalar) {
                            guard i + 2 <= bytes.count, bytes[i] == UInt8(ascii: "\\"), bytes[i + 1] == UInt8(ascii: "u") else {
                                throw error("lone surrogate")
                            }
                            i += 2
                            let low = try hex4()
                            guard (0xDC00...0xDFFF).contains(low) else { throw error("lone surrogate") }
                            scalar = 0x10000 + ((scalar - 0xD800) << 10) + (low - 0xDC00)
                        }
                        guard let u = Unicode.Scalar(scalar) else { throw error("lone surrogate") }
                        out.append(contentsOf: Array(String(Character(u)).utf8))
                    default:
                        throw error("bad escape")
                    }
                default:
                    guard b >= 0x20 else { throw error("control character in string") }
                    out.append(b)
                }
            }
        }
    }
}
