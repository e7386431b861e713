/// The sender's side of credit-based flow control: batches may be in flight only while credit
/// lasts. An acknowledgement retires a batch and returns its credit; a Credit frame grants more.
/// A pure value: the caller feeds it events and acts on what it returns.
public struct SendWindow: Sendable, Hashable {
    public private(set) var credit: Int
    /// Sequences sent and not yet acknowledged, oldest first.
    public private(set) var inFlight: [UInt64] = []

    public init(initialCredit: Int) {
        credit = initialCredit
    }

    public var canSend: Bool { credit > 0 }

    /// Records a batch as sent. Returns false (and records nothing) without credit.
    public mutating func sent(_ sequence: UInt64) -> Bool {
        guard credit > 0 else { return false }
        credit -= 1
        inFlight.append(sequence)
        return true
    }

    public enum AckOutcome: Sendable, Hashable {
        /// The batch was in flight: it is retired and its credit is back.
        case retired
        /// Not in flight (a duplicate ack after a resend): nothing changes.
        case unknown
    }

    public mutating func acknowledged(_ sequence: UInt64) -> AckOutcome {
        guard let i = inFlight.firstIndex(of: sequence) else { return .unknown }
        inFlight.remove(at: i)
        credit += 1
        return .retired
    }

    public mutating func granted(_ batches: Int) {
        credit += max(0, batches)
    }

    /// The connection is gone: every batch in flight must be resent elsewhere, oldest first.
    public mutating func connectionLost() -> [UInt64] {
        defer { inFlight.removeAll() }
        return inFlight
    }
}

/// The receiver's side: it grants `capacity` batches and checks that a sender never exceeds them.
public struct ReceiveWindow: Sendable, Hashable {
    public let capacity: Int
    public private(set) var outstanding = 0

    public init(capacity: Int) {
        self.capacity = capacity
    }

    public enum Arrival: Sendable, Hashable {
        case accept
        /// The sender went past its credit: a protocol violation.
        case creditExceeded
    }

    public mutating func batchArrived() -> Arrival {
        guard outstanding < capacity else { return .creditExceeded }
        outstanding += 1
        return .accept
    }

    /// The engine applied (or refused) a batch: its credit goes back with the ack.
    public mutating func batchSettled() {
        outstanding = max(0, outstanding - 1)
    }
}
