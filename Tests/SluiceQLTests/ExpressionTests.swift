import SluiceCore
@testable import SluiceQL
import Testing

@Suite struct ExpressionTests {
    @Test func literals() {
        #expect(expr("12") == "12")
        #expect(expr("12L") == "12L")
        #expect(expr("12l") == "12L")
        #expect(expr("1.5") == "1.5D")
        #expect(expr("1.5F") == "1.5F")
        #expect(expr("1.5f") == "1.5F")
        #expect(expr("1.5D") == "1.5D")
        #expect(expr("1e3") == "1000.0D")
        #expect(expr("2.5e-1F") == "0.25F")
        #expect(expr("'abc'") == "'abc'")
        #expect(expr("\"abc\"") == "'abc'")
        #expect(expr("true") == "true")
        #expect(expr("FALSE") == "false")
        #expect(expr("null") == "null")
        #expect(expr("Null") == "null")
    }

    @Test func negativeLiteralsFold() throws {
        #expect(expr("-5") == "-5")
        #expect(expr("-2147483648") == "-2147483648")
        #expect(expr("-5L") == "-5L")
        #expect(expr("-1.5F") == "-1.5F")
        #expect(expr("-2.5") == "-2.5D")
        #expect(expr("- 5") == "-5")
        #expect(expr("-x") == "(neg x)")
        #expect(expr("-(1)") == "(neg 1)")
        #expect(expr("3 - -5") == "(- 3 -5)")
        #expect(expr("a -5") == "(- a 5)")
        #expect(expr("+5") == "5")
        let folded = try SiddhiParser.parseExpression("-5")
        #expect(folded.kind == .constant(.int(-5)))
        #expect(folded.range.start.column == 1)
        #expect(folded.range.end.column == 3)
    }

    @Test func intOutOfRange() {
        let d = expressionError("1 + 2147483648")
        #expect(d?.message.contains("out of range for int") == true)
        #expect(d?.range.start.column == 5)
        #expect(expr("2147483648L") == "2147483648L")
        #expect(expr("2147483647") == "2147483647")
    }

    @Test func timeConstants() {
        #expect(expr("5 sec") == "5000ms")
        #expect(expr("5 seconds") == "5000ms")
        #expect(expr("1 second") == "1000ms")
        #expect(expr("1 min 30 sec") == "90000ms")
        #expect(expr("2 minutes") == "120000ms")
        #expect(expr("1 minute") == "60000ms")
        #expect(expr("500 millisec") == "500ms")
        #expect(expr("5 millisecond") == "5ms")
        #expect(expr("5 milliseconds") == "5ms")
        #expect(expr("2 hours") == "7200000ms")
        #expect(expr("1 hour") == "3600000ms")
        #expect(expr("1 day") == "86400000ms")
        #expect(expr("2 days") == "172800000ms")
        #expect(expr("1 week") == "604800000ms")
        #expect(expr("1 weeks") == "604800000ms")
        #expect(expr("1 month") == "2592000000ms")
        #expect(expr("2 months") == "5184000000ms")
        #expect(expr("1 year") == "31536000000ms")
        #expect(expr("1 years") == "31536000000ms")
        #expect(expr("1 Hour 2 MIN 3 Sec 4 millisec") == "3723004ms")
        #expect(expr("10min") == "600000ms")
        #expect(expr("-5 sec") == "-5000ms")
        #expect(expr("5 sec + 1") == "(+ 5000ms 1)")
    }

    @Test func timeConstantIsLong() throws {
        let e = try SiddhiParser.parseExpression("1 min 30 sec")
        #expect(e.kind == .constant(.time(milliseconds: 90_000)))
        #expect(e.range.start.column == 1)
        #expect(e.range.end.column == 13)
    }

    @Test func arithmeticPrecedence() {
        #expect(expr("1 + 2 * 3") == "(+ 1 (* 2 3))")
        #expect(expr("1 * 2 + 3") == "(+ (* 1 2) 3)")
        #expect(expr("(1 + 2) * 3") == "(* (+ 1 2) 3)")
        #expect(expr("a - b - c") == "(- (- a b) c)")
        #expect(expr("a / b % c * d") == "(* (% (/ a b) c) d)")
        #expect(expr("-a * b") == "(* (neg a) b)")
        #expect(expr("- -a") == "(neg (neg a))")
    }

    @Test func comparisonAndLogicalPrecedence() {
        #expect(expr("a > 1 and b < 2 or c == 3") == "(or (and (> a 1) (< b 2)) (== c 3))")
        #expect(expr("a or b and c") == "(or a (and b c))")
        #expect(expr("not a and b") == "(and (not a) b)")
        #expect(expr("not a == b") == "(not (== a b))")
        #expect(expr("not not a") == "(not (not a))")
        #expect(expr("a + 1 >= b * 2") == "(>= (+ a 1) (* b 2))")
        #expect(expr("a != b") == "(!= a b)")
        #expect(expr("a <= b") == "(<= a b)")
        #expect(expr("a < b == c > d") == "(== (< a b) (> c d))")
        #expect(expr("a == b == c") == "(== (== a b) c)")
        #expect(expr("(a or b) and c") == "(and (or a b) c)")
    }

    @Test func nullChecksAndIn() {
        #expect(expr("a is null") == "(isnull a)")
        #expect(expr("a IS NULL") == "(isnull a)")
        #expect(expr("S.a is null") == "(isnull S.a)")
        #expect(expr("f(a) is null") == "(isnull f(a))")
        #expect(expr("a + 1 is null") == "(isnull (+ a 1))")
        #expect(expr("a is null and b is null") == "(and (isnull a) (isnull b))")
        #expect(expr("not a is null") == "(not (isnull a))")
        #expect(expr("a == b is null") == "(== a (isnull b))")
        // A bare name is kept as a variable; the runtime knows whether it is an event reference.
        #expect(expr("e1 is null") == "(isnull e1)")
        #expect(expr("e1[0] is null") == "(streamisnull e1[0])")
        #expect(expr("e1[last] is null") == "(streamisnull e1[last])")
        #expect(expr("#S is null") == "(streamisnull S)")
        #expect(expr("symbol in StockTable") == "(in symbol StockTable)")
        #expect(expr("S.symbol in T and x") == "(and (in S.symbol T) x)")
        #expect(expr("a + b in T") == "(in (+ a b) T)")
        // Looser than comparisons, as in Siddhi's grammar: the guide's `T.roomNo == roomNo in T`.
        #expect(expr("T.x == x in T") == "(in (== T.x x) T)")
        #expect(expr("not (symbol in T)") == "(not (in symbol T))")
    }

    @Test func isNotNullHasAHint() {
        let d = expressionError("a is not null")
        #expect(d?.message.contains("not (x is null)") == true)
        #expect(d?.range.start.column == 6)
    }

    @Test func variables() throws {
        #expect(expr("price") == "price")
        #expect(expr("S.price") == "S.price")
        #expect(expr("#S.price") == "#S.price")
        #expect(expr("e1.price") == "e1.price")
        #expect(expr("e1[0].price") == "e1[0].price")
        #expect(expr("e1[3].price") == "e1[3].price")
        #expect(expr("e1[last].price") == "e1[last].price")
        #expect(expr("e1[last-1].price") == "e1[last-1].price")
        #expect(expr("e1[last - 2].price") == "e1[last-2].price")
        #expect(expr("`select`") == "select")
        #expect(expr("S.`from`") == "S.from")
        #expect(expr("T.last") == "T.last")
        let e = try SiddhiParser.parseExpression("#Inner[last].price")
        guard case .variable(let v) = e.kind else {
            Issue.record("not a variable")
            return
        }
        #expect(v.qualifier?.name == "Inner")
        #expect(v.isInnerQualifier)
        #expect(v.index == .last(minus: 0))
        #expect(v.attribute.name == "price")
        #expect(v.attribute.range.start.column == 14)
        #expect(e.range.start.column == 1)
        #expect(e.range.end.column == 19)
    }

    @Test func keywordsCanNameAttributes() {
        #expect(expr("time + end") == "(+ time end)")
        #expect(expr("from == 'a'") == "(== from 'a')")
        #expect(expr("min(price)") == "min(price)")
        #expect(expr("sec") == "sec")
    }

    @Test func functionCalls() throws {
        #expect(expr("f(a, b)") == "f(a, b)")
        #expect(expr("str:concat(a, 'x', 1)") == "str:concat(a, 'x', 1)")
        #expect(expr("count()") == "count()")
        #expect(expr("count(*)") == "count()")
        #expect(expr("math:abs(-x) + 1") == "(+ math:abs((neg x)) 1)")
        #expect(expr("f(g(a), h())") == "f(g(a), h())")
        #expect(expr("ifThenElse(a > 1, 'x', 'y')") == "ifThenElse((> a 1), 'x', 'y')")
        let e = try SiddhiParser.parseExpression("str:concat(a)")
        guard case .function(let f) = e.kind else {
            Issue.record("not a function")
            return
        }
        #expect(f.namespace?.name == "str")
        #expect(f.name.name == "concat")
        #expect(f.range.end.column == 14)
    }

    @Test func ranges() throws {
        let source = "a + (b * 2)"
        let e = try SiddhiParser.parseExpression(source)
        #expect(text(source, e.range) == "a + (b * 2)")
        guard case .arithmetic(_, let left, let right) = e.kind else {
            Issue.record("not arithmetic")
            return
        }
        #expect(text(source, left.range) == "a")
        #expect(text(source, right.range) == "(b * 2)")
        let n = try SiddhiParser.parseExpression("x is null")
        #expect(text("x is null", n.range) == "x is null")
        let t = try SiddhiParser.parseExpression("not a in T")
        #expect(text("not a in T", t.range) == "not a in T")
    }

    @Test func expressionErrors() {
        let missing = expressionError("a + ")
        #expect(missing?.message == "unexpected end of input — expected an expression")
        #expect(missing?.range.start.column == 5)
        let paren = expressionError("(a + b")
        #expect(paren?.message.contains("expected ')' to close the '(' at 1:1") == true)
        let args = expressionError("f(a b)")
        #expect(args?.message == "unexpected 'b' — expected ')' to close the arguments of 'f'")
        #expect(args?.range.start.column == 5)
        let trailing = expressionError("a b")
        #expect(trailing?.message.contains("expected end of input") == true)
        #expect(trailing?.range.start.column == 3)
        let index = expressionError("e1[x].a")
        #expect(index?.message.contains("'last'") == true)
        #expect(index?.range.start.column == 4)
        let dangling = expressionError("e1[0] + 1")
        #expect(dangling?.message.contains("expected '.' and an attribute name") == true)
        #expect(dangling?.range.start.column == 7)
        #expect(expressionError("a == ")?.range.start.column == 6)
        #expect(expressionError("a is 5")?.message == "unexpected '5' — expected 'null' after 'is'")
    }
}

@Suite struct NestingLimitTests {
    @Test func deepNestingIsADiagnosticNotAStackOverflow() {
        let deep = String(repeating: "(", count: 10_000) + "1" + String(repeating: ")", count: 10_000)
        #expect(throws: Diagnostic.self) { try SiddhiParser.parseExpression(deep) }
        let app = "define stream S (a int);\nfrom S[" + deep + " > 0] select a insert into O;"
        do {
            _ = try SiddhiParser.parse(app)
            Issue.record("a 10,000-level expression parsed")
        } catch {
            #expect(error.message.contains("nested more than 64 levels"))
            #expect(error.range.start.line == 2)
        }
        let annotations = String(repeating: "@a(", count: 500) + String(repeating: ")", count: 500)
        #expect(throws: Diagnostic.self) { try SiddhiParser.parse(annotations + "\ndefine stream S (a int);") }
    }

    @Test func ordinaryNestingStillParses() {
        let sixty = String(repeating: "(", count: 60) + "a + 1" + String(repeating: ")", count: 60)
        #expect(expr(sixty) == "(+ a 1)")
    }
}
