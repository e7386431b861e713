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

/// A decoder and a batch kept across inputs, as a connection keeps them: whatever earlier inputs
/// left in them (interned strings, a half-filled batch after a refusal) must not change what a
/// later input decodes to.
private var keptDecoder = BatchDecoder(limits: fuzzLimits)
private var keptBatch = EventBatch(types: [])

/// Decodes `payload` as a batch of `schema`. A kept decoder must agree with a fresh one, and what
/// decodes must encode and decode again to the same events.
public func checkBatch(_ payload: ByteBuffer, schema: [AttributeType]) {
    let fresh = try? BatchCodec.decode(payload, schema: schema, limits: fuzzLimits)
    let kept = try? keptDecoder.decode(payload, schema: schema, into: &keptBatch)
    precondition((fresh == nil) == (kept == nil), "a kept decoder and a fresh one disagree on refusing")
    guard let (header, batch) = fresh else { return }
    precondition(kept == header && sameEvents(batch, keptBatch), "a kept decoder decodes differently")
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
