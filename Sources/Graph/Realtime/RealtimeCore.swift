import Atomics
import SluiceSystem

/// What the RT thread shares with the control side: the plan mailbox, counters, and two
/// eventfds (control → RT to wake it; RT → control to have retired plans reclaimed).
///
/// Everything here is Sendable and preallocated; `run` is the RT thread's whole life.
public final class RealtimeCore: Sendable {
    public let mailbox = PlanMailbox()
    public let stats = CycleStats()
    /// Control → RT: a new plan, a node became active, stop requested, a helper made room.
    public let wake: EventFD
    /// RT → control: a plan was retired and can be freed.
    public let retiredSignal: EventFD
    /// Control → RT: how many timer ticks may run per wake-up, for plans that allow it
    /// (`ExecutionPlan.allowsDeferral`) under a driver that supports it. Lowering it wakes the
    /// RT thread (`Engine.setCyclesPerWake`), which first runs the ticks already due.
    public let cyclesPerWake = ManagedAtomic<Int>(1)
    private let stopRequested = ManagedAtomic<Bool>(false)
    private let epoll: Epoll
    private let events = EpollEventBuffer(capacity: 4)
    private static let wakeToken: UInt64 = 0
    private static let driverToken: UInt64 = 1

    public init() throws(Errno) {
        wake = try EventFD()
        retiredSignal = try EventFD()
        epoll = try Epoll()
        try epoll.add(wake.fd, events: .readable, token: Self.wakeToken)
    }

    /// [control] Asks `run` to return at its next wake-up.
    public func requestStop() {
        stopRequested.store(true, ordering: .releasing)
        wake.signal()
    }

    /// What one pass of the loop decided.
    @usableFromInline enum Step {
        case ran(cycles: Int), idle, waited
    }

    /// [rt] The RT thread's loop: switch plans at cycle boundaries, wait for the driver, run the
    /// plan, record counters. Returns after `requestStop()`, or after `cycleLimit` cycles
    /// (tests and offline rendering; it then also returns when the graph goes idle).
    /// Never allocates, locks, logs, or frees: proven by Tests/GraphTests/RealtimeAllocationTests.
    @discardableResult
    public func run(cycleLimit: Int = Int.max) -> Int {
        // Resume the plan a previous `run` ended with (tests call `run` repeatedly).
        var current: Unmanaged<ExecutionPlan>? = lastPlan.exchange(nil, ordering: .acquiring)
        var registeredFD: Int32 = -1
        var activeDriver: Unmanaged<Driver>? = nil
        var isRunning = false
        var runningPeriod: Int64 = 0
        var cycles = 0
        while cycles < cycleLimit && !stopRequested.load(ordering: .acquiring) {
            if mailbox.acquire(&current) {
                stats.bump(stats.planSwaps)
                retiredSignal.signal()
            }
            guard let plan = current else {
                if cycleLimit != Int.max { break }
                waitForWake(timeoutMillis: -1)
                continue
            }
            // Driver change (a device appeared, config switched): at a cycle boundary.
            if activeDriver?.toOpaque() != plan._withUnsafeGuaranteedRef({ $0.driver.toOpaque() }) {
                if isRunning, let old = activeDriver { old._withUnsafeGuaranteedRef { $0.stop() } }
                isRunning = false
                if registeredFD >= 0 { epoll.remove(registeredFD) }
                activeDriver = plan._withUnsafeGuaranteedRef { $0.driver }
                registeredFD = activeDriver!._withUnsafeGuaranteedRef { $0.pollDescriptor }
                if registeredFD >= 0 { try? epoll.add(registeredFD, events: .readable, token: Self.driverToken) }
            }
            let step = plan._withUnsafeGuaranteedRef { plan in
                activeDriver!._withUnsafeGuaranteedRef { driver in
                    cycle(plan: plan, driver: driver, isRunning: &isRunning, runningPeriod: &runningPeriod, mayBlockWhenIdle: cycleLimit == Int.max)
                }
            }
            switch step {
            case .ran(let n): cycles += n
            case .waited: continue
            case .idle: if cycleLimit != Int.max { return cycles }
            }
        }
        if isRunning, let d = activeDriver { d._withUnsafeGuaranteedRef { $0.stop() } }
        if registeredFD >= 0 { epoll.remove(registeredFD) }
        // Hand the last plan back to the control side (it frees it in `retireFinal`).
        if let last = current { lastPlan.store(last, ordering: .releasing) }
        return cycles
    }

    /// The plan the RT thread held when `run` returned; the control side releases it.
    private let lastPlan = ManagedAtomic<Unmanaged<ExecutionPlan>?>(nil)

    /// [control] After `run` has returned: frees every plan.
    public func retireAll() {
        var last = lastPlan.exchange(nil, ordering: .acquiring)
        mailbox.retireFinal(&last)
    }

    /// [rt]
    @inline(__always)
    private func waitForWake(timeoutMillis: Int32) {
        let n = epoll.wait(into: events, timeoutMillis: timeoutMillis)
        if n > 0 { wake.drain() }
    }

    /// [rt] One pass: idle handling, waiting for the tick, running the plan.
    @inline(__always)
    private func cycle(plan: ExecutionPlan, driver: Driver, isRunning: inout Bool, runningPeriod: inout Int64, mayBlockWhenIdle: Bool) -> Step {
        guard planWantsCycles(plan) else {
            if isRunning {
                driver.stop()
                isRunning = false
                stats.deferring.store(false, ordering: .relaxed)
                stats.bump(stats.idleSleeps)
            }
            // Idle costs nothing: no timer armed, the thread sleeps until the control side wakes it.
            if mayBlockWhenIdle { waitForWake(timeoutMillis: -1) }
            return .idle
        }
        let period = Int64(plan.quantum) * 1_000_000_000 / Int64(plan.sampleRate)
        // (Re)start on a new grid when waking from idle or when the quantum changed.
        if !isRunning || period != runningPeriod {
            driver.start(nowNanos: monotonicNanos(), periodNanos: period)
            isRunning = true
            runningPeriod = period
        }
        let perWake = plan.allowsDeferral && driver.supportsDeferral ? max(cyclesPerWake.load(ordering: .relaxed), 1) : 1
        driver.setCyclesPerWake(perWake)
        stats.deferring.store(perWake > 1, ordering: .relaxed)
        var tick: DriverTick
        if driver.isFreewheel {
            if !planIsReady(plan) {
                waitForWake(timeoutMillis: 5)
                return .waited
            }
            let now = monotonicNanos()
            tick = DriverTick(dueNanos: now, deadlineNanos: Int64.max, missedTicks: 0)
        } else {
            let n = epoll.wait(into: events, timeoutMillis: -1)
            var driverReady = false
            for i in 0..<n {
                if events.token(at: i) == Self.wakeToken { wake.drain() } else { driverReady = true }
            }
            // A timer also hands over ticks already due when the control side woke us (it
            // lowered `cyclesPerWake` and wants deferred cycles run now).
            guard driverReady || driver.supportsDeferral else { return .waited }
            let woke = monotonicNanos()
            guard let t = driver.takeTick(nowNanos: woke) else { return .waited }
            tick = t
            if driverReady { stats.lateness.record(nanos: woke - (t.dueNanos + Int64(t.cycles - 1) * period)) }
            if t.missedTicks > 0 {
                stats.bump(stats.missedTicks, by: Int64(t.missedTicks))
                stats.bump(stats.xruns, by: Int64(t.missedTicks))
            }
        }
        var end: Int64 = 0
        for i in 0..<max(tick.cycles, 1) {
            let due = tick.dueNanos + Int64(i) * period
            let start = monotonicNanos()
            process(plan: plan, cycleNanos: due, isFreewheeling: driver.isFreewheel)
            end = monotonicNanos()
            stats.processing.record(nanos: end - start)
            stats.lastProcessingNanos.store(end - start, ordering: .relaxed)
            stats.bump(stats.cycles)
            stats.renderedThroughNanos.store(due + period, ordering: .releasing)
        }
        if end > tick.deadlineNanos { stats.bump(stats.xruns) }
        stats.bump(stats.wakeUps)
        return .ran(cycles: max(tick.cycles, 1))
    }

    /// [rt]
    @inline(__always)
    private func planWantsCycles(_ plan: ExecutionPlan) -> Bool {
        for step in plan.steps {
            if step.node._withUnsafeGuaranteedRef({ $0.wantsCycles(linkedInputCount: step.linkedInputCount) }) { return true }
        }
        return false
    }

    /// [rt]
    @inline(__always)
    private func planIsReady(_ plan: ExecutionPlan) -> Bool {
        for step in plan.steps {
            if !step.node._withUnsafeGuaranteedRef({ $0.isReady(frameCount: plan.quantum) }) { return false }
        }
        return true
    }

    /// [rt] Runs every node of `plan` once, in order, summing multiply linked inputs first.
    @inline(__always)
    func process(plan: ExecutionPlan, cycleNanos: Int64, isFreewheeling: Bool) {
        let frames = plan.quantum
        // Mix buffers that accumulating nodes add into start the cycle silent.
        for buffer in plan.clears { buffer.update(repeating: 0, count: frames) }
        for step in plan.steps {
            for m in step.mixStart..<(step.mixStart + step.mixCount) {
                let mix = plan.mixes[m]
                let dst = mix.destination
                var first = mix.sourceStart
                if !mix.addsToDestination && mix.sourceCount > 0 {
                    dst.update(from: plan.mixSources[first], count: frames)
                    first += 1
                }
                for s in first..<(mix.sourceStart + mix.sourceCount) {
                    let src = plan.mixSources[s]
                    for i in 0..<frames { dst[i] += src[i] }
                }
            }
            let context = ProcessContext(frameCount: frames, sampleRate: plan.sampleRate, cycleNanos: cycleNanos,
                                         isFreewheeling: isFreewheeling,
                                         inputPointers: UnsafePointer(step.inputs), outputPointers: UnsafePointer(step.outputs),
                                         linkCounts: UnsafePointer(step.linkCounts),
                                         inputCount: step.inputCount, outputCount: step.outputCount,
                                         accumulates: step.accumulates, outputsObserved: step.outputsObserved)
            let t0 = monotonicNanos()
            let status = step.node._withUnsafeGuaranteedRef { $0.process(context) }
            let t1 = monotonicNanos()
            step.stats._withUnsafeGuaranteedRef { $0.record(nanos: t1 - t0, overrun: status == .overrun) }
        }
    }
}
