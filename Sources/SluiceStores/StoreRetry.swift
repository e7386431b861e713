import Foundation
import Logging
import SluiceRuntime

/// How a store retries a database that is down: `attempts` tries in all, waiting `firstDelay`,
/// then twice as long each time up to `maxDelay`. The waiting is `sleep`'s, so that tests run
/// the same schedule without the wall clock.
public struct StoreRetry: Sendable {
    public var attempts: Int
    public var firstDelay: Duration
    public var maxDelay: Duration
    public var sleep: @Sendable (Duration) -> Void

    public init(attempts: Int = 6, firstDelay: Duration = .milliseconds(100), maxDelay: Duration = .seconds(5),
                sleep: @escaping @Sendable (Duration) -> Void = StoreRetry.threadSleep) {
        self.attempts = max(1, attempts)
        self.firstDelay = firstDelay
        self.maxDelay = maxDelay
        self.sleep = sleep
    }

    public static let threadSleep: @Sendable (Duration) -> Void = { duration in
        let (seconds, attoseconds) = duration.components
        Thread.sleep(forTimeInterval: Double(seconds) + Double(attoseconds) / 1e18)
    }

    /// The waits between the attempts.
    var delays: [Duration] {
        var delays: [Duration] = [], next = firstDelay
        for _ in 1..<attempts {
            delays.append(min(next, maxDelay))
            next = next * 2
        }
        return delays
    }

    /// Runs `body` until it succeeds, fails in a way another try cannot mend (`classify` says
    /// not transient), or has failed `attempts` times; every failure is logged. `reset` runs after a transient
    /// failure, before the wait (a store drops a broken connection there).
    func run<T>(_ what: String, table: String, logger: Logger, classify: (any Error) -> StoreFailureKind, reset: () -> Void = {},
                _ body: () throws -> T) throws(TableStoreError) -> T {
        let delays = self.delays
        var attempt = 0
        while true {
            do {
                return try body()
            } catch {
                let kind = classify(error)
                let transient = kind.isTransient
                attempt += 1
                guard transient, attempt < attempts else {
                    logger.error("store: \(what) failed", metadata: ["table": "\(table)", "attempts": "\(attempt)", "error": "\(kind.message)"])
                    throw TableStoreError(transient ? "\(what) failed after \(attempt) attempts: \(kind.message)" : "\(what) failed: \(kind.message)",
                                          isTransient: transient)
                }
                reset()
                logger.warning("store: \(what) failed; retrying", metadata: ["table": "\(table)", "attempt": "\(attempt)",
                                                                           "in": "\(delays[attempt - 1])", "error": "\(kind.message)"])
                sleep(delays[attempt - 1])
            }
        }
    }
}

/// What a database error means for a retry, and how to tell it to a user.
struct StoreFailureKind {
    /// Another try may succeed (the server is down, busy or restarting); false for errors in
    /// what was asked (a constraint, a missing column), which fail the same way every time.
    var isTransient: Bool
    var message: String
}
