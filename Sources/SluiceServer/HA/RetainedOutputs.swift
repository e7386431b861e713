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

    /// Bounds on what is kept: a subscriber that stays away longer than these allow misses outputs.
    let maxBatches: Int
    let maxEvents: Int
    private var kept: [Output] = []
    private var head = 0
    private var events = 0

    init(maxBatches: Int = 16_384, maxEvents: Int = 2_000_000) {
        self.maxBatches = maxBatches
        self.maxEvents = maxEvents
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

    /// What `stream` output after `sequence`, oldest first.
    func after(_ sequence: UInt64, stream: String) -> [Output] {
        kept[head...].filter { $0.sequence > sequence && $0.stream == stream }
    }

    private mutating func dropOldest() {
        events -= kept[head].batch.count
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
