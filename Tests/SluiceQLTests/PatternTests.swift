import SluiceCore
@testable import SluiceQL
import Testing

@Suite struct PatternTests {
    func pattern(_ input: String) throws -> StateInputStream {
        try stateInput("from \(input) select * insert into Out")
    }

    @Test func everyFollowedByWithin() throws {
        let s = try stateInput("""
        from every e1=TempStream -> e2=TempStream[e1.roomNo == roomNo and (e1.temp + 5) <= temp]
            within 10 min
        select e1.roomNo, e1.temp as initialTemp, e2.temp as finalTemp
        insert into AlertStream;
        """)
        #expect(s.kind == .pattern)
        #expect(render(s.root) == "(next (every e1=TempStream) e2=TempStream[(and (== e1.roomNo roomNo) (<= (+ e1.temp 5) temp))])")
        #expect(s.within == 600_000)
        #expect(s.range.start.column == 6)
        #expect(s.range.end.line == 2)
        #expect(s.range.end.column == 18)
    }

    @Test func chainsNestToTheRight() throws {
        #expect(render(try pattern("e1=A -> e2=B -> e3=C").root) == "(next e1=A (next e2=B e3=C))")
    }

    @Test func singleReferencedStreamIsAPattern() throws {
        let s = try pattern("e1=S[a > 1]")
        #expect(s.kind == .pattern)
        #expect(render(s.root) == "e1=S[(> a 1)]")
        guard case .stream(let element) = s.root else { return }
        #expect(element.eventReference?.name == "e1")
        #expect(element.range.start.column == 6)
        #expect(element.range.end.column == 17)
        #expect(element.stream.range.start.column == 9)
    }

    @Test func unreferencedStreamsCanFormPatterns() throws {
        #expect(render(try pattern("A -> B[x > 1]").root) == "(next A B[(> x 1)])")
        #expect(try pattern("A, B").kind == .sequence)
        #expect(render(try pattern("A and B").root) == "(and A B)")
        #expect(render(try pattern("#A -> !B").root) == "(next #A !B)")
    }

    @Test func counting() throws {
        let s = try pattern("e1=RegulatorStream -> e2=TempStream[e1.roomNo == roomNo]<1:> -> e3=RegulatorStream[e1.roomNo == roomNo]")
        #expect(render(s.root) == "(next e1=RegulatorStream (next e2=TempStream[(== e1.roomNo roomNo)]<1:> e3=RegulatorStream[(== e1.roomNo roomNo)]))")
        guard case .count(_, let min, let max) = try pattern("e1=S<2:5>").root else { Issue.record("count"); return }
        #expect(min == 2 && max == 5)
        guard case .count(_, nil, 5) = try pattern("e1=S<:5>").root else { Issue.record("<:5>"); return }
        guard case .count(_, 2, nil) = try pattern("e1=S<2:>").root else { Issue.record("<2:>"); return }
        guard case .count(_, 3, 3) = try pattern("e1=S<3>").root else { Issue.record("<3>"); return }
        #expect(render(try pattern("every e1=S[a > 1]<2:5> -> e2=T").root) == "(next (every e1=S[(> a 1)]<2:5>) e2=T)")
    }

    @Test func logical() throws {
        #expect(render(try pattern("every e1=R -> e2=T[e1.room == room] and e3=H[e1.room == room]").root)
            == "(next (every e1=R) (and e2=T[(== e1.room room)] e3=H[(== e1.room room)]))")
        #expect(render(try pattern("e1=A or e2=B -> e3=C").root) == "(next (or e1=A e2=B) e3=C)")
        #expect(render(try pattern("every e1=A and e2=B -> e3=C").root) == "(next (every (and e1=A e2=B)) e3=C)")
    }

    @Test func absent() throws {
        #expect(render(try pattern("e1=R -> not T[e1.room == room] for 5 sec").root) == "(next e1=R (not T[(== e1.room room)] for 5000))")
        #expect(render(try pattern("not S[a > 1] and e2=T").root) == "(and (not S[(> a 1)]) e2=T)")
        #expect(render(try pattern("e1=T and not S").root) == "(and e1=T (not S))")
        #expect(render(try pattern("every not S for 1 min -> e1=T").root) == "(next (every (not S for 60000)) e1=T)")
        #expect(render(try pattern("not S for 5 sec and not T for 10 sec").root) == "(and (not S for 5000) (not T for 10000))")
        #expect(render(try pattern("e1=A -> not S for 1 sec or e2=B").root) == "(next e1=A (or (not S for 1000) e2=B))")
        expectError("from not S -> e1=T select * insert into O", at: 1, 12, "expected 'for <time>' or 'and …' after 'not S'")
        expectError("from not S or e1=T select * insert into O", at: 1, 12, "can only be combined with 'and'")
        expectError("from e1=A -> not e2=S for 1 sec select * insert into O", at: 1, 18, "takes no event reference")
        expectError("from e1=A -> not S for 1 select * insert into O", at: 1, 24, "expected a time value such as '5 sec' after 'for'")
    }

    @Test func groups() throws {
        #expect(render(try pattern("every (e1=A -> e2=B) -> e3=C").root) == "(next (every (next e1=A e2=B)) e3=C)")
        #expect(render(try pattern("every(e1=A)").root) == "(every e1=A)")
        #expect(render(try pattern("every (e1=A -> e2=B) within 5 sec -> e3=C").root)
            == "(next (every (within (next e1=A e2=B) 5000)) e3=C)")
        #expect(render(try pattern("(e1=A -> e2=B) within 5 sec and e3=C").root) == "(and (within (next e1=A e2=B) 5000) e3=C)")
        // A group that ends the input leaves `within` to the whole pattern.
        let last = try pattern("e0=Z -> every (e1=A -> e2=B) within 5 sec")
        #expect(render(last.root) == "(next e0=Z (every (next e1=A e2=B)))")
        #expect(last.within == 5000)
        let nested = try pattern("e0=Z -> (e1=A -> (e2=B -> e3=C) within 2 sec) within 5 sec")
        #expect(render(nested.root) == "(next e0=Z (next e1=A (within (next e2=B e3=C) 2000)))")
        #expect(nested.within == 5000)
    }

    @Test func sequences() throws {
        let s = try pattern("every e1=S, e2=S[price > e1.price]+, e3=S[price < e2[last].price]")
        #expect(s.kind == .sequence)
        #expect(render(s.root) == "(next (every e1=S) (next e2=S[(> price e1.price)]+ e3=S[(< price e2[last].price)]))")
        #expect(render(try pattern("e1=A, e2=B*, e3=C?").root) == "(next e1=A (next e2=B* e3=C?))")
        #expect(render(try pattern("e1=A, e2=B<2:3>").root) == "(next e1=A e2=B<2:3>)")
        let within = try pattern("e1=A, e2=B within 1 sec")
        #expect(within.kind == .sequence)
        #expect(within.within == 1000)
        #expect(render(try pattern("e1=A, not B for 1 sec, e3=C").root) == "(next e1=A (next (not B for 1000) e3=C))")
        #expect(render(try pattern("e1=A, (e2=B, e3=C)").root) == "(next e1=A (next e2=B e3=C))")
        let lone = try pattern("e1=A+")
        #expect(lone.kind == .sequence)
    }

    @Test func eventIndexesInSelect() throws {
        let q = try query("from every e1=S<2:> -> e2=T select e1[0].price as first, e1[last].price as last, e1[last-1].price as prev, e2.x insert into O")
        #expect(q.selector.projection?.map { render($0.expression) } == ["e1[0].price", "e1[last].price", "e1[last-1].price", "e2.x"])
        #expect(q.selector.projection?.map { $0.alias?.name } == ["first", "last", "prev", nil])
    }

    @Test func streamFunctionsInPatterns() throws {
        #expect(render(try pattern("e1=A#str:tokenize(s, ',')[x > 1] -> e2=B").root) == "(next e1=A#str:tokenize(s, ',')[(> x 1)] e2=B)")
    }

    @Test func patternErrors() {
        expectError("from e1=A -> e2=B, e3=C select * insert into O", at: 1, 18, "cannot mix '->' (pattern) and ',' (sequence)")
        expectError("from e1=A, e2=B -> e3=C select * insert into O", at: 1, 17, "cannot mix")
        expectError("from e1=A -> e2=B+ select * insert into O", at: 1, 18, "'+' is only allowed in a sequence")
        expectError("from e1=A#window.length(5) -> e2=B select * insert into O", at: 1, 10, "cannot have a window")
        expectError("from e1=A -> e2=B<> select * insert into O", at: 1, 19, "expected a count such as '<2:5>'")
        expectError("from e1=A -> e2=B<5:2> select * insert into O", at: 1, 18, "the minimum count 5 exceeds the maximum 2")
        expectError("from e1=A -> e2=B<2:5 select * insert into O", at: 1, 23, "expected '>' to close the count of 'B'")
        expectError("from (e1=A -> e2=B select * insert into O", at: 1, 20, "expected ')' to close the '(' at 1:6")
        expectError("from e1=A -> select * insert into O", at: 1, 14, "expected a stream name")
        expectError("from e1=A -> e2=B within 5 select * insert into O", at: 1, 26, "expected a time value")
        expectError("from e1=A -> e2=B as b select * insert into O", at: 1, 19, "expected 'select'")
    }
}
