import SluiceCore

/// The key of an event for the frequency windows: the chosen attributes' values.
private func frequencyKey(_ batch: EventBatch, _ row: Int, _ columns: [Int]) -> [Value] {
    columns.map { batch.columns[$0].value(at: row) }
}

/// `frequent(n[, attrs…])`: Misra-Gries. Keeps the latest event of up to n frequent keys. A repeat of a
/// kept key replaces its stored event; a new key when all n slots are taken decrements
/// every count, expiring keys that reach zero, and is admitted only if a slot freed up.
final class FrequentWindow: WindowProcessor {
    let mostFrequent: Int
    let keyColumns: [Int]
    private var keys: [[Value]] = []
    private var counts: [Int] = []
    private var events: EventBatch

    init(mostFrequent: Int, keyColumns: [Int], types: [AttributeType], context: ExecutionContext, scheduler: Scheduler) {
        self.mostFrequent = mostFrequent
        self.keyColumns = keyColumns
        self.events = EventBatch(types: types)
        super.init(types: types, context: context, scheduler: scheduler)
    }

    private func removeSlot(_ i: Int) {
        keys.remove(at: i)
        counts.remove(at: i)
        events.remove(at: i)
    }

    override func process(_ chunk: EventBatch) {
        var out = newBatch()
        for row in 0..<chunk.count where chunk.kinds[row] == .current {
            let ts = chunk.timestamps[row]
            let key = frequencyKey(chunk, row, keyColumns)
            if let i = keys.firstIndex(of: key) {
                // The key's stored event is replaced silently, as Siddhi does.
                counts[i] += 1
                events.replace(row: i, with: chunk, row: row)
                out.append(from: chunk, row: row)
                continue
            }
            if keys.count < mostFrequent {
                keys.append(key)
                counts.append(1)
                events.append(from: chunk, row: row, kind: .current)
                out.append(from: chunk, row: row)
                continue
            }
            var i = 0
            while i < keys.count {
                counts[i] -= 1
                if counts[i] <= 0 {
                    out.append(from: events, row: i, kind: .expired, timestamp: ts)
                    removeSlot(i)
                } else {
                    i += 1
                }
            }
            if keys.count < mostFrequent {
                keys.append(key)
                counts.append(1)
                events.append(from: chunk, row: row, kind: .current)
                out.append(from: chunk, row: row)
            }
        }
        emit(out)
    }

    override func snapshot(into w: inout StateWriter) {
        w.write(keys.count)
        for (k, c) in zip(keys, counts) {
            w.write(k)
            w.write(c)
        }
        w.write(events)
    }

    override func restore(from r: inout StateReader) throws {
        keys = []
        counts = []
        for _ in 0..<(try r.readCount()) {
            keys.append(try r.readValues())
            counts.append(try r.readInt())
        }
        events = try r.readBatch()
    }
}

/// `lossyFrequent(support[, error][, attrs…])`: Manku-Motwani lossy counting. An event is emitted when its
/// key's count reaches (support − error) of all events; at each bucket boundary, keys whose
/// count can no longer be frequent are dropped and their latest events expire.
final class LossyFrequentWindow: WindowProcessor {
    let support: Double
    let error: Double
    let keyColumns: [Int]
    private let bucketWidth: Int
    private var total = 0
    private var keys: [[Value]] = []
    private var counts: [Int] = []
    private var deltas: [Int] = []
    private var events: EventBatch

    init(support: Double, error: Double, keyColumns: [Int], types: [AttributeType], context: ExecutionContext, scheduler: Scheduler) {
        self.support = support
        self.error = error
        self.keyColumns = keyColumns
        self.bucketWidth = max(1, Int((1 / max(error, 1e-9)).rounded(.up)))
        self.events = EventBatch(types: types)
        super.init(types: types, context: context, scheduler: scheduler)
    }

    override func process(_ chunk: EventBatch) {
        var out = newBatch()
        for row in 0..<chunk.count where chunk.kinds[row] == .current {
            let ts = chunk.timestamps[row]
            total += 1
            let bucket = (total + bucketWidth - 1) / bucketWidth
            let key = frequencyKey(chunk, row, keyColumns)
            var slot: Int
            if let i = keys.firstIndex(of: key) {
                counts[i] += 1
                events.replace(row: i, with: chunk, row: row)
                slot = i
            } else {
                keys.append(key)
                counts.append(1)
                deltas.append(bucket - 1)
                events.append(from: chunk, row: row, kind: .current)
                slot = keys.count - 1
            }
            if Double(counts[slot]) >= (support - error) * Double(total) {
                out.append(from: chunk, row: row)
            }
            if total % bucketWidth == 0 {
                var i = 0
                while i < keys.count {
                    if counts[i] + deltas[i] <= bucket {
                        out.append(from: events, row: i, kind: .expired, timestamp: ts)
                        keys.remove(at: i)
                        counts.remove(at: i)
                        deltas.remove(at: i)
                        events.remove(at: i)
                    } else {
                        i += 1
                    }
                }
            }
        }
        emit(out)
    }

    override func snapshot(into w: inout StateWriter) {
        w.write(total)
        w.write(keys.count)
        for i in keys.indices {
            w.write(keys[i])
            w.write(counts[i])
            w.write(deltas[i])
        }
        w.write(events)
    }

    override func restore(from r: inout StateReader) throws {
        total = try r.readInt()
        keys = []
        counts = []
        deltas = []
        for _ in 0..<(try r.readCount()) {
            keys.append(try r.readValues())
            counts.append(try r.readInt())
            deltas.append(try r.readInt())
        }
        events = try r.readBatch()
    }
}
