import Testing
@testable import SluiceCore

@Suite struct ColumnTests {
    @Test func nullsStayEmptyUntilTheFirstNull() {
        var c = Column(type: .long)
        c.append(.long(1))
        c.append(.int(2))
        #expect(!c.hasNulls)
        c.append(.null)
        #expect(c.nulls == [false, false, true])
        #expect(c.value(at: 1) == .long(2))
        #expect(c.value(at: 2) == .null)
    }

    @Test func appendNarrowsLikeJava() {
        var ints = Column(type: .int)
        ints.append(.long(4_294_967_297))
        #expect(ints.value(at: 0) == .int(1))
        var floats = Column(type: .float)
        floats.append(.double(0.1))
        #expect(floats.value(at: 0) == .float(0.1))
        var strings = Column(type: .string)
        strings.append(.int(3))
        #expect(strings.value(at: 0) == .null)
    }

    @Test func gatherAndRemoveKeepRowsAligned() {
        var batch = EventBatch(types: [.string, .double])
        for i in 0..<5 { batch.append(timestamp: Int64(i), values: [.string("s\(i)"), i == 2 ? .null : .double(Double(i))]) }
        let picked = batch.gather([4, 2, 0])
        #expect(picked.timestamps == [4, 2, 0])
        #expect(picked.values(at: 1) == [.string("s2"), .null])
        batch.removeFirst(2)
        #expect(batch.values(at: 0) == [.string("s2"), .null])
        batch.replace(row: 0, with: picked, row: 0)
        #expect(batch.values(at: 0) == [.string("s4"), .double(4)])
        #expect(batch.count == 3)
    }

    @Test func markerRowsCarryNoData() {
        var batch = EventBatch(types: [.long])
        batch.appendMarker(.reset, timestamp: 9)
        #expect(batch.kinds == [.reset])
        #expect(batch.values(at: 0) == [.long(0)])
        #expect(!batch.columns[0].hasNulls)
    }

    @Test func promotionFollowsJava() {
        #expect(AttributeType.promote(.int, .long) == .long)
        #expect(AttributeType.promote(.long, .float) == .float)
        #expect(AttributeType.promote(.float, .double) == .double)
        #expect(AttributeType.promote(.string, .int) == nil)
    }
}
