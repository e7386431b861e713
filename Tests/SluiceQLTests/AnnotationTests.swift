import SluiceCore
@testable import SluiceQL
import Testing

@Suite struct AnnotationTests {
    @Test func appAnnotations() throws {
        let app = try SiddhiParser.parse("""
        @app:name('StockApp')
        @App:description("Tracks stocks")
        @app:playback
        @app:statistics(reporter = 'console', interval = '5')

        define stream S (a int);
        """)
        #expect(app.name == "StockApp")
        #expect(app.annotations.map(\.name) == ["app:name", "App:description", "app:playback", "app:statistics"])
        #expect(app.annotations[1].value(nil) == "Tracks stocks")
        #expect(app.annotations[2].elements.isEmpty)
        #expect(app.annotations[3].value("reporter") == "console")
        guard case .stream(let s) = app.definitions[0] else { return }
        #expect(s.annotations.isEmpty)
        #expect(s.range.start.line == 6)
    }

    @Test func appAnnotationsAlone() throws {
        let app = try SiddhiParser.parse("@app:name('Empty')")
        #expect(app.name == "Empty")
        #expect(app.definitions.isEmpty)
        let withSemicolon = try SiddhiParser.parse("@app:name('Empty');")
        #expect(withSemicolon.name == "Empty")
    }

    @Test func appAnnotationsMixWithStatementAnnotations() throws {
        let app = try SiddhiParser.parse("@app:name('X') @source(type='tcp', @map(type='binary')) define stream S (a int)")
        #expect(app.name == "X")
        guard case .stream(let s) = app.definitions[0] else { return }
        #expect(s.annotations.count == 1)
        #expect(s.annotations[0].name == "source")
        #expect(s.annotations[0].value("type") == "tcp")
        #expect(s.annotations[0].annotations[0].name == "map")
        #expect(s.annotations[0].annotations[0].value("type") == "binary")
        #expect(s.range.start.column == 16)
    }

    @Test func nestedSinkAnnotations() throws {
        let source = """
        @sink(type='http', @map(type='json'), @distribution(strategy='partitioned', partitionKey='k', @destination(publisher.url='http://a:1/R'), @destination(group='g1')))
        define stream R (k string);
        """
        guard case .stream(let s) = try definition(source) else { return }
        let sink = s.annotations[0]
        #expect(sink.name == "sink")
        #expect(sink.elements.count == 1)
        #expect(sink.annotations.map(\.name) == ["map", "distribution"])
        let distribution = sink.annotations[1]
        #expect(distribution.value("strategy") == "partitioned")
        #expect(distribution.value("partitionKey") == "k")
        #expect(distribution.annotations.count == 2)
        #expect(distribution.annotations[0].value("publisher.url") == "http://a:1/R")
        #expect(distribution.annotations[0].elements[0].key == "publisher.url")
        #expect(distribution.annotations[1].value("group") == "g1")
        #expect(text(source, distribution.annotations[0].range) == "@destination(publisher.url='http://a:1/R')")
        #expect(text(source, distribution.annotations[0].elements[0].range) == "publisher.url='http://a:1/R'")
        #expect(text(source, sink.range).hasSuffix("@destination(group='g1')))"))
    }

    @Test func elementForms() throws {
        let source = """
        @Async(buffer.size='1024', workers=2, batch.size.max = 10L, enabled=true, 'quoted key'='v', client-id='c', a:b='x')
        @purge(enable='true', interval='10 sec', idle.period='1 hour')
        @info(name = 'q1')
        @positional('a', 5, -3, false, 1.5)
        @empty()
        define stream S (a int)
        """
        guard case .stream(let s) = try definition(source) else { return }
        let a = s.annotations[0]
        #expect(a.name == "Async")
        #expect(a.elements.map(\.key) == ["buffer.size", "workers", "batch.size.max", "enabled", "quoted key", "client-id", "a:b"])
        #expect(a.elements.map(\.value) == ["1024", "2", "10L", "true", "v", "c", "x"])
        #expect(s.annotations[1].value("idle.period") == "1 hour")
        #expect(s.annotations[2].value("name") == "q1")
        #expect(s.annotations[3].elements.map(\.value) == ["a", "5", "-3", "false", "1.5"])
        #expect(s.annotations[3].elements.allSatisfy { $0.key == nil })
        #expect(s.annotations[4].elements.isEmpty)
    }

    @Test func tripleQuotedPayload() throws {
        let source = #"""
        @sink(type='log', @map(type='text', @payload("""Symbol: {{symbol}}
        Price: {{price}}""")))
        define stream S (symbol string, price double)
        """#
        guard case .stream(let s) = try definition(source) else { return }
        #expect(s.annotations[0].annotations[0].annotations[0].value(nil) == "Symbol: {{symbol}}\nPrice: {{price}}")
    }

    @Test func annotationErrors() {
        expectError("@sink(type='http' @map(type='json')) define stream S (a int)", at: 1, 19, "expected ',' or ')' to close the annotation '@sink'")
        expectError("@sink(type=http) define stream S (a int)", at: 1, 12, "expected a quoted value for 'type'")
        expectError("@sink(type 'x') define stream S (a int)", at: 1, 12, "expected '=' after the annotation key 'type'")
        expectError("@(type='x') define stream S (a int)", at: 1, 2, "expected an annotation name after '@'")
        expectError("@info(name='x')", at: 1, 16, "expected 'define', 'from' or 'partition'")
        expectError("@sink(type='x',) define stream S (a int)", at: 1, 16, "expected an element of the annotation '@sink'")
    }
}
