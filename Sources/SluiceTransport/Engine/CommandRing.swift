import Atomics

/// A bounded multi-producer, single-consumer ring: the only hand-off from the event loops to an
/// engine thread. Slots are preallocated (a power of two); a producer claims a slot with one
/// atomic increment and publishes it by bumping the slot's sequence, so there are no locks.
/// `offer` returns false when the ring is full instead of waiting.
public final class CommandRing<Element>: @unchecked Sendable {
    private let mask: Int
    private let slots: UnsafeMutablePointer<Element?>
    private let sequences: [ManagedAtomic<Int>]
    private let tail = ManagedAtomic<Int>(0)
    /// Only the consumer touches `head`.
    private var head = 0
    /// `head` as of the last drain, for readers on other threads (`backlog`).
    private let consumed = ManagedAtomic<Int>(0)

    public init(capacity: Int) {
        var size = 1
        while size < max(2, capacity) { size <<= 1 }
        mask = size - 1
        slots = .allocate(capacity: size)
        slots.initialize(repeating: nil, count: size)
        sequences = (0..<size).map { ManagedAtomic($0) }
    }

    deinit {
        slots.deinitialize(count: mask + 1)
        slots.deallocate()
    }

    public var capacity: Int { mask + 1 }

    /// Any thread: elements offered but not yet drained, approximately (for status reports).
    public var backlog: Int { max(0, tail.load(ordering: .relaxed) - consumed.load(ordering: .relaxed)) }

    /// Any thread. False when the ring is full.
    public func offer(_ element: Element) -> Bool {
        var position = tail.load(ordering: .relaxed)
        while true {
            let slot = position & mask
            let sequence = sequences[slot].load(ordering: .acquiring)
            if sequence == position {
                let (exchanged, current) = tail.weakCompareExchange(expected: position, desired: position + 1,
                                                                   ordering: .relaxed)
                if exchanged {
                    slots[slot] = element
                    sequences[slot].store(position + 1, ordering: .releasing)
                    return true
                }
                position = current
            } else if sequence < position {
                return false
            } else {
                position = tail.load(ordering: .relaxed)
            }
        }
    }

    /// The consumer thread only. Takes up to `limit` published elements, oldest first.
    public func drain(limit: Int, _ body: (Element) -> Void) -> Int {
        var taken = 0
        while taken < limit {
            let slot = head & mask
            guard sequences[slot].load(ordering: .acquiring) == head + 1 else { break }
            let element = slots[slot].take()!
            sequences[slot].store(head + mask + 1, ordering: .releasing)
            head += 1
            taken += 1
            body(element)
        }
        if taken > 0 { consumed.store(head, ordering: .relaxed) }
        return taken
    }
}
