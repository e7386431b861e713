import SluiceCore
@testable import SluiceQL
import Testing

@Suite struct QueryTests {
    func single(_ q: Query) -> SingleInputStream? {
        if case .single(let s) = q.input { return s }
        Issue.record("not a single input")
        return nil
    }

    func join(_ q: Query) -> JoinInputStream? {
        if case .join(let j) = q.input { return j }
        Issue.record("not a join")
        return nil
    }

    @Test func simpleQuery() throws {
        let source = "@info(name='q1') from StockStream[price > 100] select symbol, price * 2 as doubled insert into Out;"
        let q = try query(source)
        #expect(q.name == "q1")
        #expect(single(q).map(render) == "StockStream[(> price 100)]")
        #expect(q.selector.projection?.map { render($0.expression) } == ["symbol", "(* price 2)"])
        #expect(q.selector.projection?.map { $0.alias?.name } == [nil, "doubled"])
        #expect(q.output == .insert(into: Identifier("Out", range: q.output.targetRange!), isInner: false, isFault: false, eventType: .current))
        #expect(text(source, q.range) == String(source.dropLast()))
        #expect(text(source, q.selector.range) == "select symbol, price * 2 as doubled")
        #expect(text(source, q.selector.projection![1].range) == "price * 2 as doubled")
    }

    @Test func selectIsOptional() throws {
        let q = try query("from S insert into T")
        #expect(q.selector.projection == nil)
        #expect(!q.selector.distinct)
        #expect(q.selector.range.start == q.selector.range.end)
        let star = try query("from S select * insert into T")
        #expect(star.selector.projection == nil)
        let distinct = try query("from S select distinct symbol insert into T")
        #expect(distinct.selector.distinct)
        #expect(distinct.selector.projection?.count == 1)
        let distinctStar = try query("from S select distinct * insert into T")
        #expect(distinctStar.selector.distinct)
        #expect(distinctStar.selector.projection == nil)
    }

    @Test func selectorClauses() throws {
        let q = try query("""
        from S#window.time(1 min)
        select symbol, sum(price) as total, count() as n
        group by symbol, exchange
        having total > 10 and n > 1
        order by total desc, symbol asc, n
        limit 5
        offset 2
        insert into Out;
        """)
        let s = q.selector
        #expect(s.groupBy.map(render) == ["symbol", "exchange"])
        #expect(s.having.map(render) == "(and (> total 10) (> n 1))")
        #expect(s.orderBy.map { render($0.expression) } == ["total", "symbol", "n"])
        #expect(s.orderBy.map(\.ascending) == [false, true, true])
        #expect(s.limit.map(render) == "5")
        #expect(s.offset.map(render) == "2")
        #expect(s.range.start.line == 2)
        #expect(s.range.end.line == 7)
    }

    @Test func streamHandlersInAnyOrder() throws {
        let q = try query("from S[a > 1]#window.length(5)[b < 2]#str:tokenize(text, ',')#window2(3) as s select * insert into O")
        let s = try #require(single(q))
        #expect(render(s) == "S[(> a 1)]#window.length(5)[(< b 2)]#str:tokenize(text, ',')#window2(3) as s")
        #expect(s.window.map(render) == "length(5)")
        #expect(s.alias?.name == "s")
        let ns = try query("from S#window.unique:time(a, 1 sec)#[x == 1] insert into O")
        #expect(single(ns).map(render) == "S#window.unique:time(a, 1000ms)[(== x 1)]")
        let fn = try query("from S#log('x') insert into O")
        #expect(single(fn).map(render) == "S#log('x')")
    }

    @Test func innerAndFaultStreams() throws {
        let inner = try query("from #Inner select a insert into #Other")
        #expect(single(inner)?.isInner == true)
        guard case .insert(let into, let isInner, _, _) = inner.output else { return }
        #expect(into.name == "Other")
        #expect(isInner)
        let fault = try query("from !S select _error insert into !F")
        #expect(single(fault)?.isFault == true)
        #expect(single(fault)?.stream.name == "S")
        guard case .insert(_, _, let isFault, _) = fault.output else { return }
        #expect(isFault)
    }

    @Test func outputRates() throws {
        func rate(_ clause: String) throws -> OutputRate? {
            try query("from S select a \(clause) insert into O").outputRate
        }
        guard case .events(.all, 5, _) = try rate("output every 5 events") else { Issue.record("events"); return }
        guard case .events(.first, 10, _) = try rate("output first every 10 events") else { Issue.record("first"); return }
        guard case .events(.last, 1, _) = try rate("output last every 1 events") else { Issue.record("last"); return }
        guard case .events(.all, 2, _) = try rate("output all every 2 events") else { Issue.record("all"); return }
        guard case .time(.all, 5000, _) = try rate("output every 5 sec") else { Issue.record("time"); return }
        guard case .time(.last, 90000, _) = try rate("output last every 1 min 30 sec") else { Issue.record("last time"); return }
        guard case .time(.first, 1000, _) = try rate("output first every 1 second") else { Issue.record("first time"); return }
        guard case .snapshot(3_600_000, let range) = try rate("output snapshot every 1 hour") else { Issue.record("snapshot"); return }
        #expect(range.start.column == 17)
        #expect(range.end.column == 45)
        let noSelect = try query("from S output every 5 events insert into O")
        #expect(noSelect.outputRate != nil)
    }

    @Test func insertEventTypes() throws {
        func type(_ clause: String) throws -> OutputEventType? {
            if case .insert(_, _, _, let t) = try query("from S#window.length(5) select a \(clause)").output { return t }
            return nil
        }
        #expect(try type("insert into O") == .current)
        #expect(try type("insert current events into O") == .current)
        #expect(try type("insert expired events into O") == .expired)
        #expect(try type("insert all events into O") == .all)
        #expect(try type("insert all into O") == .all)
        #expect(try type("insert expired into O") == .expired)
        #expect(try type("insert events into O") == .current)
    }

    @Test func deleteUpdateAndUpsert() throws {
        let delete = try query("from S delete StockTable for expired events on StockTable.symbol == symbol")
        guard case .delete(let table, let type, let on) = delete.output else { Issue.record("delete"); return }
        #expect(table.name == "StockTable")
        #expect(type == .expired)
        #expect(render(on) == "(== StockTable.symbol symbol)")

        let plainDelete = try query("from S delete T on T.a == a")
        guard case .delete(_, .current, _) = plainDelete.output else { Issue.record("plain delete"); return }

        let update = try query("from S select symbol, price update StockTable set StockTable.price = price, StockTable.n = StockTable.n + 1 on StockTable.symbol == symbol")
        guard case .update(let t, let ut, let set, let cond) = update.output else { Issue.record("update"); return }
        #expect(t.name == "StockTable")
        #expect(ut == .current)
        #expect(set.map { render($0.target) } == ["StockTable.price", "StockTable.n"])
        #expect(set.map { render($0.value) } == ["price", "(+ StockTable.n 1)"])
        #expect(render(cond) == "(== StockTable.symbol symbol)")

        let noSet = try query("from S update T for all events on T.a == a")
        guard case .update(_, .all, let empty, _) = noSet.output else { Issue.record("update without set"); return }
        #expect(empty.isEmpty)

        let upsert = try query("from S update or insert into T for current events set T.v = v on T.k == k")
        guard case .updateOrInsert(let ut2, .current, let set2, let on2) = upsert.output else { Issue.record("upsert"); return }
        #expect(ut2.name == "T")
        #expect(set2.count == 1)
        #expect(render(on2) == "(== T.k k)")

        let upsertNoSet = try query("from S update or insert into T on T.k == k")
        guard case .updateOrInsert(_, _, let none, _) = upsertNoSet.output else { Issue.record("upsert no set"); return }
        #expect(none.isEmpty)
    }

    @Test func returnAction() throws {
        guard case .returnEvents(.current) = try query("from S select a return").output else { Issue.record("return"); return }
        guard case .returnEvents(.expired) = try query("from S select a return expired events").output else { Issue.record("expired"); return }
        guard case .returnEvents(.all) = try query("from S return all events").output else { Issue.record("all"); return }
    }

    @Test func joins() throws {
        let source = """
        from TempStream[temp > 30.0]#window.time(1 min) as T
          join RegulatorStream[isOn == false]#window.length(1) as R
          on T.roomNo == R.roomNo
        select T.roomNo, R.deviceID, 'start' as action
        insert into RegulatorActionStream;
        """
        let q = try query(source)
        let j = try #require(join(q))
        #expect(render(j.left) == "TempStream[(> temp 30.0D)]#window.time(60000ms) as T")
        #expect(render(j.right) == "RegulatorStream[(== isOn false)]#window.length(1) as R")
        #expect(j.type == .inner)
        #expect(j.trigger == .both)
        #expect(j.on.map(render) == "(== T.roomNo R.roomNo)")
        #expect(j.within == nil)
        #expect(text(source, j.range).hasSuffix("on T.roomNo == R.roomNo"))
        #expect(j.range.start.column == 6)
    }

    @Test func joinTypes() throws {
        func type(_ join: String) throws -> JoinType? {
            let q = try query("from A#window.length(1) \(join) B#window.length(1) on A.x == B.x select * insert into O")
            if case .join(let j) = q.input { return j.type }
            return nil
        }
        #expect(try type("join") == .inner)
        #expect(try type("inner join") == .inner)
        #expect(try type("left outer join") == .leftOuter)
        #expect(try type("right outer join") == .rightOuter)
        #expect(try type("full outer join") == .fullOuter)
        #expect(try type("outer join") == .fullOuter)
        #expect(try type("LEFT OUTER JOIN") == .leftOuter)
    }

    @Test func unidirectionalJoins() throws {
        let left = try query("from A#window.length(1) as a unidirectional join B#window.length(5) as b on a.x == b.x insert into O")
        #expect(join(left)?.trigger == .left)
        let right = try query("from A#window.length(1) join B as b unidirectional on a.x == b.x insert into O")
        #expect(join(right)?.trigger == .right)
        #expect(join(right)?.right.alias?.name == "b")
        expectError("from A unidirectional join B unidirectional insert into O", at: 1, 30, "only one side of a join can be unidirectional")
    }

    @Test func joinWithAggregation() throws {
        let q = try query("""
        from StockStream as S join TradeAggregation as T
          on S.symbol == T.symbol
          within "2014-02-15 00:00:00 +05:30", "2014-03-16 00:00:00 +05:30"
          per "days"
        select S.symbol, T.total
        insert into Out
        """)
        let j = try #require(join(q))
        #expect(j.within.map(render) == "'2014-02-15 00:00:00 +05:30'")
        #expect(j.withinEnd.map(render) == "'2014-03-16 00:00:00 +05:30'")
        #expect(j.per.map(render) == "'days'")
        let timed = try query("from A#window.length(1) join B#window.length(1) within 1 hour per 'hours' select * insert into O")
        #expect(join(timed)?.within.map(render) == "3600000ms")
        #expect(join(timed)?.on == nil)
    }

    @Test func queryErrors() {
        expectError("from S select a b insert into O", at: 1, 17, "expected 'output', 'insert', 'delete', 'update' or 'return'")
        expectError("from S where a > 1 insert into O", at: 1, 8, "expected 'select', 'output', 'insert', 'delete', 'update' or 'return'")
        expectError("from S select a insert O", at: 1, 24, "expected 'into' after 'insert'")
        expectError("from S[a > ] select a insert into O", at: 1, 12, "unexpected ']' — expected an expression")
        expectError("from S[a > 1 select a insert into O", at: 1, 14, "expected ']' to close the filter of 'S'")
        expectError("from S#window.length(5)#window.time(1 sec) insert into O", at: 1, 24, "already has a window")
        expectError("from S select insert into O", at: 1, 15, "unexpected 'insert' — expected an expression")
        expectError("from S select a as insert into O", at: 1, 20, "unexpected 'insert' — expected a name after 'as'")
        expectError("from S as select a insert into O", at: 1, 11, "expected a name after 'as'")
        expectError("from select a insert into O", at: 1, 6, "unexpected 'select' — expected a stream name")
        expectError("from S delete T", at: 1, 16, "expected 'on' and the condition of the delete")
        expectError("from S update T set a on T.a == a", at: 1, 23, "expected '=' after the attribute to set")
        expectError("from S update T set f(a) = 1 on T.a == a", at: 1, 21, "expected an attribute to set, not a function call")
        expectError("from S output every 5 insert into O", at: 1, 21, "expected a number of events such as '5 events'")
        expectError("from S output every 0 events insert into O", at: 1, 21, "positive")
        expectError("from S select a group a insert into O", at: 1, 23, "expected 'by' after 'group'")
        expectError("from A join B on a == b within insert into O", at: 1, 32, "expected an expression")
        expectError("from A left B insert into O", at: 1, 13, "expected 'join'")
        expectError("from (from S select a return) select a insert into O", at: 1, 6, "anonymous")
        expectError("from S select a insert into O\nfrom S select a insert into P", at: 2, 1, "expected ';' after the query")
        expectError("from S#window(5) insert into O", at: 1, 14, "expected '.' and a window function after '#window'")
        expectError("from S#window.5 insert into O", at: 1, 15, "expected a window function")
    }
}

extension OutputAction {
    /// The range of the target name, for building expected values.
    var targetRange: SourceRange? {
        switch self {
        case .insert(let into, _, _, _): into.range
        case .delete(let t, _, _), .update(let t, _, _, _), .updateOrInsert(let t, _, _, _): t.range
        case .returnEvents: nil
        }
    }
}
