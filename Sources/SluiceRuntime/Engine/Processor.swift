import SluiceCore

/// One stage of a query: it takes a chunk, and hands what it produces to the next stage.
/// Stages are wired once at deploy time; calls go one per chunk, never one per event.
class Processor {
    var next: Processor?

    func process(_ chunk: EventBatch) {
        emit(chunk)
    }

    @inline(__always)
    final func emit(_ chunk: EventBatch) {
        guard !chunk.isEmpty else { return }
        next?.process(chunk)
    }
}

/// The end of a chain: hands chunks to a closure.
final class CallbackProcessor: Processor {
    let callback: (EventBatch) -> Void

    init(_ callback: @escaping (EventBatch) -> Void) {
        self.callback = callback
    }

    override func process(_ chunk: EventBatch) {
        callback(chunk)
    }
}
