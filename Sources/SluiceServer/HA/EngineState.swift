import SluiceRuntime
import SluiceTransport

/// What an HA snapshot holds besides the app's state: the producers' applied sequences (so that
/// retries stay deduplicated after a catch-up), the forwarded outputs of other groups applied so
/// far, and the output sequence (so that both nodes keep numbering outputs alike).
struct EngineState: Sendable {
    var runtime: [UInt8]
    var sequences: [UInt64]
    var outputSequence: UInt64
    var origins: OriginSequences

    private static let magic: [UInt8] = Array("SLCHA3".utf8)

    init(runtime: [UInt8], sequences: [UInt64], outputSequence: UInt64, origins: OriginSequences = OriginSequences()) {
        self.runtime = runtime
        self.sequences = sequences
        self.outputSequence = outputSequence
        self.origins = origins
    }

    /// Bytes before the app state: magic, output sequence, sequences, origins, the app state's size.
    private static func headerSize(sequences: Int, terms: [String: UInt64], applied: [OriginSequences.Applied]) -> Int {
        func stringSize(_ text: String) -> Int { 8 + text.utf8.count }
        var size = magic.count + 8 + 8 + 8 * sequences + 8
        for key in terms.keys { size += stringSize(key) + 8 }
        size += 8
        for a in applied { size += stringSize(a.key) + 16 }
        return size + 8
    }

    var encoded: [UInt8] {
        var w = StateWriter()
        for b in Self.magic { w.write(b) }
        w.write(outputSequence)
        w.write(UInt64(sequences.count))
        for s in sequences { w.write(s) }
        w.write(UInt64(origins.terms.count))
        for key in origins.terms.keys.sorted() {
            w.write(key)
            w.write(origins.terms[key]!)
        }
        let remembered = origins.remembered
        w.write(UInt64(remembered.count))
        for a in remembered {
            w.write(a.key)
            w.write(a.sequence)
            w.write(a.part)
        }
        w.write(UInt64(runtime.count))
        var bytes = w.bytes
        bytes += runtime
        return bytes
    }

    init(decoding bytes: [UInt8]) throws {
        var r = StateReader(bytes)
        for b in Self.magic where try r.readUInt8() != b { throw SnapshotError("not an HA engine snapshot") }
        outputSequence = try r.readUInt64()
        let count = try r.readUInt64()
        guard count <= UInt64(bytes.count / 8) else { throw SnapshotError("producer sequences overrun the snapshot") }
        sequences = try (0..<count).map { _ in try r.readUInt64() }
        let termCount = try r.readUInt64()
        guard termCount <= UInt64(bytes.count / 16) else { throw SnapshotError("origin terms overrun the snapshot") }
        var terms: [String: UInt64] = [:]
        for _ in 0..<termCount {
            let key = try r.readString()
            terms[key] = try r.readUInt64()
        }
        let appliedCount = try r.readUInt64()
        guard appliedCount <= UInt64(bytes.count / 24) else { throw SnapshotError("origin identities overrun the snapshot") }
        var applied: [OriginSequences.Applied] = []
        for _ in 0..<appliedCount {
            let key = try r.readString()
            applied.append(.init(key: key, sequence: try r.readUInt64(), part: try r.readUInt64()))
        }
        origins = OriginSequences(terms: terms, applied: applied)
        let size = try r.readUInt64()
        guard size <= UInt64(bytes.count) else { throw SnapshotError("the app state overruns the snapshot") }
        let start = bytes.count - Int(size)
        // What precedes the app state must be exactly what was read.
        guard Self.headerSize(sequences: sequences.count, terms: terms, applied: applied) == start else {
            throw SnapshotError("the app state does not fill the snapshot")
        }
        runtime = Array(bytes[start...])
    }
}
