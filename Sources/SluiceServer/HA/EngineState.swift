import SluiceRuntime

/// What an HA snapshot holds besides the app's state: the producers' applied sequences (so that
/// retries stay deduplicated after a catch-up) and the output sequence (so that both nodes keep
/// numbering outputs alike).
struct EngineState: Sendable {
    var runtime: [UInt8]
    var sequences: [UInt64]
    var outputSequence: UInt64

    private static let magic: [UInt8] = Array("SLCHA1".utf8)

    init(runtime: [UInt8], sequences: [UInt64], outputSequence: UInt64) {
        self.runtime = runtime
        self.sequences = sequences
        self.outputSequence = outputSequence
    }

    var encoded: [UInt8] {
        var w = StateWriter()
        for b in Self.magic { w.write(b) }
        w.write(outputSequence)
        w.write(UInt64(sequences.count))
        for s in sequences { w.write(s) }
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
        let size = try r.readUInt64()
        let start = Self.magic.count + 8 * (3 + Int(count))
        guard UInt64(bytes.count - start) == size else { throw SnapshotError("the app state does not fill the snapshot") }
        runtime = Array(bytes[start...])
    }
}
