import SluiceCore
@testable import SluiceQL
import Testing

@Suite struct DefinitionTests {
    @Test func stream() throws {
        let source = "define stream StockStream (symbol string, price float, volume long, ok bool, d double, i int, o object);"
        guard case .stream(let s) = try definition(source) else {
            Issue.record("not a stream")
            return
        }
        #expect(s.name.name == "StockStream")
        #expect(s.attributes.map(\.name) == ["symbol", "price", "volume", "ok", "d", "i", "o"])
        #expect(s.attributes.map(\.type) == [.string, .float, .long, .bool, .double, .int, .object])
        #expect(text(source, s.range) == String(source.dropLast()))
        #expect(text(source, s.name.range) == "StockStream")
        #expect(text(source, s.attributes[1].range) == "price float")
    }

    @Test func keywordsAreCaseInsensitive() throws {
        guard case .stream(let s) = try definition("DEFINE STREAM S (a STRING, b Int)") else {
            Issue.record("not a stream")
            return
        }
        #expect(s.attributes.map(\.type) == [.string, .int])
    }

    @Test func keywordsAndBackquotesAsNames() throws {
        guard case .stream(let s) = try definition("define stream `from` (from string, `select` int, time long, end long)") else {
            Issue.record("not a stream")
            return
        }
        #expect(s.name.name == "from")
        #expect(s.attributes.map(\.name) == ["from", "select", "time", "end"])
    }

    @Test func table() throws {
        let source = """
        @primaryKey('symbol')
        @index('volume', 'price')
        @store(type='rdbms', jdbc.url='jdbc:mysql://localhost:3306/db', username='root', field.length='symbol:100')
        define table StockTable (symbol string, price float, volume long);
        """
        guard case .table(let t) = try definition(source) else {
            Issue.record("not a table")
            return
        }
        #expect(t.name.name == "StockTable")
        #expect(t.annotations.map(\.name) == ["primaryKey", "index", "store"])
        #expect(t.annotations[0].value(nil) == "symbol")
        #expect(t.annotations[1].elements.map(\.value) == ["volume", "price"])
        #expect(t.annotations[1].elements.allSatisfy { $0.key == nil })
        #expect(t.annotations[2].value("type") == "rdbms")
        #expect(t.annotations[2].value("JDBC.URL") == "jdbc:mysql://localhost:3306/db")
        #expect(t.annotations[2].value("field.length") == "symbol:100")
        #expect(t.range.start.line == 1)
        #expect(t.range.start.column == 1)
        #expect(t.range.end.line == 4)
    }

    @Test func window() throws {
        guard case .window(let w) = try definition("define window StockWindow (symbol string, price float) time(1 min) output expired events;") else {
            Issue.record("not a window")
            return
        }
        #expect(w.name.name == "StockWindow")
        #expect(render(w.window) == "time(60000ms)")
        #expect(w.outputEventType == .expired)

        guard case .window(let plain) = try definition("define window W (a int) length(5)") else { return }
        #expect(plain.outputEventType == .all)
        #expect(render(plain.window) == "length(5)")

        guard case .window(let current) = try definition("define window W (a int) unique:length(a, 5) output current events") else { return }
        #expect(current.outputEventType == .current)
        #expect(render(current.window) == "unique:length(a, 5)")

        guard case .window(let all) = try definition("define window W (a int) lengthBatch(5) output all") else { return }
        #expect(all.outputEventType == .all)
    }

    @Test func triggers() throws {
        guard case .trigger(let every) = try definition("define trigger FiveMinTrigger at every 5 min;") else {
            Issue.record("not a trigger")
            return
        }
        #expect(every.name.name == "FiveMinTrigger")
        #expect(every.schedule == .every(milliseconds: 300_000))
        guard case .trigger(let start) = try definition("define trigger InitTrigger at 'start';") else { return }
        #expect(start.schedule == .start)
        guard case .trigger(let cron) = try definition("define trigger CronTrigger at '0 15 10 ? * MON-FRI';") else { return }
        #expect(cron.schedule == .cron("0 15 10 ? * MON-FRI"))
        guard case .trigger(let mixed) = try definition("define trigger T at every 1 hour 30 min") else { return }
        #expect(mixed.schedule == .every(milliseconds: 5_400_000))
    }

    @Test func aggregationRange() throws {
        let source = """
        @store(type='rdbms')
        @purge(enable='true', interval='10 sec', @retentionPeriod(sec='120 sec', min='24 hours'))
        define aggregation TradeAggregation
          from TradeStream
          select symbol, avg(price) as avgPrice, sum(price) as total
            group by symbol
            aggregate by timestamp every sec ... year;
        """
        guard case .aggregation(let a) = try definition(source) else {
            Issue.record("not an aggregation")
            return
        }
        #expect(a.name.name == "TradeAggregation")
        #expect(a.input.stream.name == "TradeStream")
        #expect(a.selector.projection?.map { render($0.expression) } == ["symbol", "avg(price)", "sum(price)"])
        #expect(a.selector.projection?.map { $0.alias?.name } == [nil, "avgPrice", "total"])
        #expect(a.selector.groupBy.map(render) == ["symbol"])
        #expect(a.aggregateBy.map(render) == "timestamp")
        #expect(a.granularity == .range(.seconds, .years))
        #expect(a.annotations[1].value("idle.period") == nil)
        #expect(a.annotations[1].annotations.first?.value("min") == "24 hours")
    }

    @Test func aggregationList() throws {
        let source = "define aggregation A from S[price > 0] select symbol, max(price) as m aggregate every seconds, minutes, hour, days, week, months, years"
        guard case .aggregation(let a) = try definition(source) else {
            Issue.record("not an aggregation")
            return
        }
        #expect(a.aggregateBy == nil)
        #expect(a.selector.groupBy.isEmpty)
        #expect(render(a.input) == "S[(> price 0)]")
        #expect(a.granularity == .list([.seconds, .minutes, .hours, .days, .weeks, .months, .years]))
        guard case .aggregation(let b) = try definition("define aggregation A from S select a aggregate every min...day") else { return }
        #expect(b.granularity == .range(.minutes, .days))
    }

    @Test func function() throws {
        let source = """
        define function concatFn[javascript] return string {
            var str1 = data[0];
            var str2 = data[1];
            return str1 + str2 + '}';
        };
        """
        guard case .function(let f) = try definition(source) else {
            Issue.record("not a function")
            return
        }
        #expect(f.name.name == "concatFn")
        #expect(f.language == "javascript")
        #expect(f.returnType == .string)
        #expect(f.body == "\n    var str1 = data[0];\n    var str2 = data[1];\n    return str1 + str2 + '}';\n")
        #expect(f.range.end.line == 5)
        #expect(f.range.end.column == 2)
    }

    @Test func definitionsAndQueriesInterleave() throws {
        let app = try SiddhiParser.parse("""
        define stream A (x int);
        from A select x insert into B;
        define stream C (y int);
        from C insert into D
        """)
        #expect(app.definitions.count == 2)
        #expect(app.executionElements.count == 2)
    }

    @Test func definitionErrors() {
        expectError("define stream S (a strng)", at: 1, 20, "unknown attribute type 'strng'")
        expectError("define stream S (a int b int)", at: 1, 24, "expected ')' to close the attribute list of 'S'")
        expectError("define stream S (a int,)", at: 1, 24, "unexpected ')' — expected an attribute name")
        expectError("define stream S (a, b int)", at: 1, 19, "unexpected ',' — expected the type of attribute 'a'")
        expectError("define stream S a int)", at: 1, 17, "expected '(' to start the attribute list of 'S'")
        expectError("define stream (a int)", at: 1, 15, "expected a stream name")
        expectError("define steam S (a int)", at: 1, 8, "expected 'stream', 'table', 'window', 'trigger', 'aggregation' or 'function'")
        expectError("define stream S (a int, a long)", at: 1, 25, "duplicate attribute 'a'")
        expectError("define stream S (a int)\ndefine stream T (b int)", at: 2, 1, "unexpected 'define' — expected ';' after the stream definition")
        expectError("define window W (a int)", at: 1, 24, "expected a window function")
        expectError("define window W (a int) length(5) output some events", at: 1, 42, "expected 'all events', 'current events' or 'expired events'")
        expectError("define trigger T at every 5", at: 1, 27, "expected a time value such as '5 sec'")
        expectError("define trigger T every 5 sec", at: 1, 18, "expected 'at'")
        expectError("define aggregation A from S select a aggregate every sec ... millisec", at: 1, 62, "expected a duration")
        expectError("define aggregation A from S select a aggregate every year ... sec", at: 1, 63, "from the finer to the coarser")
        expectError("define aggregation A from S aggregate every sec", at: 1, 29, "expected 'select'")
        expectError("define function f[javascript] return strin { }", at: 1, 38, "unknown attribute type 'strin'")
        expectError("define function f return string { }", at: 1, 19, "expected '[' and the language")
        expectError("@info(name='x') define function f[js] return int { }", at: 1, 1, "a function definition takes no annotations")
    }
}
