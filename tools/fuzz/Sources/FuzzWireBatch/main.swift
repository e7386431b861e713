// libFuzzer entry for the columnar batch decoder alone: the first byte picks a schema from
// fuzzSchemas, the rest is one sluice.v1.EventBatch message.
// Built with `-parse-as-library`, so this file has no top-level code; libFuzzer provides main().
import FuzzWireSupport
import NIOCore

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzWireBatch(_ start: UnsafeRawPointer?, _ count: Int) -> CInt {
    let bytes = UnsafeRawBufferPointer(start: start, count: count)
    guard let first = bytes.first else { return 0 }
    let schema = fuzzSchemas[Int(first) % fuzzSchemas.count]
    checkBatch(ByteBuffer(bytes: bytes.dropFirst()), schema: schema)
    return 0
}
