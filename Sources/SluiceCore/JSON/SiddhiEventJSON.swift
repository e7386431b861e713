/// Siddhi's default JSON mapping, the body the HTTP source takes and the HTTP sink posts:
/// one event is `{"event":{"attr":value,…}}`, several are a JSON array of those.
public enum SiddhiEventJSON {
    /// The body for every row of `batch`; `names` are the attribute names, in column order.
    public static func encode(_ batch: EventBatch, names: [String]) -> String {
        var out = ""
        out.reserveCapacity(batch.count * (16 + names.count * 24))
        if batch.count == 1 {
            appendEvent(batch, row: 0, names: names, to: &out)
            return out
        }
        out += "["
        for row in 0..<batch.count {
            if row > 0 { out += "," }
            appendEvent(batch, row: row, names: names, to: &out)
        }
        out += "]"
        return out
    }

    public static func appendEvent(_ batch: EventBatch, row: Int, names: [String], to out: inout String) {
        out += "{\"event\":{"
        for (i, column) in batch.columns.enumerated() {
            if i > 0 { out += "," }
            JSONLines.appendString(names[i], to: &out)
            out += ":"
            JSONLines.appendCell(column, row, to: &out)
        }
        out += "}}"
    }
}
