import SluiceCore
@testable import SluiceQL
import Testing

@Suite struct LexerTests {
    func kinds(_ source: String) throws -> [TokenKind] {
        try Lexer.tokenize(source).map(\.kind)
    }

    func texts(_ source: String) throws -> [String] {
        try Lexer.tokenize(source).dropLast().map(\.text)
    }

    @Test func identifiersAndKeywords() throws {
        let tokens = try Lexer.tokenize("from FROM From _x a1 `select`")
        #expect(tokens.map(\.kind) == [.identifier, .identifier, .identifier, .identifier, .identifier, .quotedIdentifier, .eof])
        #expect(tokens[0].keyword == .from)
        #expect(tokens[1].keyword == .from)
        #expect(tokens[2].keyword == .from)
        #expect(tokens[3].keyword == nil)
        #expect(tokens[5].keyword == nil)
        #expect(tokens[5].text == "select")
        #expect(tokens[2].text == "From")
    }

    @Test func numberSuffixes() throws {
        let tokens = try Lexer.tokenize("12 12L 12l 1.5 1.5F 1.5f 1.5D 1e3 1E-3 2e+2f 7d")
        #expect(tokens.map(\.kind) == [.int, .long, .long, .double, .float, .float, .double, .double, .double, .float, .double, .eof])
        #expect(try kinds("(.5") == [.leftParen, .double, .eof])
        #expect(try kinds("x .5") == [.identifier, .dot, .int, .eof])
        #expect(tokens[1].text == "12L")
        #expect(tokens[8].text == "1E-3")
    }

    @Test func numberFollowedByUnitWithoutSpace() throws {
        #expect(try kinds("10min") == [.int, .identifier, .eof])
        #expect(try texts("10min") == ["10", "min"])
        // `1days` is `1` then `days`, not the double `1d` then `ays`.
        #expect(try texts("1days") == ["1", "days"])
        #expect(try texts("5Lx") == ["5", "Lx"])
    }

    @Test func memberAccessAfterIndexIsNotANumber() throws {
        #expect(try kinds("e1[0].a") == [.identifier, .leftBracket, .int, .rightBracket, .dot, .identifier, .eof])
        #expect(try kinds("S.a") == [.identifier, .dot, .identifier, .eof])
        #expect(try kinds("sec ... year") == [.identifier, .tripleDot, .identifier, .eof])
        #expect(try kinds("sec...year") == [.identifier, .tripleDot, .identifier, .eof])
    }

    @Test func operatorsAndPunctuation() throws {
        let source = "-> , ; ( ) [ ] . : # ! @ = == != < <= > >= + - * / % ?"
        #expect(try kinds(source) == [
            .arrow, .comma, .semicolon, .leftParen, .rightParen, .leftBracket, .rightBracket, .dot, .colon, .hash, .bang, .atSign,
            .assign, .equal, .notEqual, .less, .lessOrEqual, .greater, .greaterOrEqual, .plus, .minus, .star, .slash, .percent,
            .question, .eof,
        ])
        #expect(try kinds("a->b") == [.identifier, .arrow, .identifier, .eof])
        #expect(try kinds("<2:5>") == [.less, .int, .colon, .int, .greater, .eof])
    }

    @Test func strings() throws {
        let tokens = try Lexer.tokenize(#"'it' "say 'hi'" 'a "b"' '' """x "y" \n\t\u0041""""#)
        #expect(tokens.map(\.kind) == [.string, .string, .string, .string, .string, .eof])
        #expect(tokens[0].text == "it")
        #expect(tokens[1].text == "say 'hi'")
        #expect(tokens[2].text == "a \"b\"")
        #expect(tokens[3].text == "")
        #expect(tokens[4].text == "x \"y\" \n\tA")
    }

    @Test func tripleQuotedStringSpansLines() throws {
        let tokens = try Lexer.tokenize("\"\"\"a\nb\"\"\" x")
        #expect(tokens[0].text == "a\nb")
        #expect(tokens[1].range.start.line == 2)
        #expect(tokens[1].range.start.column == 6)
    }

    @Test func comments() throws {
        let source = """
        a -- line comment
        b // another
        /* block
           comment */ c /**/ d
        """
        #expect(try texts(source) == ["a", "b", "c", "d"])
        let tokens = try Lexer.tokenize(source)
        #expect(tokens[2].range.start.line == 4)
        #expect(tokens[2].range.start.column == 15)
    }

    @Test func linesAndColumns() throws {
        let tokens = try Lexer.tokenize("ab  cd\n\tef\r\ngh\rij")
        let positions = tokens.map { "\($0.range.start.line):\($0.range.start.column)" }
        #expect(positions == ["1:1", "1:5", "2:2", "3:1", "4:1", "4:3"])
        #expect(tokens[0].range.end.column == 3)
        #expect(tokens[1].range.start.offset == 4)
    }

    @Test func columnsCountCharactersNotBytes() throws {
        let tokens = try Lexer.tokenize("'héllo→' x")
        #expect(tokens[0].text == "héllo→")
        #expect(tokens[1].range.start.column == 10)
        #expect(tokens[1].range.start.offset == 12)
    }

    @Test func functionBodyIsVerbatim() throws {
        let source = "{ var s = '}'; // }\n if (a) { return \"{\"; } /* } */ }"
        let tokens = try Lexer.tokenize(source)
        #expect(tokens.map(\.kind) == [.script, .eof])
        #expect(tokens[0].text == " var s = '}'; // }\n if (a) { return \"{\"; } /* } */ ")
    }

    @Test func errors() {
        func error(_ s: String) -> Diagnostic? {
            do {
                _ = try Lexer.tokenize(s)
                return nil
            } catch {
                return error
            }
        }
        let unterminated = error("a 'abc\nb")
        #expect(unterminated?.message == "unterminated string literal")
        #expect(unterminated?.range.start.column == 3)
        #expect(error("\"\"\"abc")?.message == "unterminated string literal")
        #expect(error("x /* abc")?.message == "unterminated block comment")
        #expect(error("x /* abc")?.range.start.column == 3)
        #expect(error("`abc")?.message == "unterminated quoted identifier")
        #expect(error("{ abc")?.message == "unterminated function body")
        let bad = error("a $ b")
        #expect(bad?.message == "unexpected character '$'")
        #expect(bad?.range.start.column == 3)
        #expect(error("é é ☃")?.message == "unexpected character 'é'")
        #expect(error("a\n  ☃")?.range.start.column == 3)
    }
}
