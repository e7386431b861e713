import ArgumentParser
import Foundation
import SluiceCore
import SluiceServer

struct QueryCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "query",
        abstract: "Run an on-demand query against a node's tables and named windows.",
        discussion: """
        Sends the query to the node's admin POST /query and prints the rows it selects as a table \
        (or the answer's JSON with --json). Finds: 'from T [on cond] select … [group by …] [order by …] \
        [limit …]'. Writes: 'select … insert into T', 'delete T on …', 'update T set … on …', \
        'select … update or insert into T set … on …'. A member of an HA group answers finds only.
        """
    )

    @Option(name: .customLong("node"), help: "The node's admin address HOST:PORT.") var node: String
    @Flag(help: "Print the answer's JSON instead of a table.") var json = false
    @Argument(help: "The query, in SiddhiQL.") var query: String

    func run() async throws {
        guard let address = HostPort(node) else { fail("--node must be an admin HOST:PORT, got '\(node)'") }
        let response: AdminClient.Response
        do {
            response = try await AdminClient(timeout: .seconds(10)).post(address, path: "/query", body: query)
        } catch {
            fail("\(error)")
        }
        guard let answer = try? JSONParser.parse(response.body), case .object = answer else {
            fail("\(address) answered \(response.status): \(response.body)")
        }
        if case .string(let message)? = answer["error"] { fail("query: \(message)") }
        if json {
            print(response.body)
            return
        }
        guard case .array(let attributes)? = answer["attributes"], case .array(let records)? = answer["records"] else {
            fail("\(address) answered without attributes and records: \(response.body)")
        }
        let names = attributes.map { a -> String in
            if case .string(let n)? = a["name"] { return n }
            return "?"
        }
        guard !names.isEmpty else {
            print("ok")
            return
        }
        let cells = records.map { record -> [String] in
            guard case .array(let values) = record else { return [] }
            return values.map(Self.text)
        }
        print(Self.table(header: names, rows: cells))
    }

    static func text(_ value: JSONValue) -> String {
        switch value {
        case .null: "null"
        case .bool(let b): b ? "true" : "false"
        case .number(let n): n == n.rounded() && abs(n) < 1e15 && !"\(n)".contains("e") ? String(Int64(n)) : "\(n)"
        case .string(let s): s
        default: "\(value)"
        }
    }

    /// Columns padded to their widest cell, then a count line.
    static func table(header: [String], rows: [[String]]) -> String {
        var widths = header.map(\.count)
        for row in rows { for (i, cell) in row.enumerated() where i < widths.count { widths[i] = max(widths[i], cell.count) } }
        func line(_ cells: [String]) -> String {
            cells.enumerated().map { i, c in c.padding(toLength: widths[min(i, widths.count - 1)], withPad: " ", startingAt: 0) }
                .joined(separator: "  ").trimmingCharacters(in: .whitespaces)
        }
        return ([line(header)] + rows.map(line) + ["(\(rows.count) row\(rows.count == 1 ? "" : "s"))"]).joined(separator: "\n")
    }
}
