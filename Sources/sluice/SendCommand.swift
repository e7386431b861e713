import ArgumentParser
import Foundation
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
    @Option(help: "Generate events instead of reading them: 'request' (seed-style Request events, fixed seed).")
    var generate: String?
    @Option(help: "The stream's attributes for --events: 'name type, name type, …'.") var schema: String?
    @Option(help: "Events to send (default: all of --events; 100000 with --generate).") var count: Int?
    @Option(help: "Events per second (default: as fast as credit allows).") var rate: Double?
    @Option(help: "Events per batch.") var batch: Int = 1024
    @Option(help: "Batches in flight across all nodes.") var inFlight: Int = 64
    @Option(help: "Auth token the nodes expect.") var token: String?
    @Option(help: "Producer id (default: random).") var producerID: UInt64?
    @Option(help: "Seed for --generate.") var seed: UInt64 = RequestGenerator.defaultSeed

    func validate() throws {
        guard (events == nil) != (generate == nil) else { throw ValidationError("give exactly one of --events and --generate") }
        if let generate, generate != "request" { throw ValidationError("--generate knows only 'request'") }
        guard batch > 0 else { throw ValidationError("--batch must be positive") }
        guard inFlight > 0 else { throw ValidationError("--in-flight must be positive") }
        if let count, count < 0 { throw ValidationError("--count must not be negative") }
        if let rate, !(rate > 0) { throw ValidationError("--rate must be positive") }
        if producerID == 0 { throw ValidationError("--producer-id 0 is reserved") }
    }

    func run() async throws {
        let endpoints: [Endpoint]
        do throws(ClientError) { endpoints = try Endpoint.list(to) } catch { fail(error.message) }
        let source: EventSource
        do {
            source = try events.map { try EventSource.file($0, stream: stream, schema: schema, limit: count, batch: batch) }
                ?? .request(RequestGenerator(seed: seed), schema: RequestGenerator.schema(stream: stream), total: count ?? 100_000)
        } catch let error as ClientError {
            fail(error.message)
        }
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
        do {
            while let next = batches.next() {
                if let rate {
                    // Pace whole batches: batch k leaves no earlier than (events before it) / rate.
                    let due = start + .seconds(Double(sent) / rate)
                    if due > clock.now { try await Task.sleep(until: due, clock: clock) }
                }
                try await producer.enqueue(stream: stream, batch: next)
                sent += next.count
            }
            try await producer.flush()
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

/// Where `sluice send` gets its events.
enum EventSource {
    case file([EventBatch], schema: EventSchema)
    case request(RequestGenerator, schema: EventSchema, total: Int)

    var schema: EventSchema {
        switch self {
        case .file(_, let schema), .request(_, let schema, _): schema
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
                made += n
                let b = generator.batch(n)
                source = .request(generator, schema: schema, total: total)
                return b
            }
        }
    }
}
