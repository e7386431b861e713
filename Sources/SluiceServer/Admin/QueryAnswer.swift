import SluiceCore
import SluiceRuntime

/// The JSON of an on-demand query's answer, as `POST /query` gives it and `sluice query` reads it:
/// `{"attributes":[{"name":"symbol","type":"string"},…],"records":[["A",10.5],…]}`.
enum QueryAnswer {
    static func json(_ result: OnDemandResult) -> String {
        var out = "{\"attributes\":["
        for (i, a) in result.attributes.enumerated() {
            if i > 0 { out += "," }
            out += "{\"name\":"
            JSONLines.appendString(a.name, to: &out)
            out += ",\"type\":\"\(a.type)\"}"
        }
        out += "],\"records\":["
        for row in 0..<result.rows.count {
            if row > 0 { out += "," }
            out += "["
            for (c, column) in result.rows.columns.enumerated() {
                if c > 0 { out += "," }
                JSONLines.appendCell(column, row, to: &out)
            }
            out += "]"
        }
        return out + "]}"
    }

    static func error(_ message: String) -> String {
        var out = "{\"error\":"
        JSONLines.appendString(message, to: &out)
        return out + "}"
    }
}
