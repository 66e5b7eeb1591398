import SluiceSystem

/// One timer tick as the driver saw it. [rt]
public struct DriverTick {
    /// When this cycle was due.
    public var dueNanos: Int64
    /// When the next cycle is due: finishing later than this is an xrun.
    public var deadlineNanos: Int64
    /// Ticks that passed without a cycle (the thread was late by more than a period).
    public var missedTicks: Int

    public init(dueNanos: Int64, deadlineNanos: Int64, missedTicks: Int) {
        self.dueNanos = dueNanos
        self.deadlineNanos = deadlineNanos
        self.missedTicks = missedTicks
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
    /// [rt] After `pollDescriptor` became readable: the tick, or nil for a spurious wake-up.
    open func takeTick(nowNanos: Int64) -> DriverTick? {
        DriverTick(dueNanos: nowNanos, deadlineNanos: Int64.max, missedTicks: 0)
    }
}

/// Ticks from a CLOCK_MONOTONIC timerfd on a fixed grid of absolute deadlines, so it never
/// drifts; a late wake-up is measured against the grid, and skipped ticks are counted.
public final class TimerDriver: Driver, @unchecked Sendable {
    private let timer: TimerFD
    // RT-only state.
    private var startNanos: Int64 = 0
    private var periodNanos: Int64 = 1
    private var servedTicks: Int64 = 0

    public init(priority: Int = 10) throws(Errno) {
        timer = try TimerFD()
        super.init(name: "timer", priority: priority)
    }

    public override var pollDescriptor: Int32 { timer.fd }
    public override var kind: String { "timer" }

    public override func start(nowNanos: Int64, periodNanos: Int64) {
        self.startNanos = nowNanos
        self.periodNanos = periodNanos
        self.servedTicks = 0
        timer.arm(firstNanos: nowNanos, periodNanos: periodNanos)
    }

    public override func stop() { timer.disarm() }

    public override func takeTick(nowNanos: Int64) -> DriverTick? {
        let expirations = Int64(timer.expirations())
        guard expirations > 0 else { return nil }
        let due = startNanos + servedTicks * periodNanos   // the oldest unserved tick
        servedTicks += expirations
        return DriverTick(dueNanos: due, deadlineNanos: startNanos + servedTicks * periodNanos,
                          missedTicks: Int(expirations - 1))
    }
}

/// Runs cycles back to back, as fast as the graph allows: for tests and offline rendering.
public final class FreewheelDriver: Driver, @unchecked Sendable {
    public init(priority: Int = 1000) { super.init(name: "freewheel", priority: priority) }
    public override var isFreewheel: Bool { true }
    public override var kind: String { "freewheel" }
}
