import Foundation
import SluiceClient
import SluiceCore
import SluiceServer
import Testing

/// The seed's JSON/HTTP edge: `@source(type='http', receiver.url=…, @map(type='json'))`.
@Suite(.serialized) struct HTTPSourceTests {
    /// POSTs `body` with curl; returns (status, body), retrying while the server is not up yet.
    func post(_ url: String, _ body: String) throws -> (Int, String) {
        for _ in 0..<50 {
            let p = Process()
            p.executableURL = URL(fileURLWithPath: "/usr/bin/env")
            p.arguments = ["curl", "-s", "-o", "-", "-w", "\n%{http_code}", "-H", "Content-Type: application/json", "--data-binary", body, url]
            let out = Pipe()
            p.standardOutput = out
            try p.run()
            p.waitUntilExit()
            let text = String(decoding: out.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
            let lines = text.split(separator: "\n", omittingEmptySubsequences: false)
            if let code = Int(lines.last ?? ""), code != 0 {
                return (code, lines.dropLast().joined(separator: "\n"))
            }
            Thread.sleep(forTimeInterval: 0.1)
        }
        return (0, "")
    }

    @Test func jsonEventsOverHTTPReachTheEngine() async throws {
        let httpPort = try await freePort()
        let node = try Node(configuration: NodeConfiguration(port: 0, appSource: """
        @source(type='http', receiver.url='http://127.0.0.1:\(httpPort)/Request', @map(type='json'))
        define stream Request (tenant string, responseTime long);
        from Request select tenant, count() as n group by tenant insert into Counts;
        """))
        let port = try await node.start()
        let subscriber = Subscriber(endpoint: Endpoint(host: "127.0.0.1", port: port), stream: "Counts")
        _ = try await subscriber.connect()
        let received = collectRows(subscriber, count: 2)
        let url = "http://127.0.0.1:\(httpPort)/Request"
        let (status, body) = try post(url, #"[{"event":{"tenant":"a","responseTime":5}},{"event":{"tenant":"b","responseTime":7}},{"event":{"tenant":"a","responseTime":1}}]"#)
        #expect(status == 200)
        #expect(body == #"{"accepted":3}"#)
        #expect(try await received.value == [[.string("a"), .long(2)], [.string("b"), .long(1)]])

        let (badStatus, badBody) = try post(url, #"{"event":{"tenant":"a","responseTime":"slow"}}"#)
        #expect(badStatus == 400)
        #expect(badBody.contains("responseTime"))
        #expect(try post(url, "not json").0 == 400)
        await subscriber.close()
        try await node.shutdown()
    }
}
