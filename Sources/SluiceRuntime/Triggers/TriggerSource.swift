import SluiceCore
import SluiceQL

/// `define trigger T at every <time> | at 'start' | at '<cron>'`: a stream of one attribute,
/// `triggered_time long`, fed by the engine clock. Triggers start at the clock's first move (the
/// first event or tick the app sees), so playback fires at the clock's positions and a replica,
/// which applies the same events and ticks, fires at the same times. `at 'start'` emits once at
/// that moment; `every` first fires one period later, as Siddhi's periodic trigger does; a cron
/// trigger fires at each matching second (UTC) after it.
final class TriggerSource: TimeDriven, Snapshottable {
    enum Schedule {
        case start
        case every(Int64)
        case cron(CronSchedule)
    }

    static let attribute = "triggered_time"

    let name: String
    private let schedule: Schedule
    private let junction: StreamJunction
    private let scheduler: Scheduler
    private var timerID = -1
    private(set) var started = false
    /// When it fires next; nil before the start and after a start trigger has fired.
    private var next: Int64?

    init(definition: TriggerDefinition, junction: StreamJunction, scheduler: Scheduler) throws(Diagnostic) {
        name = definition.name.name
        switch definition.schedule {
        case .start: schedule = .start
        case .every(let ms): schedule = .every(ms)
        case .cron(let text):
            do {
                schedule = .cron(try CronSchedule(text))
            } catch {
                throw Diagnostic("trigger '\(definition.name.name)': \(error.message)", at: definition.range)
            }
        }
        self.junction = junction
        self.scheduler = scheduler
        timerID = scheduler.register(self)
    }

    /// The clock's first position: a start trigger fires now, the others are armed.
    func start(at time: Int64) {
        guard !started else { return }
        started = true
        switch schedule {
        case .start: emit(at: time)
        case .every(let period): arm(time + period)
        case .cron(let cron): arm(cron.next(after: time))
        }
    }

    func onTime(_ time: Int64) {
        guard next == time else { return }
        next = nil
        emit(at: time)
        switch schedule {
        case .start: break
        case .every(let period): arm(time + period)
        case .cron(let cron): arm(cron.next(after: time))
        }
    }

    private func arm(_ time: Int64?) {
        next = time
        if let time { scheduler.schedule(timerID, at: time) }
    }

    private func emit(at time: Int64) {
        junction.publish(EventBatch(timestamps: [time], kinds: [.current], columns: [Column(longs: [time])]))
    }

    func rearm() {
        if let next { scheduler.schedule(timerID, at: next) }
    }

    func snapshot(into w: inout StateWriter) {
        w.write(started)
        w.write(next)
    }

    func restore(from r: inout StateReader) throws {
        started = try r.readBool()
        next = try r.readOptionalInt64()
    }
}
