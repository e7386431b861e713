import SluiceCore
import SluiceQL
import SluiceRuntime
import Testing
@testable import SluiceStores

/// Siddhi's `@store(type='rdbms', …)` keys, and the `line:column` diagnostics for wrong ones.
@Suite struct StoreOptionsTests {
    func refusal(_ store: String, attributes: String = "symbol string, price double", ha: Bool = false) -> String? {
        let stores = RDBMSStores(dataDirectory: temporaryDirectory(), retry: RecordedWaits().retry(attempts: 1), allowsSharedDatabases: !ha)
        return deployError("define stream S (symbol string);\n\(store)\ndefine table T (\(attributes));", stores: stores)
    }

    @Test func wrongOptionsPointAtTheirText() {
        #expect(refusal("@store(type='mongodb')") == "2:8: unknown store type 'mongodb': Sluice stores tables with type='rdbms' (SQLite or PostgreSQL)")
        #expect(refusal("@store(jdbc.url='jdbc:sqlite:x.db')") == "2:1: @store needs type='rdbms'")
        #expect(refusal("@store(type='rdbms', jdbc.url='jdbc:mysql://localhost:3306/db')")
            == "2:22: unsupported jdbc.url scheme 'mysql': Sluice stores tables in SQLite (jdbc:sqlite:FILE) or PostgreSQL "
            + "(jdbc:postgresql://HOST:PORT/DATABASE)")
        #expect(refusal("@store(type='rdbms', jdbc.urll='jdbc:sqlite:x.db')")
            == "2:22: unknown @store option 'jdbc.urll'; Sluice reads field.length, jdbc.url, password, table.name, type, username")
        #expect(refusal("@store(type='rdbms', datasource='WSO2_DB')")
            == "2:22: @store option 'datasource' names a Java data source, which Sluice has none of: give jdbc.url instead")
        #expect(refusal("@store(type='rdbms', field.length='price:10')")
            == "2:22: field.length applies to string attributes; 'price' is double")
        #expect(refusal("@store(type='rdbms', field.length='name:10')") == "2:22: field.length names 'name', which table 'T' does not have")
        #expect(refusal("@store(type='rdbms', field.length='symbol')") == "2:22: field.length is written 'attribute:length, …', found 'symbol'")
        #expect(refusal("@store(type='rdbms')", attributes: "symbol string, payload object")
            == "3:32: attribute 'payload' is an object: a stored table holds string, int, long, float, double and bool only")
        #expect(refusal("@store(type='rdbms', jdbc.url='jdbc:postgresql://127.0.0.1:5432/')")
            == "2:22: jdbc.url names no database: jdbc:postgresql://HOST[:PORT]/DATABASE")
        #expect(refusal("@store(type='rdbms', jdbc.url='jdbc:postgresql://127.0.0.1/db')")
            == "2:22: a PostgreSQL store needs username='…' (or user=… in jdbc.url)")
        #expect(refusal("@store(type='rdbms', jdbc.url='jdbc:postgresql://127.0.0.1/db?sslmode=require', username='u')")?
            .hasPrefix("2:22: jdbc.url asks for TLS ('sslmode=require')") == true)
        #expect(refusal("@store(type='rdbms', jdbc.url='jdbc:postgresql://127.0.0.1/db', username='u')", ha: true)?
            .hasPrefix("2:1: table 'T': both nodes of an HA group apply every event") == true)
    }

    @Test func siddhiKeysNameTheDatabase() throws {
        let directory = temporaryDirectory()
        func location(_ store: String) throws -> StoreOptions {
            guard case .table(let table)? = try SiddhiParser.parse("\(store)\ndefine table T (a int);").definitions.first,
                  let annotation = table.annotations.first else { throw RuntimeError("no table") }
            let schema = StreamSchema(name: "T", attributes: [.init(name: "a", type: .int)])
            return try StoreOptions(TableStoreRequest(definition: table, store: annotation, schema: schema, primaryKey: [], indexes: [],
                                                      appName: "My App"), dataDirectory: directory)
        }
        #expect(try location("@store(type='rdbms')").location == .sqlite(path: directory + "/tables/My_App.sqlite"))
        #expect(try location("@store(type='rdbms', jdbc.url='jdbc:sqlite:/var/lib/x.db')").location == .sqlite(path: "/var/lib/x.db"))
        #expect(try location("@store(type='RDBMS', jdbc.url='jdbc:sqlite:sub/x.db', jdbc.driver.name='org.sqlite.JDBC')").location
            == .sqlite(path: directory + "/sub/x.db"))
        let postgres = try location("@store(type='rdbms', jdbc.url='jdbc:postgresql://db.local:6543/prod?user=u&password=p', "
                                    + "password='q', table.name='stock_table', pool.properties='maximumPoolSize:5')")
        #expect(postgres.location == .postgres(PostgresAddress(host: "db.local", port: 6543, database: "prod", username: "u", password: "q")))
        #expect(postgres.tableName == "stock_table")
    }
}
