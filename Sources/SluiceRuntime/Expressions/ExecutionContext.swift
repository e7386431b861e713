import SluiceCore

/// Engine-wide state that expressions may read: the clock and a deterministic UUID source.
/// Owned by one app runtime and touched only by its thread.
final class ExecutionContext: @unchecked Sendable {
    var now: Int64 = 0
    /// Whether the clock has had its first position (the first event or tick).
    var clockStarted = false
    /// Set while a batch is being sent whose events are each a chunk of their own.
    var eachEventIsAChunk = false
    /// Set while the input being applied comes from a stream with `@OnError(action='WAIT')`:
    /// a stored table's failed write is tried again until it lands.
    var storeWritesWait = false
    /// Stored-table writes given up on while the current input was applied.
    var storeFailures: [StoreWriteFailure] = []
    /// Told of every failed stored-table write, retried or not (logs, metrics).
    var storeFailureObserver: ((StoreWriteFailure) -> Void)?
    private var uuidState: UInt64

    init(seed: UInt64) { uuidState = seed }

    /// A version-4-shaped UUID drawn from a seeded generator, so replicas agree and snapshots carry it.
    func nextUUID() -> String {
        var bytes = [UInt8](repeating: 0, count: 16)
        for half in 0..<2 {
            let v = splitMix()
            for i in 0..<8 { bytes[half * 8 + i] = UInt8(truncatingIfNeeded: v >> (UInt64(i) * 8)) }
        }
        bytes[6] = (bytes[6] & 0x0F) | 0x40
        bytes[8] = (bytes[8] & 0x3F) | 0x80
        let hex = Array("0123456789abcdef".utf8)
        var out = [UInt8]()
        out.reserveCapacity(36)
        for (i, b) in bytes.enumerated() {
            if i == 4 || i == 6 || i == 8 || i == 10 { out.append(UInt8(ascii: "-")) }
            out.append(hex[Int(b >> 4)])
            out.append(hex[Int(b & 0x0F)])
        }
        return String(decoding: out, as: UTF8.self)
    }

    func storeWriteFailed(_ failure: StoreWriteFailure) {
        storeFailureObserver?(failure)
        if !failure.willRetry { storeFailures.append(failure) }
    }

    private func splitMix() -> UInt64 {
        uuidState &+= 0x9E37_79B9_7F4A_7C15
        var z = uuidState
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }

    func snapshot(into w: inout StateWriter) {
        w.write(now)
        w.write(clockStarted)
        w.write(uuidState)
    }

    func restore(from r: inout StateReader) throws {
        now = try r.readInt64()
        clockStarted = try r.readBool()
        uuidState = try r.readUInt64()
    }
}

/// FNV-1a over UTF-8: a stable seed from an app's name.
func stableHash(_ text: String) -> UInt64 {
    var h: UInt64 = 0xcbf2_9ce4_8422_2325
    for b in text.utf8 {
        h ^= UInt64(b)
        h = h &* 0x100_0000_01b3
    }
    return h
}
