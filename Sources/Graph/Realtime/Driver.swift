import SluiceSystem

/// One timer tick as the driver saw it. [rt]
public struct DriverTick {
    /// When this cycle was due.
    public var dueNanos: Int64
    /// When the next cycle is due: finishing later than this is an xrun.
    public var deadlineNanos: Int64
    /// Ticks that passed without a cycle (the thread was late by more than a period).
    public var missedTicks: Int
    /// Cycles to run now, the first due at `dueNanos` and each next one a period later: 1, or
    /// more when the driver defers cycles (`Driver.setCyclesPerWake`).
    public var cycles: Int

    public init(dueNanos: Int64, deadlineNanos: Int64, missedTicks: Int, cycles: Int = 1) {
        self.dueNanos = dueNanos
        self.deadlineNanos = deadlineNanos
        self.missedTicks = missedTicks
        self.cycles = cycles
    }
}

/// Decides when a cycle runs. Subclasses: `TimerDriver`, `FreewheelDriver`; device drivers
/// (ALSA) later. The engine elects the available driver with the highest `priority`.
///
/// `start`, `stop` and `takeTick` run on the RT thread only.
open class Driver: @unchecked Sendable {
    // @unchecked: RT-side state is touched by the RT thread only, after the engine hands the
    // driver to it through a plan; `name`/`priority` are immutable.
    public let name: String
    public let priority: Int

    public init(name: String, priority: Int) {
        self.name = name
        self.priority = priority
    }

    /// The fd the RT thread polls for ticks, or -1 when cycles run back to back (freewheel).
    open var pollDescriptor: Int32 { -1 }
    open var isFreewheel: Bool { false }
    /// A short word for introspection ("timer", "freewheel", "alsa").
    open var kind: String { "driver" }

    /// [rt] Starts ticking every `periodNanos`, the first tick at `nowNanos`.
    open func start(nowNanos: Int64, periodNanos: Int64) {}
    /// [rt] Stops ticking (idle).
    open func stop() {}
    /// Whether `setCyclesPerWake` can do anything: a timer, not a sound card (whose clock is
    /// what its buffer drains at).
    open var supportsDeferral: Bool { false }
    /// [rt] Wake up once every `count` ticks and hand the ticks due since as one `DriverTick`
    /// (`cycles`), for a plan whose every node tolerates deferred cycles. Also checked on a
    /// wake-up that was not the driver's: `takeTick` then returns the ticks already due (the
    /// control side catching up). Ignored by drivers that do not support it.
    open func setCyclesPerWake(_ count: Int) {}
    /// [rt] After `pollDescriptor` became readable: the tick, or nil for a spurious wake-up.
    open func takeTick(nowNanos: Int64) -> DriverTick? {
        DriverTick(dueNanos: nowNanos, deadlineNanos: Int64.max, missedTicks: 0)
    }
}

/// Ticks from a CLOCK_MONOTONIC timerfd on a fixed grid of absolute deadlines, so it never
/// drifts; a late wake-up is measured against the grid, and skipped ticks are counted.
///
/// With `setCyclesPerWake(k)`, k > 1, the timer fires once per k ticks of the same grid (a
/// periodic timer of k periods, re-armed only when a wake-up leaves that schedule) and each
/// wake-up hands over the k ticks due since — a timer-driven sink with deep-buffered streams
/// then wakes the CPU k times less often.
public final class TimerDriver: Driver, @unchecked Sendable {
    private let timer: TimerFD
    // RT-only state.
    private var startNanos: Int64 = 0
    private var periodNanos: Int64 = 1
    private var servedTicks: Int64 = 0
    private var wakeEvery: Int64 = 1
    /// The tick the timer was armed for first; it then fires every `wakeEvery` ticks.
    private var armedTick: Int64 = 0

    public init(priority: Int = 10) throws(Errno) {
        timer = try TimerFD()
        super.init(name: "timer", priority: priority)
    }

    public override var pollDescriptor: Int32 { timer.fd }
    public override var kind: String { "timer" }
    public override var supportsDeferral: Bool { true }

    public override func start(nowNanos: Int64, periodNanos: Int64) {
        self.startNanos = nowNanos
        self.periodNanos = periodNanos
        self.servedTicks = 0
        self.wakeEvery = 1
        timer.arm(firstNanos: nowNanos, periodNanos: periodNanos)
    }

    public override func stop() { timer.disarm() }

    public override func setCyclesPerWake(_ count: Int) {
        let k = Int64(max(count, 1))
        guard k != wakeEvery else { return }
        wakeEvery = k
        arm()
    }

    /// [rt] Every k-th tick of the grid, from the k-th unserved one (k = 1: every tick from the
    /// next unserved one).
    private func arm() {
        armedTick = servedTicks + wakeEvery - 1
        timer.arm(firstNanos: startNanos + armedTick * periodNanos, periodNanos: wakeEvery * periodNanos)
    }

    public override func takeTick(nowNanos: Int64) -> DriverTick? {
        _ = timer.expirations()   // the grid, not the count, says what is due
        guard nowNanos >= startNanos else { return nil }
        let due = (nowNanos - startNanos) / periodNanos + 1 - servedTicks   // ticks due by now
        guard due > 0 else { return nil }
        // Deferred ticks are late by design: up to 2k of them run (a wake-up late by less than k
        // periods loses nothing); beyond that the oldest are missed, as one late tick is at k = 1.
        // At k = 1 the oldest unserved tick runs and later ones are missed (as the timer always
        // did); at k > 1 the newest `run` do.
        let run = wakeEvery == 1 ? 1 : min(due, 2 * wakeEvery)
        let first = wakeEvery == 1 ? servedTicks : servedTicks + due - run
        servedTicks += due
        // Re-armed only when the next k-th tick is off the timer's schedule (after a catch-up
        // or a late wake-up): no timer syscall per wake-up otherwise. Never at k = 1.
        if (servedTicks + wakeEvery - 1 - armedTick) % wakeEvery != 0 { arm() }
        return DriverTick(dueNanos: startNanos + first * periodNanos, deadlineNanos: startNanos + servedTicks * periodNanos,
                          missedTicks: Int(due - run), cycles: Int(run))
    }
}

/// Runs cycles back to back, as fast as the graph allows: for tests and offline rendering.
public final class FreewheelDriver: Driver, @unchecked Sendable {
    public init(priority: Int = 1000) { super.init(name: "freewheel", priority: priority) }
    public override var isFreewheel: Bool { true }
    public override var kind: String { "freewheel" }
}
