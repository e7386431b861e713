import SluiceCore

/// `session(gap[, key[, allowedLatency]])`: groups events per key into sessions that end after
/// `gap` with no event of that key. Events are emitted as current events on arrival; when a session
/// ends (after the allowed latency too), its events are emitted as expired events.
final class SessionWindow: WindowProcessor {
    let gap: Int64
    let keyColumn: Int?
    let allowedLatency: Int64
    private struct Session {
        var key: Value
        var events: EventQueue
        var end: Int64
    }
    /// Open sessions in the order they started.
    private var sessions: [Session] = []

    init(gap: Int64, keyColumn: Int?, allowedLatency: Int64, types: [AttributeType], context: ExecutionContext, scheduler: Scheduler) {
        self.gap = gap
        self.keyColumn = keyColumn
        self.allowedLatency = allowedLatency
        super.init(types: types, context: context, scheduler: scheduler)
    }

    private func expire(upTo now: Int64, into out: inout EventBatch) {
        var i = 0
        while i < sessions.count {
            if sessions[i].end + allowedLatency <= now {
                sessions[i].events.copyAll(into: &out, kind: .expired, timestamp: now)
                sessions.remove(at: i)
            } else {
                i += 1
            }
        }
    }

    override func process(_ chunk: EventBatch) {
        var out = newBatch()
        for row in 0..<chunk.count where chunk.kinds[row] == .current {
            let ts = chunk.timestamps[row]
            expire(upTo: ts, into: &out)
            let key = keyColumn.map { chunk.columns[$0].value(at: row) } ?? .null
            if let i = sessions.firstIndex(where: { $0.key == key }) {
                sessions[i].events.append(from: chunk, row: row)
                sessions[i].end = max(sessions[i].end, ts + gap)
            } else {
                var q = EventQueue(types: types)
                q.append(from: chunk, row: row)
                sessions.append(Session(key: key, events: q, end: ts + gap))
            }
            out.append(from: chunk, row: row)
        }
        emit(out)
        rearm()
    }

    override func timerFired(at time: Int64) {
        var out = newBatch()
        expire(upTo: time, into: &out)
        emit(out)
        rearm()
    }

    override func rearm() {
        if let next = sessions.map({ $0.end + allowedLatency }).min() { arm(at: next) }
    }

    override func snapshot(into w: inout StateWriter) {
        w.write(sessions.count)
        for s in sessions {
            w.write(s.key)
            w.write(s.end)
            s.events.snapshot(into: &w)
        }
    }

    override func restore(from r: inout StateReader) throws {
        sessions = []
        for _ in 0..<(try r.readCount()) {
            let key = try r.readValue()
            let end = try r.readInt64()
            var q = EventQueue(types: types)
            try q.restore(from: &r)
            sessions.append(Session(key: key, events: q, end: end))
        }
    }
}
