import SluiceCore
import Testing
@testable import SluiceClient

@Suite struct EventSchemaTests {
    @Test func parsesAttributeLists() throws {
        let s = try EventSchema(name: "Stock", parsing: "symbol string, price double , volume long")
        #expect(s == EventSchema("Stock", [("symbol", .string), ("price", .double), ("volume", .long)]))
        #expect(s.description == "Stock (symbol string, price double, volume long)")
        #expect(throws: ClientError.self) { try EventSchema(name: "S", parsing: "symbol strng") }
        #expect(throws: ClientError.self) { try EventSchema(name: "S", parsing: "x object") }
    }

    @Test func checksValuesWithWidening() throws {
        try stock.check([.string("IBM"), .double(1.5)])
        try stock.check([.null, .int(3)])
        let arity = #expect(throws: ClientError.self) { try stock.check([.string("IBM")]) }
        #expect(arity?.message == "stream 'Stock' has 2 attributes, the event has 1")
        let type = #expect(throws: ClientError.self) { try stock.check([.double(1), .double(1)]) }
        #expect(type?.code == .invalidEvent)
        #expect(type?.message.contains("attribute 'symbol' of 'Stock' is string") == true)
        // Narrowing is refused: a double does not fit a float column unchecked.
        #expect(!EventSchema.accepts(.double(1), as: .float))
        #expect(!EventSchema.accepts(.long(1), as: .int))
    }

    @Test func checksBatches() throws {
        var b = stock.makeBatch()
        b.append(timestamp: 1, values: [.string("A"), .double(2)])
        try stock.check(b)
        let other = EventSchema("Stock", [("symbol", .string), ("price", .float)])
        #expect(throws: ClientError.self) { try other.check(b) }
    }

    @Test func typedBuilderChecksSwiftTypes() throws {
        var builder = BatchBuilder(schema: EventSchema("Trade", [("symbol", .string), ("qty", .int), ("price", .double), ("ok", .bool), ("id", .long)]))
        try builder.append(timestamp: 1000, "IBM", Int32(5), 75.5, true, 99)
        try builder.append(timestamp: 1001, "IBM", Int32?.none, 76.0, false, Int64(100))
        // An Int32 widens to double; a String never fits a number.
        try builder.append(timestamp: 1002, "IBM", Int32(1), Int32(2), true, 1)
        let wrong = #expect(throws: ClientError.self) { try builder.append(timestamp: 1003, "IBM", "five", 1.0, true, 1) }
        #expect(wrong?.message == "attribute 'qty' of 'Trade' is int, got a Swift value of type string")
        #expect(throws: ClientError.self) { try builder.append(timestamp: 1003, "IBM", Int32(1)) }
        #expect(builder.count == 3)
        let batch = builder.take()
        #expect(builder.isEmpty)
        #expect(batch.values(at: 0) == [.string("IBM"), .int(5), .double(75.5), .bool(true), .long(99)])
        #expect(batch.values(at: 1)[1] == .null)
        #expect(batch.values(at: 2)[2] == .double(2))
    }

    @Test func differenceNamesWhatDiffers() {
        let wider = EventSchema("Stock", [("symbol", .string), ("price", .double), ("x", .int)])
        #expect(stock.difference(from: stock) == nil)
        #expect(stock.difference(from: wider)?.contains("2 attributes here and 3 there") == true)
    }

    @Test func endpoints() throws {
        #expect(try Endpoint(parsing: "127.0.0.1:7070") == Endpoint(host: "127.0.0.1", port: 7070))
        #expect(try Endpoint(parsing: "[::1]:80") == Endpoint(host: "::1", port: 80))
        #expect(try Endpoint.list("a:1, b:2") == [Endpoint(host: "a", port: 1), Endpoint(host: "b", port: 2)])
        #expect(throws: ClientError.self) { try Endpoint(parsing: "nohost") }
        #expect(throws: ClientError.self) { try Endpoint(parsing: "h:70000") }
    }
}

@Suite struct EventJSONTests {
    @Test func outputLinesMatchTheRunContract() {
        var b = EventBatch(types: [.string, .int, .float, .double, .bool, .long])
        b.append(timestamp: 1000, values: [.string("a\"b\n"), .int(3), .float(1.5), .double(.nan), .bool(true), .null], kind: .expired)
        #expect(EventJSON.line(stream: "Out", batch: b, row: 0)
            == #"{"stream":"Out","timestamp":1000,"data":["a\"b\n",3,1.5,null,true,null],"expired":true}"#)
        let event = SubscribedEvent(stream: "Out", timestamp: 5, values: [.long(1)], expired: false)
        #expect(EventJSON.line(event) == #"{"stream":"Out","timestamp":5,"data":[1],"expired":false}"#)
    }

    @Test func inputLinesParse() throws {
        let e = try #require(try EventJSON.parseEvent(#"{"stream": "Stock", "timestamp": 1000, "data": ["IB\u004d", 75.5]}"#))
        #expect(e.stream == "Stock")
        #expect(e.timestamp == 1000)
        #expect(try EventJSON.values(e.data, schema: stock) == [.string("IBM"), .double(75.5)])
        #expect(try EventJSON.parseEvent(#"{"tick": 5000}"#) == nil)
        #expect(throws: ClientError.self) { try EventJSON.parseEvent(#"{"stream":"S","timestamp":1.5,"data":[]}"#) }
        #expect(throws: ClientError.self) { try EventJSON.parse(#"{"a":1} x"#) }
        #expect(throws: ClientError.self) { try EventJSON.parse(#"["\ud800"]"#) }
        #expect(try EventJSON.parse(#"["\ud83d\ude00", -0.5e2, 7]"#) == .array([.string("😀"), .number(-50), .integer(7)]))
        #expect(throws: ClientError.self) { try EventJSON.parse("[007]") }
        let wrong = #expect(throws: ClientError.self) { try EventJSON.values([.integer(1), .integer(2)], schema: stock) }
        #expect(wrong?.message.contains("attribute 'symbol' of 'Stock' is string") == true)
    }
}

@Suite struct RequestGeneratorTests {
    @Test func sameSeedSameEvents() {
        var a = RequestGenerator(), b = RequestGenerator()
        let x = a.batch(500), y = b.batch(500)
        #expect(x.timestamps == y.timestamps)
        for row in stride(from: 0, to: 500, by: 37) { #expect(x.values(at: row) == y.values(at: row)) }
        var c = RequestGenerator(seed: 7)
        #expect(c.batch(500).values(at: 0) != x.values(at: 0))
    }

    @Test func eventsLookLikeTheSeed() throws {
        var g = RequestGenerator()
        let batch = g.batch(20_000)
        try RequestGenerator.schema().check(batch)
        let tenants = Set(batch.columns[12].strings)
        #expect(tenants.count == 50)
        #expect(tenants.contains("tenant00.com") && tenants.contains("tenant49.com"))
        // The user and API context belong to the event's tenant; time never goes back.
        for row in stride(from: 0, to: batch.count, by: 101) {
            let tenant = batch.columns[12].strings[row]
            #expect(batch.columns[11].strings[row].hasSuffix("@" + tenant))
            #expect(batch.columns[5].strings[row].hasPrefix("/t/" + tenant + "/"))
            #expect(batch.columns[13].longs[row] == batch.timestamps[row])
        }
        #expect(zip(batch.timestamps, batch.timestamps.dropFirst()).allSatisfy { $0 <= $1 })
        let throttled = batch.columns[14].bools.filter { $0 }.count
        #expect((200...1000).contains(throttled))
    }

    /// Each string column's codes name equal values (what the encoder relies on), and appending
    /// to a batch gives the same events as a fresh batch.
    @Test func stringColumnsCarryCodesOfEqualValues() {
        var g = RequestGenerator(), h = RequestGenerator()
        let batch = g.batch(5_000)
        var appended = EventBatch(types: RequestGenerator.attributes.map(\.1))
        h.append(5_000, to: &appended)
        for column in 0..<13 {
            let lane = batch.columns[column].strings
            guard let codes = lane.valueCodes else {
                Issue.record("column \(column) has no codes")
                continue
            }
            var valueOfCode: [UInt32: String] = [:]
            for row in 0..<lane.count {
                let value = lane[row]
                #expect(valueOfCode[codes.codes[row], default: value] == value, "column \(column), row \(row)")
                valueOfCode[codes.codes[row]] = value
            }
            #expect(appended.columns[column].strings == lane)
        }
    }
}
