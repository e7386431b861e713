import Foundation
import Testing
import NIOConcurrencyHelpers
import SluiceCore
import SluiceRuntime
@testable import SluiceStores

/// A fresh folder per test, standing in for a node's data directory.
func temporaryDirectory() -> String {
    let path = NSTemporaryDirectory() + "sluice-store-" + UUID().uuidString
    try! FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true)
    return path
}

/// Retries that wait for nothing: the delays asked for are recorded, and `onWait` (given the
/// attempt number, from 1) may mend the database before the next try.
final class RecordedWaits: Sendable {
    let delays = NIOLockedValueBox<[Duration]>([])
    let onWait: @Sendable (Int) -> Void

    init(onWait: @escaping @Sendable (Int) -> Void = { _ in }) { self.onWait = onWait }

    func retry(attempts: Int) -> StoreRetry {
        StoreRetry(attempts: attempts, firstDelay: .milliseconds(100), maxDelay: .seconds(1)) { [self] delay in
            let count = delays.withLockedValue { $0.append(delay); return $0.count }
            onWait(count)
        }
    }

    var recorded: [Duration] { delays.withLockedValue { $0 } }
}

extension AppRuntime {
    /// The rows an on-demand find returns.
    func rows(_ query: String) throws -> [[Value]] {
        let result = try self.query(query)
        return (0..<result.rows.count).map { result.rows.values(at: $0) }
    }

    /// Sends one event.
    func send(_ stream: String, at timestamp: Int64, _ values: [Value]) throws {
        try inputHandler(for: stream).send(timestamp: timestamp, values: values)
    }

    /// Every event published on `stream` from now on, as its values.
    func collect(_ stream: String) throws -> NIOLockedValueBox<[[Value]]> {
        let box = NIOLockedValueBox<[[Value]]>([])
        try addCallback(stream: stream) { batch in
            box.withLockedValue { rows in for i in 0..<batch.count { rows.append(batch.values(at: i)) } }
        }
        return box
    }
}

/// The diagnostic an app is refused with, as `line:column: message`.
func deployError(_ app: String, stores: RDBMSStores) -> String? {
    do {
        _ = try AppRuntime(source: app, stores: stores.provider)
        return nil
    } catch {
        return error.description
    }
}

/// `make test` starts a PostgreSQL server and exports its JDBC URL here (tools/test_postgres.sh).
enum TestPostgres {
    static let url = ProcessInfo.processInfo.environment["SLUICE_TEST_POSTGRES_URL"]
    /// The script that can pause and resume that server.
    static let control = ProcessInfo.processInfo.environment["SLUICE_TEST_POSTGRES_CTL"]
    static let skipReason: Comment = "SLUICE_TEST_POSTGRES_URL is unset: `make test` starts PostgreSQL and sets it"

    /// Runs the control script (`pause` or `resume`) and waits for it. posix_spawn and waitpid:
    /// Foundation's `Process.waitUntilExit` can miss the exit of a child that started a daemon.
    static func server(_ verb: String) {
        guard let control else { return }
        let arguments: [UnsafeMutablePointer<CChar>?] = [strdup(control), strdup(verb), nil]
        defer { arguments.forEach { free($0) } }
        var pid: pid_t = 0
        guard posix_spawn(&pid, control, nil, nil, arguments, environ) == 0 else { return }
        var status: Int32 = 0
        while waitpid(pid, &status, 0) == -1 && errno == EINTR {}
    }
}
