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
    /// (`ExecutionPlan.allowsDeferral`: every node tolerates it, and the driver can). Lowering it wakes the
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

    /// The loop's state: the plan in force and the driver ticking. Owned by the thread that runs
    /// cycles: the RT thread, or the control thread while it hosts them (`hostRequested`).
    final class LoopState: @unchecked Sendable {
        // @unchecked: touched by one thread at a time; ownership passes through the
        // acquire/release pair `hostRequested` / `parkedFor`.
        var current: Unmanaged<ExecutionPlan>?
        var activeDriver: Unmanaged<Driver>?
        var isRunning = false
        var runningPeriod: Int64 = 0
    }
    let loop = LoopState()
    /// Control → RT: park, and leave the cycles to the control thread (`hostStep`).
    let hostRequested = ManagedAtomic<Bool>(false)
    /// Control → RT: numbers each request, so that an answer to an earlier one is never taken
    /// for the answer to this one.
    private let hostRequest = ManagedAtomic<Int>(0)
    /// RT → control: the request the parked RT thread answered. The loop state belongs to the
    /// control thread from when this equals its request until it clears `hostRequested`.
    private let parkedFor = ManagedAtomic<Int>(0)

    /// [control] Asks the RT thread to park; returns the request's number for `isParked`.
    func requestHosting() -> Int {
        let n = hostRequest.wrappingIncrementThenLoad(ordering: .relaxed)
        hostRequested.store(true, ordering: .releasing)
        wake.signal()
        return n
    }

    /// [control] Whether the RT thread has parked for request `n` (then the loop is ours).
    func isParked(for n: Int) -> Bool { parkedFor.load(ordering: .acquiring) == n }

    /// [control] Gives the loop back, or withdraws a request.
    func endHosting() {
        hostRequested.store(false, ordering: .releasing)
        wake.signal()
    }

    /// [rt] The RT thread's loop: switch plans at cycle boundaries, wait for the driver, run the
    /// plan, record counters. Returns after `requestStop()`, or after `cycleLimit` cycles
    /// (tests and offline rendering; it then also returns when the graph goes idle).
    /// Never allocates, locks, logs, or frees: proven by Tests/GraphTests/RealtimeAllocationTests.
    @discardableResult
    public func run(cycleLimit: Int = Int.max) -> Int {
        let s = loop
        // Resume the plan a previous `run` ended with (tests call `run` repeatedly).
        if s.current == nil { s.current = lastPlan.exchange(nil, ordering: .acquiring) }
        var registeredFD: Int32 = -1
        var cycles = 0
        while cycles < cycleLimit && !stopRequested.load(ordering: .acquiring) {
            if hostRequested.load(ordering: .acquiring) {
                park(registeredFD: &registeredFD)
                continue
            }
            if mailbox.acquire(&s.current) {
                stats.bump(stats.planSwaps)
                retiredSignal.signal()
            }
            guard let plan = s.current else {
                if cycleLimit != Int.max { break }
                waitForWake(timeoutMillis: -1)
                continue
            }
            // Driver change (a device appeared, config switched): at a cycle boundary.
            if s.activeDriver?.toOpaque() != plan._withUnsafeGuaranteedRef({ $0.driver.toOpaque() }) {
                if s.isRunning, let old = s.activeDriver { old._withUnsafeGuaranteedRef { $0.stop() } }
                s.isRunning = false
                if registeredFD >= 0 { epoll.remove(registeredFD) }
                s.activeDriver = plan._withUnsafeGuaranteedRef { $0.driver }
                registeredFD = s.activeDriver!._withUnsafeGuaranteedRef { $0.pollDescriptor }
                if registeredFD >= 0 { try? epoll.add(registeredFD, events: .readable, token: Self.driverToken) }
            }
            let step = plan._withUnsafeGuaranteedRef { plan in
                s.activeDriver!._withUnsafeGuaranteedRef { driver in
                    cycle(plan: plan, driver: driver, mayBlockWhenIdle: cycleLimit == Int.max)
                }
            }
            switch step {
            case .ran(let n): cycles += n
            case .waited: continue
            case .idle: if cycleLimit != Int.max { return cycles }
            }
        }
        if hostRequested.load(ordering: .acquiring) { return cycles }   // the control thread keeps the loop
        if s.isRunning, let d = s.activeDriver { d._withUnsafeGuaranteedRef { $0.stop() } }
        s.isRunning = false
        s.activeDriver = nil   // the next `run` registers the driver's fd again
        if registeredFD >= 0 { epoll.remove(registeredFD) }
        // Hand the last plan back to the control side (it frees it in `retireFinal`).
        if let last = s.current { lastPlan.store(last, ordering: .releasing); s.current = nil }
        return cycles
    }

    /// [rt] Leaves the loop to the control thread until it hands it back: the driver's fd is
    /// watched by the control thread meanwhile, and the RT thread sleeps on its wake eventfd.
    private func park(registeredFD: inout Int32) {
        if registeredFD >= 0 { epoll.remove(registeredFD); registeredFD = -1 }
        while hostRequested.load(ordering: .acquiring) && !stopRequested.load(ordering: .acquiring) {
            // Answers the newest request (a new one may come while parked: it is answered at
            // the wake-up it causes).
            parkedFor.store(hostRequest.load(ordering: .relaxed), ordering: .releasing)
            waitForWake(timeoutMillis: -1)
        }
        if let d = loop.activeDriver {
            registeredFD = d._withUnsafeGuaranteedRef { $0.pollDescriptor }
            if registeredFD >= 0 { try? epoll.add(registeredFD, events: .readable, token: Self.driverToken) }
        }
    }

    /// [control, while hosting: `isParked` said so] Takes the newest plan and, when
    /// `runDue`, runs the ticks due by now, late as deferred ticks always are; starts or stops
    /// the driver as the graph becomes active or idle. Returns false when the plan can no
    /// longer be hosted (it does not defer, or its driver changed): the caller hands back.
    public func hostStep(runDue: Bool, timerFired: Bool) -> Bool {
        let s = loop
        if mailbox.acquire(&s.current) {
            stats.bump(stats.planSwaps)
            retiredSignal.signal()
        }
        guard let planRef = s.current, let driverRef = s.activeDriver else { return false }
        return planRef._withUnsafeGuaranteedRef { plan in
            guard plan.allowsDeferral, plan.driver.toOpaque() == driverRef.toOpaque() else { return false }
            return driverRef._withUnsafeGuaranteedRef { driver in
                guard prepare(plan: plan, driver: driver) else { return true }
                let woke = monotonicNanos()
                guard runDue, let t = driver.takeTick(nowNanos: woke) else { return true }
                runTicks(t, plan: plan, driver: driver, woke: woke, timerFired: timerFired)
                return true
            }
        }
    }

    /// The plan the RT thread held when `run` returned; the control side releases it.
    private let lastPlan = ManagedAtomic<Unmanaged<ExecutionPlan>?>(nil)

    /// [control] After `run` has returned: frees every plan.
    public func retireAll() {
        var last = lastPlan.exchange(nil, ordering: .acquiring)
        if last == nil { last = loop.current; loop.current = nil }
        mailbox.retireFinal(&last)
    }

    /// [rt]
    @inline(__always)
    private func waitForWake(timeoutMillis: Int32) {
        let n = epoll.wait(into: events, timeoutMillis: timeoutMillis)
        if n > 0 { wake.drain() }
    }

    /// [rt or hosting control] Stops the driver when the graph is idle, (re)starts it on a new
    /// grid when it becomes active or the quantum changed, and sets the ticks per wake-up.
    /// Returns false when idle.
    @inline(__always)
    private func prepare(plan: ExecutionPlan, driver: Driver) -> Bool {
        let s = loop
        guard planWantsCycles(plan) else {
            if s.isRunning {
                driver.stop()
                s.isRunning = false
                stats.deferring.store(false, ordering: .relaxed)
                stats.bump(stats.idleSleeps)
            }
            return false
        }
        let period = Int64(plan.quantum) * 1_000_000_000 / Int64(plan.sampleRate)
        // (Re)start on a new grid when waking from idle or when the quantum changed.
        if !s.isRunning || period != s.runningPeriod {
            driver.start(nowNanos: monotonicNanos(), periodNanos: period)
            s.isRunning = true
            s.runningPeriod = period
        }
        let perWake = plan.allowsDeferral ? max(cyclesPerWake.load(ordering: .relaxed), 1) : 1
        driver.setCyclesPerWake(perWake)
        stats.deferring.store(perWake > 1, ordering: .relaxed)
        return true
    }

    /// [rt] One pass: idle handling, waiting for the tick, running the plan.
    @inline(__always)
    private func cycle(plan: ExecutionPlan, driver: Driver, mayBlockWhenIdle: Bool) -> Step {
        guard prepare(plan: plan, driver: driver) else {
            // Idle costs nothing: no timer armed, the thread sleeps until the control side wakes it.
            if mayBlockWhenIdle { waitForWake(timeoutMillis: -1) }
            return .idle
        }
        var tick: DriverTick
        if driver.isFreewheel {
            if !planIsReady(plan) {
                waitForWake(timeoutMillis: 5)
                return .waited
            }
            let now = monotonicNanos()
            tick = DriverTick(dueNanos: now, deadlineNanos: Int64.max, missedTicks: 0)
            runTicks(tick, plan: plan, driver: driver, woke: now, timerFired: false)
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
            runTicks(tick, plan: plan, driver: driver, woke: woke, timerFired: driverReady)
        }
        return .ran(cycles: max(tick.cycles, 1))
    }

    /// [rt or hosting control] Runs the cycles of one tick, each at its own due time, and counts them.
    @inline(__always)
    private func runTicks(_ tick: DriverTick, plan: ExecutionPlan, driver: Driver, woke: Int64, timerFired: Bool) {
        let period = loop.runningPeriod
        if timerFired { stats.lateness.record(nanos: woke - (tick.dueNanos + Int64(tick.cycles - 1) * period)) }
        if tick.missedTicks > 0 {
            stats.bump(stats.missedTicks, by: Int64(tick.missedTicks))
            stats.bump(stats.xruns, by: Int64(tick.missedTicks))
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
