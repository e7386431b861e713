// libFuzzer entry for SiddhiQL apps: SiddhiParser, then deploying what parses with AppRuntime.
// Built with `-parse-as-library`, so this file has no top-level code; libFuzzer provides main().
import SluiceQL
import SluiceRuntime

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzSiddhiQL(_ start: UnsafeRawPointer?, _ count: Int) -> CInt {
    let bytes = UnsafeRawBufferPointer(start: start, count: count)
    let source = String(decoding: bytes, as: UTF8.self)
    // A parse or deploy error is a Diagnostic; only a crash is a finding.
    guard let app = try? SiddhiParser.parse(source) else { return 0 }
    _ = try? AppRuntime(app: app)
    return 0
}
