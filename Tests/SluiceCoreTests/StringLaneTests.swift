import SluiceCore
import Testing

@Suite struct StringLaneTests {
    let words = ["", "tenant01.com", "a-much-longer-consumer-key-0123456789", "é", "x"]

    @Test func appendsAndReadsBack() {
        let lane = StringLane(words)
        #expect(Array(lane) == words)
        #expect(lane.bytes.count == words.reduce(0) { $0 + $1.utf8.count })
        #expect(lane.length(of: 2) == 37)
    }

    @Test func copiesRunsAndSingleRows() {
        let source = StringLane(words)
        var lane = StringLane(["first"])
        lane.append(from: source, rows: 1..<4)
        lane.append(from: source, row: 0)
        lane.append(from: source, row: 4)
        #expect(Array(lane) == ["first", "tenant01.com", "a-much-longer-consumer-key-0123456789", "é", "", "x"])
    }

    @Test func removesFromTheFrontAndTheMiddle() {
        var lane = StringLane(words)
        lane.removeFirst(2)
        #expect(Array(lane) == Array(words.dropFirst(2)))
        lane.remove(at: 1)
        #expect(Array(lane) == ["a-much-longer-consumer-key-0123456789", "x"])
        lane.append("tail")
        #expect(Array(lane) == ["a-much-longer-consumer-key-0123456789", "x", "tail"])
    }

    @Test func gathersAndPicksRows() {
        let a = StringLane(words), b = StringLane(["p", "q"])
        #expect(Array(a.gather([4, 2, 2, 0])) == ["x", words[2], words[2], ""])
        let rows: [Int32] = [1, 0, 3, 1]
        let sources: [UInt8] = [0, 1, 0, 1]
        let picked = rows.withUnsafeBufferPointer { r in
            sources.withUnsafeBufferPointer { StringLane(picking: r, sources: $0, first: a, second: b) }
        }
        #expect(Array(picked) == ["tenant01.com", "p", "é", "q"])
    }

    @Test func resolvesDictionaryReferences() {
        let distinct = StringLane(["web", "", "mobile-android-client"])
        var lane = StringLane(["head"])
        let refs: [UInt32] = [2, 0, 1, 2]
        refs.withUnsafeBufferPointer { lane.append(rowsOf: distinct, at: $0) }
        #expect(Array(lane) == ["head", "mobile-android-client", "web", "", "mobile-android-client"])
        let empties = StringLane(["", ""])
        refs.dropLast().map { $0 % 2 }.withUnsafeBufferPointer { lane.append(rowsOf: empties, at: $0) }
        #expect(lane.count == 8 && lane[7].isEmpty)
    }

    @Test func repairsInvalidUTF8FromOutside() {
        var lane = StringLane()
        let bad: [UInt8] = [0x61, 0xFF, 0x62]
        bad.withUnsafeBytes { lane.append(checking: $0) }
        #expect(lane[0] == "a\u{FFFD}b")
        let good = Array("naïve".utf8)
        good.withUnsafeBytes { lane.append(checking: $0) }
        #expect(lane[1] == "naïve")
    }

    @Test func copiesOnWrite() {
        let original = StringLane(words)
        var copy = original
        copy.append("more")
        copy.removeFirst(1)
        #expect(Array(original) == words)
        #expect(Array(copy) == Array(words.dropFirst()) + ["more"])
    }

    @Test func comparesBytesInCodePointOrder() {
        func cmp(_ a: String, _ b: String) -> Int {
            withUTF8Bytes(a) { x in withUTF8Bytes(b) { y in compareBytes(x, y) } }
        }
        #expect(cmp("abc", "abd") < 0)
        #expect(cmp("ab", "abc") < 0)
        #expect(cmp("é", "z") > 0)
        #expect(cmp("same", "same") == 0)
    }

    @Test func copiesEveryShortLengthExactly() {
        let source = (0..<100).map { UInt8($0 + 1) }
        for n in 0...80 {
            var target = [UInt8](repeating: 0, count: 100)
            source.withUnsafeBytes { src in
                target.withUnsafeMutableBytes { copyBytes(to: $0.baseAddress! + 3, from: src.baseAddress!, count: n) }
            }
            #expect(Array(target[3..<(3 + n)]) == Array(source[0..<n]), "length \(n)")
            #expect(target[0..<3].allSatisfy { $0 == 0 } && target[(3 + n)...].allSatisfy { $0 == 0 }, "length \(n) wrote outside")
        }
    }
}

@Suite struct ByteHashTests {
    /// Keys that differ only in their last bytes (tenant names) must still spread over a small
    /// table's low bits, or open addressing degrades into long probe chains.
    @Test func lowBitsSpreadKeysThatDifferAtTheEnd() {
        var buckets = Set<UInt64>()
        for t in 0..<50 {
            let key = t < 10 ? "tenant0\(t).com" : "tenant\(t).com"
            buckets.insert(withUTF8Bytes(key) { hashBytes($0) } & 127)
        }
        #expect(buckets.count >= 30, "50 keys over 128 buckets hit only \(buckets.count)")
        var short = Set<UInt64>()
        for t in 0..<50 { short.insert(withUTF8Bytes("tenant\(t < 10 ? "0" : "")\(t)") { hashBytes($0) } & 127) }
        #expect(short.count >= 30)
    }
}
