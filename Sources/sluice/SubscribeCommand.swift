import ArgumentParser
import Foundation
import SluiceClient
import SluiceCore

/// `sluice subscribe`: prints a node's output stream as `sluice run` prints events, one JSON line
/// each, or with --quiet only a final `{"received":N}`.
struct Subscribe: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Print the events of a node's stream as JSON lines (or, with --quiet, {\"received\":N}).",
        discussion: "Stops after --count events or --timeout seconds; exits non-zero when --count was not reached."
    )

    @Option(help: "The node, HOST:PORT; or an HA group's members, HOST:PORT,HOST:PORT, to follow its leader across failovers.")
    var to: String
    @Option(help: "The stream to follow.") var stream: String
    @Option(help: "Stop after this many events.") var count: Int?
    @Option(help: "Stop after this many seconds.") var timeout: Double?
    @Flag(help: "Print only the final count.") var quiet = false
    @Flag(help: "With --quiet: also print each attribute's sum (null for non-numeric ones), to check totals without printing every event.")
    var sums = false
    @Flag(help: "Also print rows leaving windows (expired).") var includeExpired = false
    @Option(help: "Batches the node may send ahead.") var credit: Int = 64
    @Option(help: "Auth token the node expects.") var token: String?

    func validate() throws {
        if let count, count < 0 { throw ValidationError("--count must not be negative") }
        if let timeout, !(timeout > 0) { throw ValidationError("--timeout must be positive") }
        guard credit > 0 else { throw ValidationError("--credit must be positive") }
        if sums, !quiet { throw ValidationError("--sums goes with --quiet") }
    }

    func run() async throws {
        let endpoints: [Endpoint]
        do throws(ClientError) { endpoints = try Endpoint.list(to) } catch { fail(error.message) }
        let source = BatchSource(endpoints: endpoints, stream: stream, includeExpired: includeExpired, credit: credit, token: token)
        let deadline = Deadline()
        let timer: Task<Void, Never>? = timeout.map { seconds in
            Task {
                try? await Task.sleep(for: .seconds(seconds))
                guard !Task.isCancelled else { return }
                deadline.passed = true
                await source.close()
            }
        }
        defer { timer?.cancel() }

        let out = FileHandle.standardOutput
        var received = 0
        var totals = ColumnTotals()
        var failure: (any Error)?
        if count != 0 {
            do {
                var text = ""
                outer: while let batch = try await source.next() {
                    if sums { totals.add(batch, rows: min(batch.count, count.map { $0 - received } ?? batch.count)) }
                    for row in 0..<batch.count {
                        if !quiet {
                            EventJSON.append(stream: stream, batch: batch, row: row, to: &text)
                            text += "\n"
                        }
                        received += 1
                        if let count, received >= count { break }
                    }
                    if !text.isEmpty {
                        out.write(Data(text.utf8))
                        text.removeAll(keepingCapacity: true)
                    }
                    if let count, received >= count { break outer }
                }
            } catch {
                failure = error
            }
        }
        await source.close()
        if quiet { print(sums ? "{\"received\":\(received),\"sums\":\(totals.json)}" : "{\"received\":\(received)}") }
        if let failure, !deadline.passed { fail("\(failure)") }
        if let count, received < count {
            fail("received \(received) of \(count) events\(deadline.passed ? " before the \(timeout!) s timeout" : "")")
        }
    }
}

/// `--sums`: each numeric attribute's total over the rows received (integers exactly, wrapping as Java's long does).
private struct ColumnTotals {
    private var longs: [Int64?] = []
    private var doubles: [Double?] = []

    mutating func add(_ batch: EventBatch, rows: Int) {
        if longs.isEmpty {
            longs = batch.columns.map { $0.type.isIntegral ? 0 : nil }
            doubles = batch.columns.map { $0.type == .double || $0.type == .float ? 0 : nil }
        }
        for (i, column) in batch.columns.enumerated() {
            for row in 0..<rows where !column.isNull(row) {
                if longs[i] != nil { longs[i]! &+= column.longs[row] }
                if doubles[i] != nil { doubles[i]! += column.doubles[row] }
            }
        }
    }

    var json: String {
        "[" + longs.indices.map { i in longs[i].map { "\($0)" } ?? doubles[i].map { "\($0)" } ?? "null" }.joined(separator: ",") + "]"
    }
}

/// One node's stream, or an HA group's followed across failovers.
private struct BatchSource: Sendable {
    let single: Subscriber?
    let following: FollowingSubscriber?

    init(endpoints: [Endpoint], stream: String, includeExpired: Bool, credit: Int, token: String?) {
        if endpoints.count == 1 {
            single = Subscriber(endpoint: endpoints[0], stream: stream, includeExpired: includeExpired, credit: credit,
                                authToken: token, clientName: "sluice-subscribe")
            following = nil
        } else {
            single = nil
            following = FollowingSubscriber(endpoints: endpoints, stream: stream, includeExpired: includeExpired, credit: credit,
                                            authToken: token, clientName: "sluice-subscribe")
        }
    }

    func next() async throws -> EventBatch? {
        if let single {
            var iterator = single.makeAsyncIterator()
            return try await iterator.next()
        }
        var iterator = following!.makeAsyncIterator()
        return try await iterator.next()
    }

    func close() async {
        await single?.close()
        await following?.close()
    }
}

/// Whether the timeout fired; the timer task sets it, the command reads it.
private final class Deadline: @unchecked Sendable {
    private let lock = NSLock()
    private var value = false

    var passed: Bool {
        get { lock.withLock { value } }
        set { lock.withLock { value = newValue } }
    }
}
