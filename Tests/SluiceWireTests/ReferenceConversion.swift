import Foundation
import SluiceCore
import SluiceWire

/// An independent reading of `batch.proto` through swift-protobuf's generated types: the interop
/// tests compare the hand-written codec against it in both directions.
enum Reference {
    struct Mismatch: Error, CustomStringConvertible { var description: String }

    static func message(_ batch: EventBatch, header: BatchHeader, deltaLongs: Bool,
                        dictionaryStrings: Bool = false) -> Sluice_V1_EventBatch {
        var m = Sluice_V1_EventBatch()
        m.streamID = header.streamID
        m.producerID = header.producerID
        m.sequence = header.sequence
        m.eventCount = UInt32(batch.count)
        var previous: Int64 = 0
        m.timestampDeltas = batch.timestamps.map { t in defer { previous = t }; return t &- previous }
        m.columns = batch.columns.map { column in
            var c = Sluice_V1_Column()
            c.type = column.type.wireValue!
            switch column.type {
            case .int, .long:
                if deltaLongs {
                    var previous: Int64 = 0
                    c.longs = column.longs.map { v in defer { previous = v }; return v &- previous }
                    c.longsDelta = true
                } else {
                    c.longs = column.longs
                }
            case .float: c.floats = column.doubles.map { Float($0) }
            case .double: c.doubles = column.doubles
            case .bool: c.bools = column.bools
            case .string where dictionaryStrings:
                var index: [[UInt8]: UInt32] = [:]
                var distinct: [[UInt8]] = []
                c.stringRefs = column.strings.map { s in
                    let bytes = Array(s.utf8)
                    if let i = index[bytes] { return i }
                    index[bytes] = UInt32(distinct.count)
                    distinct.append(bytes)
                    return UInt32(distinct.count - 1)
                }
                c.stringLengths = distinct.map { UInt32($0.count) }
                c.stringArena = Data(distinct.joined())
            case .string:
                c.stringLengths = column.strings.map { UInt32($0.utf8.count) }
                c.stringArena = Data(column.strings.flatMap { Array($0.utf8) })
            case .object: break
            }
            if column.nulls.contains(true) {
                var bitmap = [UInt8](repeating: 0, count: (column.count + 7) / 8)
                for (row, isNull) in column.nulls.enumerated() where isNull { bitmap[row / 8] |= 1 << (row % 8) }
                c.nullBitmap = Data(bitmap)
            }
            return c
        }
        if batch.kinds.contains(where: { $0 != .current }) {
            m.kinds = batch.kinds.map { Sluice_V1_EventKind(rawValue: Int($0.rawValue))! }
        }
        return m
    }

    static func batch(_ m: Sluice_V1_EventBatch) throws -> (BatchHeader, EventBatch) {
        let n = Int(m.eventCount)
        var previous: Int64 = 0
        let timestamps = m.timestampDeltas.map { d in previous = previous &+ d; return previous }
        guard timestamps.count == n else { throw Mismatch(description: "timestamps") }
        let columns: [Column] = try m.columns.map { c in
            guard let type = AttributeType(wireValue: c.type) else { throw Mismatch(description: "type") }
            var column: Column
            switch type {
            case .int, .long:
                var longs = c.longs
                if c.longsDelta {
                    var running: Int64 = 0
                    longs = longs.map { running = running &+ $0; return running }
                }
                column = Column(longs: longs, type: type)
            case .float: column = Column(doubles: c.floats.map(Double.init), type: .float)
            case .double: column = Column(doubles: c.doubles, type: .double)
            case .bool: column = Column(bools: c.bools)
            case .string:
                let arena = [UInt8](c.stringArena)
                var offset = 0
                let values = c.stringLengths.map { length in
                    defer { offset += Int(length) }
                    return String(decoding: arena[offset..<(offset + Int(length))], as: UTF8.self)
                }
                // Dictionary form: rows name distinct values.
                column = Column(strings: c.stringRefs.isEmpty ? values : c.stringRefs.map { values[Int($0)] })
            case .object: throw Mismatch(description: "object")
            }
            guard column.count == n else { throw Mismatch(description: "column count") }
            let bitmap = [UInt8](c.nullBitmap)
            let nulls = (0..<n).map { row in !bitmap.isEmpty && bitmap[row / 8] & (1 << (row % 8)) != 0 }
            if nulls.contains(true) { column.nulls = nulls }
            return column
        }
        let kinds = m.kinds.isEmpty ? Array(repeating: EventKind.current, count: n)
            : m.kinds.map { EventKind(rawValue: UInt8($0.rawValue))! }
        let header = BatchHeader(streamID: m.streamID, producerID: m.producerID, sequence: m.sequence)
        return (header, EventBatch(timestamps: timestamps, kinds: kinds, columns: columns))
    }
}
