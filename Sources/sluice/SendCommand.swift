import ArgumentParser
import Foundation
import NIOCore
import SluiceClient
import SluiceCore

/// `sluice send`: the load producer. Sends events over the binary protocol and prints one JSON
/// line, `{"sent":N,"acked":N,"seconds":S,"eventsPerSecond":X}`, timed from the first Welcome to
/// the last acknowledgement.
struct Send: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Send events to nodes over the binary protocol; print {\"sent\",\"acked\",\"seconds\",\"eventsPerSecond\"}.",
        discussion: """
            With --events, lines of other streams and tick lines are skipped. The producer must declare \
            the stream's schema, and nodes compare attribute names and types: give it with --schema. \
            Without --schema it is inferred from the first event (attributes a1…aN; integers long, \
            decimals double, true/false bool), which only suits nodes defined the same way.
            """
    )

    @Option(help: "Nodes, HOST:PORT[,HOST:PORT…]; batches go round-robin over them.") var to: String
    @Option(help: "The stream to send to.") var stream: String
    @Option(help: "Events as JSON lines: {\"stream\":\"S\",\"timestamp\":…,\"data\":[…]}.") var events: String?
    @Option(help: "Generate events instead of reading them: 'request' (seed-style Request events, fixed seed) or 'response-times' (the peers' job: tenant string, ts long, responseTime long; perf/peers/README.md).")
    var generate: String?
    @Option(help: "The stream's attributes for --events: 'name type, name type, …'.") var schema: String?
    @Option(help: "Events to send (default: all of --events; 100000 with --generate).") var count: Int?
    @Option(help: "Events per second (default: as fast as credit allows).") var rate: Double?
    @Option(help: "Events per batch.") var batch: Int = 1024
    @Option(help: "Batches in flight across all nodes.") var inFlight: Int = 64
    @Option(help: "Auth token the nodes expect.") var token: String?
    @Option(help: "Producer id (default: random).") var producerID: UInt64?
    @Option(help: "Seed for --generate.") var seed: UInt64 = RequestGenerator.defaultSeed
    @Flag(help: "With --generate: add a last attribute 'requestId long' numbering the events 1, 2, … (for exactly-once checks).")
    var ids = false
    @Option(help: "With --ids: write each batch's outcome to this file, one line 'FIRST LAST ok|failed' per batch.")
    var ackLog: String?

    func validate() throws {
        guard (events == nil) != (generate == nil) else { throw ValidationError("give exactly one of --events and --generate") }
        if let generate, GeneratedKind(rawValue: generate) == nil { throw ValidationError(GeneratedKind.unknown) }
        guard batch > 0 else { throw ValidationError("--batch must be positive") }
        guard inFlight > 0 else { throw ValidationError("--in-flight must be positive") }
        if let count, count < 0 { throw ValidationError("--count must not be negative") }
        if let rate, !(rate > 0) { throw ValidationError("--rate must be positive") }
        if producerID == 0 { throw ValidationError("--producer-id 0 is reserved") }
        if ids, generate != GeneratedKind.request.rawValue { throw ValidationError("--ids numbers generated Request events: it needs --generate request") }
        if ackLog != nil, !ids { throw ValidationError("--ack-log names batches by their requestIds: it needs --ids") }
    }

    func run() async throws {
        let endpoints: [Endpoint]
        do throws(ClientError) { endpoints = try Endpoint.list(to) } catch { fail(error.message) }
        let source: EventSource
        do throws(ClientError) { source = try makeSource() } catch { fail(error.message) }
        let producer: Producer
        do throws(ClientError) {
            producer = try Producer(endpoints: endpoints, streams: [source.schema], producerID: producerID ?? .random(in: 1...UInt64.max),
                                    authToken: token, clientName: "sluice-send", batchSize: batch, maxInFlight: inFlight)
        } catch {
            fail(error.message)
        }
        do {
            try await producer.connect()
        } catch {
            await producer.close()
            fail("\(error)")
        }

        let clock = ContinuousClock()
        let start = clock.now
        var sent = 0
        var failure: (any Error)?
        var batches = source.batches(size: batch)
        var outcomes = ackLog.map { AckLog(path: $0) }
        do {
            while let next = batches.next() {
                if let rate {
                    // Pace whole batches: batch k leaves no earlier than (events before it) / rate.
                    let due = start + .seconds(Double(sent) / rate)
                    if due > clock.now { try await Task.sleep(until: due, clock: clock) }
                }
                if outcomes != nil {
                    // Each batch's own acknowledgement, at most --in-flight outstanding.
                    outcomes!.track(producer.submit(stream: stream, batch: next), first: sent + 1, last: sent + next.count)
                    if outcomes!.outstanding >= inFlight { await outcomes!.settleOldest() }
                } else {
                    try await producer.enqueue(stream: stream, batch: next)
                }
                sent += next.count
            }
            if outcomes != nil {
                while outcomes!.outstanding > 0 { await outcomes!.settleOldest() }
                outcomes!.close()
            } else {
                try await producer.flush()
            }
        } catch {
            failure = error
        }
        let seconds = (clock.now - start) / .seconds(1)
        let acked = await producer.statistics.ackedEvents
        await producer.close()
        let eps = seconds > 0 ? Double(acked) / seconds : 0
        print("{\"sent\":\(sent),\"acked\":\(acked),\"seconds\":\(String(format: "%.3f", seconds)),\"eventsPerSecond\":\(Int(eps.rounded()))}")
        if let failure { fail("\(failure)") }
    }
}

extension Send {
    func makeSource() throws(ClientError) -> EventSource {
        if let events { return try EventSource.file(events, stream: stream, schema: schema, limit: count, batch: batch) }
        let total = count ?? 100_000
        if generate == GeneratedKind.responseTimes.rawValue {
            return .responseTimes(ResponseTimeGenerator(), schema: ResponseTimeGenerator.schema(stream: stream), total: total)
        }
        return .request(RequestGenerator(seed: seed), schema: RequestGenerator.schema(stream: stream, ids: ids), total: total)
    }
}

/// `--ack-log`: the outcome of every batch, for a checker that counts lost and duplicated events.
struct AckLog {
    private let handle: FileHandle
    private var window: [(first: Int, last: Int, acknowledged: EventLoopFuture<Void>)] = []
    private var head = 0
    private var text = ""

    init(path: String) {
        guard FileManager.default.createFile(atPath: path, contents: nil), let handle = FileHandle(forWritingAtPath: path) else {
            fail("cannot write --ack-log \(path)")
        }
        self.handle = handle
    }

    var outstanding: Int { window.count - head }

    mutating func track(_ acknowledged: EventLoopFuture<Void>, first: Int, last: Int) {
        window.append((first, last, acknowledged))
    }

    mutating func settleOldest() async {
        let (first, last, acknowledged) = window[head]
        head += 1
        let ok = (try? await acknowledged.get()) != nil
        text += "\(first) \(last) \(ok ? "ok" : "failed")\n"
        if text.utf8.count > 1 << 16 { flushText() }
        if head > 4096 {
            window.removeFirst(head)
            head = 0
        }
    }

    mutating func close() {
        flushText()
        try? handle.close()
    }

    private mutating func flushText() {
        handle.write(Data(text.utf8))
        text = ""
    }
}

/// What `sluice send --generate` and `sluice generate` make.
enum GeneratedKind: String {
    case request
    case responseTimes = "response-times"

    static let unknown = "the generators are 'request' and 'response-times'"
}

/// Where `sluice send` gets its events.
enum EventSource {
    case file([EventBatch], schema: EventSchema)
    case request(RequestGenerator, schema: EventSchema, total: Int)
    case responseTimes(ResponseTimeGenerator, schema: EventSchema, total: Int)

    var schema: EventSchema {
        switch self {
        case .file(_, let schema), .request(_, let schema, _), .responseTimes(_, let schema, _): schema
        }
    }

    /// Reads the stream's events (at most `limit`) into batches up front, so that parsing is
    /// not timed.
    static func file(_ path: String, stream: String, schema text: String?, limit: Int?, batch size: Int) throws(ClientError) -> EventSource {
        guard let data = FileManager.default.contents(atPath: path) else { throw ClientError(.invalidEvent, "cannot read '\(path)'") }
        var schema: EventSchema?
        if let text { schema = try EventSchema(name: stream, parsing: text) }
        var batches: [EventBatch] = []
        var current: EventBatch?
        var total = 0
        var number = 0
        for line in String(decoding: data, as: UTF8.self).split(separator: "\n", omittingEmptySubsequences: false) {
            number += 1
            if let limit, total >= limit { break }
            guard !line.allSatisfy(\.isWhitespace) else { continue }
            do throws(ClientError) {
                guard let event = try EventJSON.parseEvent(String(line)), event.stream == stream else { continue }
                if schema == nil { schema = try infer(stream, from: event.data) }
                let values = try EventJSON.values(event.data, schema: schema!)
                if current == nil { current = schema!.makeBatch(capacity: size) }
                current!.append(timestamp: event.timestamp, values: values)
                total += 1
                if current!.count == size {
                    batches.append(current!)
                    current = nil
                }
            } catch {
                throw ClientError(.invalidEvent, "\(path):\(number): \(error.message)")
            }
        }
        if let current { batches.append(current) }
        guard let schema else { throw ClientError(.invalidEvent, "'\(path)' has no events of stream '\(stream)'") }
        return .file(batches, schema: schema)
    }

    private static func infer(_ stream: String, from data: [EventJSON.JSON]) throws(ClientError) -> EventSchema {
        var attributes: [EventSchema.Attribute] = []
        for (i, v) in data.enumerated() {
            guard let t = v.suggestedType else {
                throw ClientError(.invalidEvent, "cannot infer the type of attribute \(i + 1) from \(v); give --schema")
            }
            attributes.append(EventSchema.Attribute("a\(i + 1)", t))
        }
        return EventSchema(name: stream, attributes: attributes)
    }

    func batches(size: Int) -> Batches { Batches(source: self, size: size) }

    struct Batches {
        var source: EventSource
        let size: Int
        var index = 0
        var made = 0

        mutating func next() -> EventBatch? {
            switch source {
            case .file(let batches, _):
                guard index < batches.count else { return nil }
                index += 1
                return batches[index - 1]
            case .request(var generator, let schema, let total):
                guard made < total else { return nil }
                let n = min(size, total - made)
                var b = generator.batch(n)
                if schema.attributes.count > RequestGenerator.attributes.count {
                    var ids = Column(type: .long)
                    for id in made + 1...made + n { ids.appendLong(Int64(id)) }
                    b.columns.append(ids)
                }
                made += n
                source = .request(generator, schema: schema, total: total)
                return b
            case .responseTimes(var generator, let schema, let total):
                guard made < total else { return nil }
                let b = generator.batch(min(size, total - made))
                made += b.count
                source = .responseTimes(generator, schema: schema, total: total)
                return b
            }
        }
    }
}
