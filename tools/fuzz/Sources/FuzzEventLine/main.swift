// libFuzzer entry for the `run` contract's input lines: JSONParser and EventLineCodec.
// Built with `-parse-as-library`, so this file has no top-level code; libFuzzer provides main().
import SluiceCore
import SluiceRuntime

private let schema = StreamSchema(name: "S", attributes: [
    .init(name: "a", type: .string),
    .init(name: "b", type: .int),
    .init(name: "c", type: .double),
    .init(name: "d", type: .bool),
])

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzEventLine(_ start: UnsafeRawPointer?, _ count: Int) -> CInt {
    let bytes = UnsafeRawBufferPointer(start: start, count: count)
    // Invalid UTF-8 is repaired to U+FFFD, as the CLI's line reader does.
    let line = String(decoding: bytes, as: UTF8.self)
    // Either call may throw a JSONError for bad input; only a crash is a finding.
    _ = try? JSONParser.parse(line)
    _ = try? EventLineCodec.decode(line) { $0 == schema.name ? schema : nil }
    return 0
}
