import Foundation
import SluiceCore
import SluiceServer
import Testing

/// A node keeps its `@store` tables in its data directory: restarted, it finds what it wrote.
@Suite struct StoredTableNodeTests {
    static let app = """
    @app:name('Ledger')
    define stream Entry (account string, amount double);
    @store(type='rdbms')
    @PrimaryKey('account')
    define table Balance (account string, amount double);
    from Entry insert into Balance;
    """

    @Test func aRestartedNodeFindsTheRowsItWrote() async throws {
        let directory = NSTemporaryDirectory() + "sluice-node-" + UUID().uuidString
        var configuration = NodeConfiguration(port: 0, appSource: Self.app)
        configuration.dataDirectory = directory
        let node = try Node(configuration: configuration)
        try await node.start()
        _ = try await node.query("select 'a1' as account, 10.0 as amount insert into Balance").get()
        _ = try await node.query("select 'a2' as account, 20.0 as amount insert into Balance").get()
        #expect(node.status().storeWriteFailures == 0)
        try await node.shutdown()
        #expect(FileManager.default.fileExists(atPath: directory + "/tables/Ledger.sqlite"))

        let restarted = try Node(configuration: configuration)
        try await restarted.start()
        let found = try await restarted.query("from Balance select account, amount").get()
        #expect((0..<found.rows.count).map { found.rows.values(at: $0) } == [[.string("a1"), .double(10)], [.string("a2"), .double(20)]])
        try await restarted.shutdown()
    }
}
