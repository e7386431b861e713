import SluiceCore

/// The outputs an HA data node keeps after computing them, so that a subscriber that followed a
/// failover can resume where it stopped. Both nodes retain; entries go once the leader reports them
/// delivered (the replicated watermark) or when the bound is reached, oldest first.
struct RetainedOutputs {
    struct Output {
        var sequence: UInt64
        var stream: String
        var batch: EventBatch
    }

    /// Bounds on what is kept: a subscriber that stays away longer than these allow misses outputs,
    /// and is told so (`gap(after:stream:)`).
    let maxBatches: Int
    let maxEvents: Int
    private var kept: [Output] = []
    private var head = 0
    private var events = 0
    /// Per stream, the newest output no longer kept.
    private var droppedThrough: [String: UInt64] = [:]
    /// Every output through this sequence is unknown here, whatever its stream: a node that restored
    /// a snapshot never held the outputs before it.
    private let unknownThrough: UInt64

    init(maxBatches: Int = 16_384, maxEvents: Int = 2_000_000, unknownThrough: UInt64 = 0) {
        self.maxBatches = maxBatches
        self.maxEvents = maxEvents
        self.unknownThrough = unknownThrough
    }

    var count: Int { kept.count - head }

    mutating func append(sequence: UInt64, stream: String, batch: EventBatch) {
        kept.append(Output(sequence: sequence, stream: stream, batch: batch))
        events += batch.count
        while count > maxBatches || (events > maxEvents && count > 1) { dropOldest() }
        compact()
    }

    mutating func release(through sequence: UInt64) {
        while head < kept.count, kept[head].sequence <= sequence { dropOldest() }
        compact()
    }

    /// The outputs after `sequence` that `stream` may have had and that are no longer here, if any:
    /// a subscriber resuming there would silently miss them.
    func gap(after sequence: UInt64, stream: String) -> ClosedRange<UInt64>? {
        let gone = max(unknownThrough, droppedThrough[stream] ?? 0)
        return gone > sequence ? (sequence + 1)...gone : nil
    }

    /// What `stream` output after `sequence`, oldest first.
    func after(_ sequence: UInt64, stream: String) -> [Output] {
        kept[head...].filter { $0.sequence > sequence && $0.stream == stream }
    }

    private mutating func dropOldest() {
        events -= kept[head].batch.count
        droppedThrough[kept[head].stream] = max(droppedThrough[kept[head].stream] ?? 0, kept[head].sequence)
        kept[head] = Output(sequence: 0, stream: "", batch: EventBatch(types: []))
        head += 1
    }

    private mutating func compact() {
        if head > 1024, head * 2 > kept.count {
            kept.removeFirst(head)
            head = 0
        }
    }
}
