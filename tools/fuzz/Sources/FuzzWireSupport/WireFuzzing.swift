// Checks shared by the wire fuzzers: what decodes must survive an encode/decode round trip
// unchanged. A broken invariant traps, which libFuzzer reports as a finding.
import NIOCore
import SluiceCore
import SluiceWire

/// Small limits keep each input fast; the checks run the same at any size.
public let fuzzLimits = WireLimits(maxFrameBytes: 1 << 16, maxDecompressedBytes: 1 << 20,
                                   maxCompressionRatio: 255, maxEventsPerBatch: 4_096)

/// The schemas the batch decoders are driven with; a batch input's first byte picks one.
public let fuzzSchemas: [[AttributeType]] = [
    [.string, .int, .long, .float, .double, .bool],
    Array(repeating: .string, count: 13) + [.long, .bool, .long, .long],  // the seed's Request
    [],
    [.string],
    [.long, .long],
    [.int, .float, .bool],
]

/// Decodes `payload` as a batch of `schema`; when it decodes, encoding it again and decoding that
/// must give the same events, and so must decoding into the recycled batch.
public func checkBatch(_ payload: ByteBuffer, schema: [AttributeType]) {
    guard let (header, batch) = try? BatchCodec.decode(payload, schema: schema, limits: fuzzLimits) else { return }
    var again = ByteBuffer()
    do {
        try BatchCodec.encode(batch, header: header, into: &again)
    } catch {
        fatalError("a decoded batch does not encode: \(error)")
    }
    guard let (header2, batch2) = try? BatchCodec.decode(again, schema: schema, limits: fuzzLimits) else {
        fatalError("a re-encoded batch does not decode")
    }
    precondition(header2 == header && sameEvents(batch, batch2), "the round trip changed the batch")
    var recycled = batch2
    guard (try? BatchCodec.decode(payload, schema: schema, into: &recycled, limits: fuzzLimits)) == header,
          sameEvents(batch, recycled) else {
        fatalError("decoding into a recycled batch differs")
    }
}

/// Encoding a decoded frame and decoding it again gives the same frame.
public func checkFrame(_ frame: Frame, codec: FrameCodec) {
    var bytes = ByteBuffer()
    do {
        try codec.encode(kind: frame.kind, payload: frame.payload, into: &bytes)
    } catch let error as WireError where error.code == .frameTooLarge {
        // A payload LZ4 cannot shrink as well as the sender's block did: a limit, not a bug.
        return
    } catch {
        fatalError("a decoded frame does not encode: \(error)")
    }
    guard let back = try? codec.decode(from: &bytes), back == frame, bytes.readableBytes == 0 else {
        fatalError("the frame round trip changed the frame")
    }
}

/// Lane by lane; two NaNs count as equal (a float's NaN payload may be canonicalised).
public func sameEvents(_ a: EventBatch, _ b: EventBatch) -> Bool {
    guard a.timestamps == b.timestamps, a.kinds == b.kinds, a.columns.count == b.columns.count else { return false }
    for (x, y) in zip(a.columns, b.columns) {
        guard x.type == y.type, x.count == y.count, x.nulls == y.nulls, x.longs == y.longs,
              x.bools == y.bools, x.strings == y.strings, x.doubles.count == y.doubles.count else { return false }
        for (p, q) in zip(x.doubles, y.doubles) where p.bitPattern != q.bitPattern && !(p.isNaN && q.isNaN) {
            return false
        }
    }
    return true
}
