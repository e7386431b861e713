import Foundation
import SluiceCore
import SluiceQL
import SluiceRuntime

/// Where a `@store(type='rdbms', …)` table lives, read from Siddhi's option names.
struct StoreOptions: Equatable {
    enum Location: Equatable {
        /// A SQLite file (an absolute path).
        case sqlite(path: String)
        case postgres(PostgresAddress)
    }

    var location: Location
    /// The database table: `table.name`, else the Siddhi table's name.
    var tableName: String
    /// `field.length='name:100, …'`: string attributes stored as VARCHAR(n).
    var fieldLengths: [String: Int]

    /// Siddhi keys that only tune a JDBC driver or pool: accepted, with nothing to do here.
    static let ignoredKeys: Set<String> = ["jdbc.driver.name", "pool.properties", "table.check.query", "use.collation", "allow.null.values"]
    static let knownKeys: Set<String> = ["type", "jdbc.url", "username", "password", "table.name", "field.length"]

    /// - Parameter dataDirectory: where SQLite files go when `jdbc.url` is absent or relative.
    init(_ request: TableStoreRequest, dataDirectory: String) throws(Diagnostic) {
        let store = request.store
        func element(_ key: String) -> AnnotationElement? { store.elements.first { $0.key?.lowercased() == key } }
        guard let type = element("type") else {
            throw Diagnostic("@store needs type='rdbms'", at: store.range)
        }
        guard type.value.lowercased() == "rdbms" else {
            throw Diagnostic("unknown store type '\(type.value)': Sluice stores tables with type='rdbms' (SQLite or PostgreSQL)",
                             at: type.range)
        }
        for e in store.elements {
            guard let key = e.key?.lowercased() else {
                throw Diagnostic("@store options are written key='value'", at: e.range)
            }
            if key == "jndi.resource" || key == "datasource" {
                throw Diagnostic("@store option '\(key)' names a Java data source, which Sluice has none of: give jdbc.url instead", at: e.range)
            }
            guard Self.knownKeys.contains(key) || Self.ignoredKeys.contains(key) else {
                throw Diagnostic("unknown @store option '\(e.key ?? "")'; Sluice reads " + Self.knownKeys.sorted().joined(separator: ", "),
                                 at: e.range)
            }
        }
        tableName = element("table.name")?.value ?? request.schema.name
        if tableName.isEmpty { throw Diagnostic("'table.name' is empty", at: element("table.name")?.range ?? store.range) }
        fieldLengths = try Self.fieldLengths(element("field.length"), schema: request.schema)
        for attribute in request.definition.attributes where attribute.type == .object {
            throw Diagnostic("attribute '\(attribute.name)' is an object: a stored table holds string, int, long, float, double and bool only",
                             at: attribute.range)
        }
        let username = element("username")?.value, password = element("password")?.value
        guard let url = element("jdbc.url") else {
            location = .sqlite(path: Self.defaultFile(dataDirectory: dataDirectory, app: request.appName))
            return
        }
        location = try Self.location(url, username: username, password: password, dataDirectory: dataDirectory)
    }

    /// The SQLite file of an app's stored tables when no `jdbc.url` names one.
    static func defaultFile(dataDirectory: String, app: String) -> String {
        let safe = String(app.map { $0.isLetter || $0.isNumber || $0 == "-" || $0 == "_" ? $0 : "_" })
        return (dataDirectory as NSString).appendingPathComponent("tables/\(safe).sqlite")
    }

    private static func location(_ url: AnnotationElement, username: String?, password: String?,
                                 dataDirectory: String) throws(Diagnostic) -> Location {
        let text = url.value
        if text.lowercased().hasPrefix("jdbc:sqlite:") {
            let path = String(text.dropFirst("jdbc:sqlite:".count))
            guard !path.isEmpty, path != ":memory:" else {
                throw Diagnostic("jdbc:sqlite: needs a file path (a table in memory needs no @store)", at: url.range)
            }
            let absolute = path.hasPrefix("/") ? path : (dataDirectory as NSString).appendingPathComponent(path)
            return .sqlite(path: absolute)
        }
        if text.lowercased().hasPrefix("jdbc:postgresql:") {
            return .postgres(try PostgresAddress(jdbcURL: text, username: username, password: password, at: url.range))
        }
        let scheme = text.split(separator: ":").dropFirst().first.map(String.init) ?? text
        throw Diagnostic("unsupported jdbc.url scheme '\(scheme)': Sluice stores tables in SQLite (jdbc:sqlite:FILE) "
                         + "or PostgreSQL (jdbc:postgresql://HOST:PORT/DATABASE)", at: url.range)
    }

    private static func fieldLengths(_ element: AnnotationElement?, schema: StreamSchema) throws(Diagnostic) -> [String: Int] {
        guard let element else { return [:] }
        var lengths: [String: Int] = [:]
        for part in element.value.split(separator: ",") {
            let pair = part.split(separator: ":").map { $0.trimmingCharacters(in: .whitespaces) }
            guard pair.count == 2, let length = Int(pair[1]), length > 0 else {
                throw Diagnostic("field.length is written 'attribute:length, …', found '\(part.trimmingCharacters(in: .whitespaces))'",
                                 at: element.range)
            }
            guard let attribute = schema.attributes.first(where: { $0.name == pair[0] }) else {
                throw Diagnostic("field.length names '\(pair[0])', which table '\(schema.name)' does not have", at: element.range)
            }
            guard attribute.type == .string else {
                throw Diagnostic("field.length applies to string attributes; '\(pair[0])' is \(attribute.type)", at: element.range)
            }
            lengths[pair[0]] = length
        }
        return lengths
    }
}

/// A PostgreSQL server and database, from `jdbc:postgresql://host[:port]/database[?user=…&password=…]`.
struct PostgresAddress: Equatable {
    var host: String
    var port: Int
    var database: String
    var username: String
    var password: String?

    init(host: String, port: Int, database: String, username: String, password: String?) {
        self.host = host
        self.port = port
        self.database = database
        self.username = username
        self.password = password
    }

    /// `username`/`password` options win over the URL's `user`/`password` parameters, as in JDBC.
    init(jdbcURL: String, username: String?, password: String?, at range: SourceRange) throws(Diagnostic) {
        guard let components = URLComponents(string: String(jdbcURL.dropFirst("jdbc:".count))), let host = components.host, !host.isEmpty
        else {
            throw Diagnostic("jdbc.url must read jdbc:postgresql://HOST[:PORT]/DATABASE, found '\(jdbcURL)'", at: range)
        }
        let database = String(components.path.drop { $0 == "/" })
        guard !database.isEmpty else { throw Diagnostic("jdbc.url names no database: jdbc:postgresql://HOST[:PORT]/DATABASE", at: range) }
        let parameters = Dictionary((components.queryItems ?? []).map { ($0.name.lowercased(), $0.value ?? "") }, uniquingKeysWith: { $1 })
        for (name, value) in parameters where (name == "ssl" && value != "false") || (name == "sslmode" && value != "disable") {
            throw Diagnostic("jdbc.url asks for TLS ('\(name)=\(value)'), which Sluice's PostgreSQL store does not speak yet: "
                             + "reach the server over a trusted network or a local tunnel", at: range)
        }
        guard let user = username ?? parameters["user"] ?? components.user else {
            throw Diagnostic("a PostgreSQL store needs username='…' (or user=… in jdbc.url)", at: range)
        }
        self.init(host: host, port: components.port ?? 5432, database: database, username: user,
                  password: password ?? parameters["password"] ?? components.password)
    }
}
