import Testing
@testable import SluiceRuntime

@Suite struct DiagnosticTests {
    @Test func seedAppsStrayCommaIsPointedAt() {
        let app = "define stream ApiStream (apiName string, apiCreator string,, apiTier string);"
        #expect(deployError(app)?.hasPrefix("1:60: unexpected ','") == true)
    }

    @Test func undefinedStream() {
        let app = "define stream S (a int);\nfrom T select a insert into Out;"
        #expect(deployError(app) == "2:6: stream 'T' is not defined")
    }

    @Test func undefinedAttributePointsAtIt() {
        let app = "define stream S (a int);\nfrom S[a > 1] select a, bogus insert into Out;"
        #expect(deployError(app) == "2:25: attribute 'bogus' is not defined")
    }

    @Test func stringComparedWithInt() {
        let app = "define stream S (a int, s string);\nfrom S[s > 5] select a insert into Out;"
        #expect(deployError(app)?.hasPrefix("2:8: cannot compare string with int") == true)
    }

    @Test func unknownWindowAndFunction() {
        #expect(deployError("define stream S (a int);\nfrom S#window.lengthy(2) select a insert into Out;") == "2:15: unknown window 'lengthy'")
        #expect(deployError("define stream S (a int);\nfrom S select foo(a) as b insert into Out;") == "2:15: unknown function 'foo'")
    }

    @Test func aggregateInFilterIsRefused() {
        let app = "define stream S (a int);\nfrom S[sum(a) > 1] select a insert into Out;"
        #expect(deployError(app) == "2:8: aggregate function 'sum' is not allowed in a filter")
    }

    @Test func windowArgumentsAreChecked() {
        #expect(deployError("define stream S (a int);\nfrom S#window.length('x') select a insert into Out;")?
            .hasPrefix("2:22: window 'length' needs a constant length") == true)
        #expect(deployError("define stream S (a int);\nfrom S#window.externalTime(a, 1 sec) select a insert into Out;")?
            .hasPrefix("2:28: window 'externalTime' needs a long attribute") == true)
    }

    @Test func queryMayReadAStreamALaterQueryDefines() throws {
        let app = """
        define stream S (a int);
        from Mid select a insert into Out;
        from S select a insert into Mid;
        """
        #expect(try run(app, [event("S", 1, "7")]) == ["Mid [7]", "Out [7]"])
    }

    @Test func malformedInputLineNamesItsNumber() throws {
        let runner = try PlaybackRunner(source: "define stream S (a int);\nfrom S select a insert into Out;") { _ in }
        try runner.feed(line: event("S", 1, "1"), number: 1)
        #expect(throws: RuntimeError.self) { try runner.feed(line: "{\"stream\":\"S\",\"timestamp\":2,\"data\":[\"x\"]}", number: 2) }
        do {
            try runner.feed(line: "{nope", number: 3)
        } catch {
            #expect(error.description.hasPrefix("line 3:"))
        }
    }
}
