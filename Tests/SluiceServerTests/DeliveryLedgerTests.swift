import SluiceCore
import Testing
@testable import SluiceServer

/// Acknowledgements that wait for the sinks, as values.
@Suite struct DeliveryLedgerTests {
    @Test func aBatchWithoutHeldOutputsIsAcknowledgedAtOnce() {
        var ledger = DeliveryLedger<String>()
        #expect(ledger.applied(1, ack: "a") == ["a"])
        #expect(ledger.waiting == 0)
    }

    @Test func theAcknowledgementWaitsForTheLastHeldEvent() {
        var ledger = DeliveryLedger<String>()
        ledger.hold(7, events: 10)
        ledger.hold(7, events: 5)
        #expect(ledger.applied(7, ack: "seven").isEmpty)
        #expect(ledger.settle(7, events: 10).isEmpty)
        #expect(ledger.waiting == 1)
        #expect(ledger.settle(7, events: 5) == ["seven"])
        #expect(ledger.waiting == 0)
        #expect(ledger.settle(7, events: 1).isEmpty, "a late settle finds nothing")
    }

    @Test func outputsDeliveredBeforeTheEngineFinishedWaitForIt() {
        var ledger = DeliveryLedger<String>()
        ledger.hold(3, events: 4)
        #expect(ledger.settle(3, events: 4).isEmpty, "the engine has not finished the batch")
        #expect(ledger.applied(3, ack: "three") == ["three"])
    }

    @Test func aRepeatIsAcknowledgedWithTheBatchItRepeats() {
        var ledger = DeliveryLedger<String>()
        ledger.hold(9, events: 2)
        #expect(ledger.applied(9, ack: "first").isEmpty)
        #expect(ledger.applied(9, ack: "retry").isEmpty)
        #expect(ledger.settle(9, events: 2) == ["first", "retry"])
        #expect(ledger.applied(9, ack: "late retry") == ["late retry"], "delivered already")
    }

    @Test func batchesSettleIndependently() {
        var ledger = DeliveryLedger<String>()
        ledger.hold(1, events: 1)
        ledger.hold(2, events: 1)
        _ = ledger.applied(1, ack: "one")
        _ = ledger.applied(2, ack: "two")
        #expect(ledger.settle(2, events: 1) == ["two"])
        #expect(ledger.settle(1, events: 1) == ["one"])
    }

    @Test func aRefusedBatchIsForgotten() {
        var ledger = DeliveryLedger<String>()
        ledger.hold(5, events: 3)
        ledger.forget(5)
        #expect(ledger.waiting == 0)
        #expect(ledger.settle(5, events: 3).isEmpty)
    }
}
