import Atomics
import SluiceRuntime

/// Which columns of each input stream the node decodes. Attributes that nothing in the app can
/// read (`AppRuntime.unreadAttributes`) are left undecoded, until someone subscribes to the input
/// stream itself: from then on its batches are decoded whole. A batch decoded in part is not
/// delivered to the stream's own subscribers (a subscription starts with the batches decoded
/// after it); everything the app derives from it is exact.
final class InputDecoding: Sendable {
    private let masks: [String: [Bool]]
    private let whole: [String: ManagedAtomic<Bool>]

    init(runtime: AppRuntime) {
        var masks: [String: [Bool]] = [:]
        for stream in runtime.definedStreams {
            if let unread = runtime.unreadAttributes(of: stream.name) { masks[stream.name] = unread }
        }
        self.masks = masks
        whole = masks.mapValues { _ in ManagedAtomic(false) }
    }

    /// The columns of `stream` to leave undecoded, or nil to decode them all.
    func skip(for stream: String) -> [Bool]? {
        guard let mask = masks[stream], let whole = whole[stream], !whole.load(ordering: .acquiring) else { return nil }
        return mask
    }

    /// Someone subscribed to `stream`: decode it whole from now on.
    func subscribed(to stream: String) {
        whole[stream]?.store(true, ordering: .releasing)
    }
}
