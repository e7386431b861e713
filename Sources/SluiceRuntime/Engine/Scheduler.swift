import SluiceCore

/// A stage that acts when the clock reaches a time it asked for.
protocol TimeDriven: AnyObject {
    func onTime(_ time: Int64)
}

/// Fires timers in time order as the engine clock moves. The clock moves only by input
/// (event timestamps and ticks), so replaying the same input fires the same timers.
final class Scheduler {
    private struct Entry: Comparable {
        var time: Int64
        var listener: Int
        static func < (a: Entry, b: Entry) -> Bool { (a.time, a.listener) < (b.time, b.listener) }
    }

    /// Weak, so that stages owning the scheduler are freed with their runtime.
    private struct Listener {
        weak var stage: TimeDriven?
    }

    private var heap: [Entry] = []
    private var listeners: [Listener] = []
    private let context: ExecutionContext

    init(context: ExecutionContext) {
        self.context = context
    }

    /// Listener ids grow in creation order, which keeps ties deterministic across a restore.
    func register(_ listener: TimeDriven) -> Int {
        listeners.append(Listener(stage: listener))
        return listeners.count - 1
    }

    func unregister(_ id: Int) {
        listeners[id].stage = nil
    }

    func schedule(_ id: Int, at time: Int64) {
        heap.append(Entry(time: time, listener: id))
        siftUp(heap.count - 1)
    }

    var nextTime: Int64? { heap.first?.time }

    /// Fires every timer due at or before `time`, each at its own time, then sets the clock to `time`.
    func advance(to time: Int64) {
        var last: Entry?
        while let top = heap.first, top.time <= time {
            let entry = popMin()
            if entry == last { continue }
            last = entry
            if context.now < entry.time { context.now = entry.time }
            listeners[entry.listener].stage?.onTime(entry.time)
        }
        if context.now < time { context.now = time }
    }

    /// Pending timers are not snapshotted: each stage re-arms its own timer from its restored state.
    func clear() { heap.removeAll() }

    private func popMin() -> Entry {
        let top = heap[0]
        let last = heap.removeLast()
        if !heap.isEmpty {
            heap[0] = last
            siftDown(0)
        }
        return top
    }

    private func siftUp(_ i: Int) {
        var i = i
        while i > 0 {
            let parent = (i - 1) / 2
            guard heap[i] < heap[parent] else { return }
            heap.swapAt(i, parent)
            i = parent
        }
    }

    private func siftDown(_ i: Int) {
        var i = i
        while true {
            let l = 2 * i + 1
            let r = l + 1
            var m = i
            if l < heap.count && heap[l] < heap[m] { m = l }
            if r < heap.count && heap[r] < heap[m] { m = r }
            if m == i { return }
            heap.swapAt(i, m)
            i = m
        }
    }
}
