import SluiceCore
import SluiceWire

/// Cuts a batch the caller hands over whole into parts a node accepts: at most
/// `maxEventsPerBatch` events, and an encoded size well under `maxDecompressedBytes`
/// (estimated from the columns, with strings counted from their arenas). Rows keep their order,
/// so each part is a run of the original.
public enum BatchSplitter {
    public static func parts(of batch: EventBatch, limits: WireLimits) -> [EventBatch] {
        let n = batch.count
        guard n > 1 else { return [batch] }
        let bytes = estimatedBytes(batch)
        // Half the limit leaves room for the estimate being off (varints, bitmaps, headers).
        let byteBudget = max(1, limits.maxDecompressedBytes / 2)
        let byBytes = (bytes + byteBudget - 1) / byteBudget
        let byEvents = (n + limits.maxEventsPerBatch - 1) / limits.maxEventsPerBatch
        let count = min(n, max(1, byBytes, byEvents))
        guard count > 1 else { return [batch] }
        let size = (n + count - 1) / count
        return stride(from: 0, to: n, by: size).map { start in
            var part = EventBatch(types: batch.types, capacity: min(size, n - start))
            part.append(from: batch, rows: start..<min(n, start + size))
            return part
        }
    }

    /// An upper estimate of the batch's encoded size before compression.
    static func estimatedBytes(_ batch: EventBatch) -> Int {
        var total = 16 + batch.count * 11
        for column in batch.columns {
            switch column.type {
            case .string:
                if let coded = column.strings.valueCodes {
                    // The encoder sends the smaller form, so the dictionary form bounds it: each value once, a reference per row.
                    total += coded.values.lane.bytes.count + coded.count * 5 + column.count * 5
                } else {
                    total += column.strings.bytes.count + column.count * 5
                }
            case .bool: total += column.count
            default: total += column.count * 10
            }
        }
        return total
    }
}
