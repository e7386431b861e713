import SluiceCore
@testable import SluiceQL
import Testing

@Suite struct PartitionTests {
    func partition(_ source: String) throws -> Partition {
        let app = try SiddhiParser.parse(source)
        guard app.executionElements.count == 1, case .partition(let p) = app.executionElements[0] else {
            Issue.record("expected one partition")
            throw Diagnostic("no partition", at: .unknown)
        }
        return p
    }

    @Test func valuePartition() throws {
        let source = """
        @purge(enable='true', interval='1 sec', idle.period='1 hour')
        partition with (symbol of StockStream, str:lower(user) of LoginStream)
        begin
            @info(name='q1')
            from StockStream#window.length(10)
            select symbol, avg(price) as avgPrice
            insert into #AvgStream;

            from #AvgStream[avgPrice > 10]
            select *
            insert into Out;
        end;
        """
        let p = try partition(source)
        #expect(p.annotations.map(\.name) == ["purge"])
        #expect(p.keys.count == 2)
        guard case .value(let e, let stream) = p.keys[0] else { Issue.record("value key"); return }
        #expect(render(e) == "symbol")
        #expect(stream.name == "StockStream")
        #expect(p.keys[1].stream.name == "LoginStream")
        guard case .value(let fn, _) = p.keys[1] else { return }
        #expect(render(fn) == "str:lower(user)")
        #expect(p.queries.count == 2)
        #expect(p.queries[0].name == "q1")
        #expect(p.queries[0].range.start.line == 4)
        guard case .insert(let into, true, false, .current) = p.queries[0].output else { Issue.record("inner insert"); return }
        #expect(into.name == "AvgStream")
        guard case .single(let s) = p.queries[1].input else { return }
        #expect(s.isInner)
        #expect(p.range.start.line == 1)
        #expect(p.range.end.line == 12)
        #expect(p.range.end.column == 4)
    }

    @Test func rangePartition() throws {
        let p = try partition("""
        partition with (price >= 100 as 'large' or price < 100 and price >= 10 as 'medium' or price < 10 as 'small' of StockStream)
        begin
            from StockStream select symbol, price insert into Out
        end
        """)
        guard case .range(let ranges, let stream) = p.keys[0] else { Issue.record("range key"); return }
        #expect(stream.name == "StockStream")
        #expect(ranges.map(\.label) == ["large", "medium", "small"])
        #expect(ranges.map { render($0.condition) } == ["(>= price 100)", "(and (< price 100) (>= price 10))", "(< price 10)"])
        #expect(ranges[0].range.start.column == 17)
        #expect(ranges[0].range.end.column == 40)
        #expect(p.queries.count == 1)
    }

    @Test func mixedKeysAndQueriesAfterPartition() throws {
        let app = try SiddhiParser.parse("""
        define stream S (a string, b int);
        partition with (a of S, b > 5 as 'big' of T) begin from S select a insert into O; end;
        from O select a insert into P;
        """)
        #expect(app.executionElements.count == 2)
        guard case .partition(let p) = app.executionElements[0] else { return }
        guard case .range(let r, _) = p.keys[1] else { Issue.record("range"); return }
        #expect(r.count == 1)
    }

    @Test func partitionErrors() {
        expectError("partition (a of S) begin from S insert into O end", at: 1, 11, "expected 'with' after 'partition'")
        expectError("partition with (a S) begin from S insert into O end", at: 1, 19, "expected 'of' and the stream to partition")
        expectError("partition with (a > 1 as large of S) begin from S insert into O end", at: 1, 26, "expected a quoted label after 'as'")
        expectError("partition with (a of S) from S insert into O end", at: 1, 25, "expected 'begin'")
        expectError("partition with (a of S) begin end", at: 1, 31, "a partition needs at least one query")
        expectError("partition with (a of S) begin from S insert into O", at: 1, 51, "expected 'end' to close the partition")
        expectError("partition with (a of S) begin from S insert into O from S insert into P end", at: 1, 52, "expected ';' after the query")
        expectError("partition with (a of S) begin @app:name('x') from S insert into O end", at: 1, 31, "belongs at the top of the app")
        expectError("partition with (a of S) begin define stream X (a int); end", at: 1, 31, "expected a query or 'end'")
    }
}
