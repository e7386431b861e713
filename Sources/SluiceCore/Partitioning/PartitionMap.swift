/// Which destination a partition key goes to (docs/partitioning.md).
///
/// A key's hash picks one of `partitionCount` virtual partitions; each partition belongs to the
/// destination with the highest rendezvous score `xxh64(partition, seed: xxh64(name))`. The
/// table is built once per set of destinations, so routing an event costs one hash and a lookup.
/// Destinations are known by name, never by position: reordering them changes nothing, and adding
/// one moves only the partitions it now wins, about 1/(N+1) of them.
public struct PartitionMap: Sendable, Equatable {
    public static let partitionCount = 4096

    /// The destinations' names, in the order the caller gave (results index into it).
    public let destinations: [String]
    /// The destination index of each partition.
    public let table: [UInt16]

    public init(destinations: [String]) {
        precondition(!destinations.isEmpty && destinations.count <= Int(UInt16.max), "a partition map needs 1...65535 destinations")
        precondition(Set(destinations).count == destinations.count, "destination names must be unique")
        self.destinations = destinations
        let seeds = destinations.map { XXHash64.hash($0) }
        let names = destinations.map { Array($0.utf8) }
        var table = [UInt16](repeating: 0, count: Self.partitionCount)
        for p in 0..<Self.partitionCount {
            var best = 0
            var bestScore = XXHash64.hash(UInt64(p), seed: seeds[0])
            for d in 1..<destinations.count {
                let score = XXHash64.hash(UInt64(p), seed: seeds[d])
                if score > bestScore || (score == bestScore && names[d].lexicographicallyPrecedes(names[best])) {
                    best = d
                    bestScore = score
                }
            }
            table[p] = UInt16(best)
        }
        self.table = table
    }

    @inline(__always)
    public static func partition(ofKeyHash hash: UInt64) -> Int { Int(hash % UInt64(partitionCount)) }

    /// The destination index for a key hash (`PartitionKey.hash`).
    @inline(__always)
    public func destination(ofKeyHash hash: UInt64) -> Int { Int(table[Self.partition(ofKeyHash: hash)]) }

    public func destination(of key: Value) -> Int { destination(ofKeyHash: PartitionKey.hash(key)) }

    public func destination(of column: Column, row: Int) -> Int { destination(ofKeyHash: PartitionKey.hash(column, row: row)) }

    /// `rows` split by the destination of their key in `column`, each list in the order given.
    public func rowsByDestination(of column: Column, rows: [Int]) -> [[Int]] {
        var out = [[Int]](repeating: [], count: destinations.count)
        let expected = rows.count / destinations.count + 1
        for d in out.indices { out[d].reserveCapacity(expected) }
        if let perCode = destinationOfEachValue(column) {
            column.strings.valueCodes!.codes.withUnsafeBufferPointer { codes in
                for row in rows { out[perCode[Int(codes[row])]].append(row) }
            }
        } else {
            for row in rows { out[destination(of: column, row: row)].append(row) }
        }
        return out
    }

    /// For a string column in dictionary form without nulls, the destination of each of its
    /// values by code: one hash per distinct value instead of one per row. Nil for other columns.
    private func destinationOfEachValue(_ column: Column) -> [Int]? {
        guard column.type == .string, !column.hasNulls, let coded = column.strings.valueCodes else { return nil }
        let values = coded.values.lane
        return (0..<values.count).map { code in values.withUTF8(at: code) { destination(ofKeyHash: XXHash64.hash($0)) } }
    }
}
