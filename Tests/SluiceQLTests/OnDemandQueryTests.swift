import SluiceCore
@testable import SluiceQL
import Testing

@Suite struct OnDemandQueryTests {
    func error(_ source: String) -> Diagnostic? {
        do {
            _ = try SiddhiParser.parseOnDemandQuery(source)
            return nil
        } catch {
            return error
        }
    }

    @Test func find() throws {
        let q = try SiddhiParser.parseOnDemandQuery("from StockTable on price > 40 select symbol, price order by price desc limit 5;")
        guard case .find(let source, let on, nil, nil) = q.action else { Issue.record("find"); return }
        #expect(source.name == "StockTable")
        #expect(on.map(render) == "(> price 40)")
        #expect(q.selector.projection?.count == 2)
        #expect(q.selector.orderBy.first?.ascending == false)
        #expect(q.selector.limit.map(render) == "5")
        #expect(q.range.start.column == 1)
        #expect(q.range.end.column == 79)
    }

    @Test func findEverything() throws {
        let q = try SiddhiParser.parseOnDemandQuery("from StockTable")
        guard case .find(_, nil, nil, nil) = q.action else { Issue.record("find"); return }
        #expect(q.selector.projection == nil)
    }

    @Test func findOnAggregation() throws {
        let q = try SiddhiParser.parseOnDemandQuery("""
        from TradeAggregation as t
          on symbol == "IBM"
          within "2014-02-15 00:00:00 +05:30", "2014-03-16 00:00:00 +05:30"
          per "days"
        select symbol, total, avgPrice
        """)
        guard case .find(_, _, let within, let per) = q.action else { Issue.record("find"); return }
        #expect(q.sourceAlias?.name == "t")
        #expect(within.map(render) == "'2014-02-15 00:00:00 +05:30'")
        #expect(q.withinEnd.map(render) == "'2014-03-16 00:00:00 +05:30'")
        #expect(per.map(render) == "'days'")
        let single = try SiddhiParser.parseOnDemandQuery("from A within '2014-02-** **:**:** +05:30' per 'hours' select *")
        guard case .find(_, _, let w, _) = single.action else { return }
        #expect(w.map(render) == "'2014-02-** **:**:** +05:30'")
        #expect(single.withinEnd == nil)
    }

    @Test func writes() throws {
        let insert = try SiddhiParser.parseOnDemandQuery("select 'WSO2' as symbol, 100F as price insert into StockTable")
        guard case .insert(let into) = insert.action else { Issue.record("insert"); return }
        #expect(into.name == "StockTable")
        #expect(insert.selector.projection?.map { render($0.expression) } == ["'WSO2'", "100.0F"])

        let delete = try SiddhiParser.parseOnDemandQuery("delete StockTable on StockTable.price < 10")
        guard case .delete(let t, let on) = delete.action else { Issue.record("delete"); return }
        #expect(t.name == "StockTable")
        #expect(render(on) == "(< StockTable.price 10)")

        let selectDelete = try SiddhiParser.parseOnDemandQuery("select 10 as p delete T on T.price < p")
        guard case .delete = selectDelete.action else { Issue.record("select delete"); return }

        let update = try SiddhiParser.parseOnDemandQuery("select 'IBM' as s, 1.5 as p update T set T.price = p on T.symbol == s")
        guard case .update(_, let set, _) = update.action else { Issue.record("update"); return }
        #expect(set.map { render($0.target) } == ["T.price"])

        let upsert = try SiddhiParser.parseOnDemandQuery("select 'IBM' as s update or insert into T set T.price = 1 on T.symbol == s")
        guard case .updateOrInsert(let ut, let uset, _) = upsert.action else { Issue.record("upsert"); return }
        #expect(ut.name == "T")
        #expect(uset.count == 1)
    }

    @Test func onDemandErrors() {
        #expect(error("select a")?.message == "unexpected end of input — expected 'insert', 'delete' or 'update'")
        #expect(error("drop T")?.message == "unexpected 'drop' — expected 'from', 'select', 'delete' or 'update'")
        #expect(error("delete T")?.range.start.column == 9)
        #expect(error("from T select a insert into X")?.range.start.column == 17)
        #expect(error("from T; x")?.range.start.column == 9)
    }
}
