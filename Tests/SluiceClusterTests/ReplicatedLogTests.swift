import Testing
@testable import SluiceCluster

@Suite struct ReplicatedLogTests {
    func log(_ terms: [Term]) -> ReplicatedLog {
        var l = ReplicatedLog()
        for (i, t) in terms.enumerated() { _ = l.append(.batch([UInt8(i)]), term: t) }
        return l
    }

    @Test func appendNumbersEntriesAndAnswersTerms() {
        let l = log([1, 1, 2])
        #expect(l.last == LogPosition(term: 2, index: 3))
        #expect(l.term(at: 0) == 0)
        #expect(l.term(at: 2) == 1)
        #expect(l.term(at: 4) == nil)
    }

    @Test func replicatedAppendChecksPrevAndSkipsWhatItHas() {
        var l = log([1, 1])
        let more = [LogEntry(index: 2, term: 1, record: .batch([1])), LogEntry(index: 3, term: 1, record: .batch([9]))]
        let ok1 = l.appendReplicated(after: LogPosition(term: 1, index: 1), more, committed: 0)
        #expect(ok1)
        #expect(l.last == LogPosition(term: 1, index: 3))
        let ok2 = l.appendReplicated(after: LogPosition(term: 2, index: 3), [], committed: 0)
        #expect(!ok2, "prev term differs")
        let ok3 = l.appendReplicated(after: LogPosition(term: 1, index: 7), [], committed: 0)
        #expect(!ok3, "prev beyond the end")
    }

    @Test func aDivergentTailIsTruncated() {
        var l = log([1, 1, 1, 1])
        let replacement = [LogEntry(index: 3, term: 2, record: .termStart)]
        let ok4 = l.appendReplicated(after: LogPosition(term: 1, index: 2), replacement, committed: 2)
        #expect(ok4)
        #expect(l.last == LogPosition(term: 2, index: 3))
        #expect(l.count == 3)
    }

    @Test func aStaleShorterAppendDoesNotTruncate() {
        var l = log([1, 1, 1])
        let ok5 = l.appendReplicated(after: LogPosition(term: 1, index: 1), [LogEntry(index: 2, term: 1, record: .batch([1]))], committed: 0)
        #expect(ok5)
        #expect(l.last.index == 3)
    }

    @Test func trimKeepsTheBaseForConsistencyChecks() {
        var l = log([1, 1, 2, 2])
        l.trim(through: 3)
        #expect(l.base == LogPosition(term: 2, index: 3))
        #expect(l.count == 1)
        #expect(l.term(at: 3) == 2)
        #expect(l.term(at: 2) == nil)
        #expect(l.entries(from: 3, limit: 5) == nil, "trimmed: needs a snapshot")
        #expect(l.entries(from: 4, limit: 5)?.count == 1)
        // Entries at or before the base are applied here, so they match whatever prev says.
        let ok6 = l.appendReplicated(after: LogPosition(term: 1, index: 2), [LogEntry(index: 3, term: 2, record: .batch([2]))], committed: 3)
        #expect(ok6)
    }

    @Test func resetToASnapshotEmptiesTheLog() {
        var l = log([1, 1])
        l.reset(to: LogPosition(term: 3, index: 40))
        #expect(l.last == LogPosition(term: 3, index: 40))
        #expect(l.count == 0)
    }

    @Test func positionsCompareByTermThenIndex() {
        #expect(LogPosition(term: 2, index: 1) > LogPosition(term: 1, index: 100))
        #expect(LogPosition(term: 2, index: 5) > LogPosition(term: 2, index: 4))
    }
}
