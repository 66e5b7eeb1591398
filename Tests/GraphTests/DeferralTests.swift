import Atomics
import Glibc
import Graph
import Nodes
import SluiceSystem
import Testing

/// Records, per cycle, when it was due and when it actually ran (preallocated; RT-safe).
final class CycleClockNode: AudioNode, @unchecked Sendable {
    let capacity = 4096
    let due: UnsafeMutablePointer<Int64>
    let ran: UnsafeMutablePointer<Int64>
    let count = ManagedAtomic<Int>(0)
    /// The thread that ran the last cycle (pthread_self).
    let runner = ManagedAtomic<UInt>(0)
    init(name: String) {
        due = .allocate(capacity: capacity)
        ran = .allocate(capacity: capacity)
        super.init(name: name, typeName: "cycle-clock", inputPortNames: [], outputPortNames: [])
    }
    deinit { due.deallocate(); ran.deallocate() }
    override var toleratesDeferredCycles: Bool { true }
    override func wantsCycles(linkedInputCount: Int) -> Bool { true }
    override func process(_ context: ProcessContext) -> ProcessStatus {
        let n = count.load(ordering: .relaxed)
        if n < capacity {
            due[n] = context.cycleNanos
            ran[n] = monotonicNanos()
            count.store(n + 1, ordering: .releasing)
        }
        runner.store(UInt(pthread_self()), ordering: .relaxed)
        return .ok
    }
    var recorded: [(due: Int64, ran: Int64)] {
        (0..<count.load(ordering: .acquiring)).map { (due[$0], ran[$0]) }
    }
}

@Suite("unobserved outputs and deferred cycles", .serialized)
struct DeferralTests {
    let monoFormat = GraphFormat(sampleRate: 48_000, quantum: 64, channelNames: ["MONO"])

    @Test("what feeds a null sink nobody monitors is unobserved and not mixed; a reader of the monitor makes it observed and hears the sum")
    func nullSinkWithoutMonitorIsUnobserved() throws {
        let e = try Engine(format: monoFormat, driver: FreewheelDriver())
        let a = ConstantNode(name: "a", value: 0.25, deferrable: true, keepsRunning: true), b = ConstantNode(name: "b", value: 0.5, deferrable: true, keepsRunning: true)
        let direct = ConstantNode(name: "direct", value: 1, deferrable: true, keepsRunning: true)
        try e.add(a)
        try e.add(b)
        try e.add(direct)
        try e.add(NullSinkNode(name: "null", channels: ["MONO"]))
        let heard = ProbeNode(name: "heard", capacity: 64 * 8, wantsCycles: false)
        let monitor = ProbeNode(name: "monitor", capacity: 64 * 8, wantsCycles: false)
        try e.add(heard)
        try e.add(monitor)
        try e.link(node: "a", to: "null")
        try e.link(node: "b", to: "null")
        try e.link(node: "direct", to: "heard")
        #expect(e.runCycles(1) == 1)
        #expect(!a.wasObserved && !b.wasObserved)
        #expect(direct.wasObserved, "a probe uses its input")
        try e.link(node: "null", to: "monitor")
        #expect(e.runCycles(2) == 2)
        #expect(a.wasObserved && b.wasObserved)
        // The probe reads its input every cycle: silence before the link, then the sum.
        #expect(monitor.recorded.count == 192 && monitor.recorded[64...].allSatisfy { $0 == 0.75 }, "\(monitor.recorded.suffix(4))")
        try e.unlink(node: "null", to: "monitor")
        #expect(e.runCycles(1) == 1)
        #expect(!a.wasObserved && !b.wasObserved)
        #expect(monitor.recorded.count == 256 && monitor.recorded[192...].allSatisfy { $0 == 0 }, "an unlinked monitor receives nothing")
    }

    @Test("a timer-driven graph that tolerates deferral wakes once per k ticks, runs every tick on the grid and never before it is due, catches up on demand, and goes back to a wake-up per tick")
    func timerDefersCycles() throws {
        // 1,024 frames at 48 kHz: a 21.3 ms period; k = 8: a wake-up every 171 ms.
        let format = GraphFormat(sampleRate: 48_000, quantum: 1024, channelNames: ["MONO"])
        let e = try Engine(format: format, driver: try TimerDriver())
        e.maximumCyclesPerWake = 8
        let clock = CycleClockNode(name: "clock")
        try e.add(clock)
        try e.start(realtimePriority: 0)
        defer { e.stop() }
        e.setCyclesPerWake(8)
        usleep(1_200_000)
        let s1 = e.core.stats.snapshot
        #expect(s1.deferring)
        #expect(s1.cycles >= 40, "1.2 s at 21.3 ms: about 56 ticks (\(s1.cycles))")
        #expect(s1.wakeUps * 4 <= s1.cycles, "\(s1.wakeUps) wake-ups for \(s1.cycles) cycles")
        let period = e.periodNanos
        let r = clock.recorded
        if e.core.stats.snapshot.missedTicks == 0 {
            for i in 1..<r.count {
                #expect(r[i].due - r[i - 1].due == period, "cycle \(i) is not one period after the one before")
            }
        }
        #expect(r.allSatisfy { $0.ran >= $0.due }, "no cycle runs before it is due")

        // Between wake-ups the graph lags the clock (it rendered one tick ahead at the last
        // wake-up, then the clock moved on); `catchUp` brings it to the clock, no further.
        var now: Int64 = 0
        let start = monotonicNanos()
        repeat {
            usleep(2000)
            now = monotonicNanos()
        } while e.renderedThroughNanos > now && now - start < 2_000_000_000
        #expect(e.renderedThroughNanos <= now, "deferred: behind the clock between wake-ups")
        e.catchUp()
        let caught = e.renderedThroughNanos
        #expect(caught > now, "caught up to the clock")
        #expect(caught <= monotonicNanos() + period, "and not beyond the tick due now")

        // Back to a wake-up per tick.
        e.setCyclesPerWake(1)
        let back = steadyState(e)
        #expect(!back.deferring)
        #expect(back.wakeUps >= back.cycles - 1, "one wake-up per cycle again")
    }

    @Test("the control thread can host deferred cycles: the RT thread parks, every tick still runs on the grid and never early, a catch-up runs at once, and a plan that does not defer hands the loop back without losing a tick")
    func controlThreadHostsDeferredCycles() throws {
        let format = GraphFormat(sampleRate: 48_000, quantum: 1024, channelNames: ["MONO"])
        let e = try Engine(format: format, driver: try TimerDriver())
        e.maximumCyclesPerWake = 8
        e.hostsDeferredCycles = true
        var hostedFD: Int32?
        e.onHostingChange = { hostedFD = $0 }
        let clock = CycleClockNode(name: "clock")
        try e.add(clock)
        let policyBefore = RealtimeThread.currentPolicy()
        try e.start(realtimePriority: 0)
        defer { e.stop() }
        usleep(100_000)
        #expect(!e.hosting && hostedFD == nil, "one tick per wake-up: the RT thread runs the cycles")
        e.setCyclesPerWake(8)
        #expect(e.hosting)
        let fd = try #require(hostedFD, "the driver's fd is handed to the control loop")
        if policyBefore == .other { #expect(RealtimeThread.currentPolicy() == .batch) }

        // This thread is the control loop now: it waits on the driver's fd and runs what is due.
        let epoll = try Epoll()
        try epoll.add(fd, events: .readable, token: 1)
        let events = EpollEventBuffer(capacity: 2)
        let before = e.core.stats.snapshot
        let t0 = monotonicNanos()
        var timerWakes = 0
        while monotonicNanos() - t0 < 1_200_000_000 {
            if epoll.wait(into: events, timeoutMillis: 50) > 0 {
                timerWakes += 1
                e.serviceHostedCycles(timerFired: true)
            }
        }
        let hosted = e.core.stats.snapshot
        #expect(hosted.cycles - before.cycles >= 40, "1.2 s at 21.3 ms: about 56 ticks (\(hosted.cycles - before.cycles))")
        #expect(timerWakes * 4 <= Int(hosted.cycles - before.cycles), "\(timerWakes) timer wake-ups for \(hosted.cycles - before.cycles) cycles")
        #expect(clock.runner.load(ordering: .relaxed) == UInt(pthread_self()), "the cycles ran on this thread")

        // A catch-up runs the ticks due at once, on this thread.
        let now = monotonicNanos()
        e.catchUp()
        #expect(e.renderedThroughNanos > now, "caught up to the clock")
        #expect(e.renderedThroughNanos <= monotonicNanos() + e.periodNanos, "and not beyond the tick due now")

        // A node that does not tolerate deferral: the RT thread has the loop back before its plan runs.
        try e.add(ConstantNode(name: "live", value: 1, keepsRunning: true))
        #expect(!e.hosting && hostedFD == nil)
        #expect(RealtimeThread.currentPolicy() == policyBefore, "the control thread's policy is restored")
        let back = steadyState(e)
        #expect(back.cycles >= 15 && back.wakeUps >= back.cycles - 1, "a wake-up per tick on the RT thread: \(back.wakeUps) for \(back.cycles)")
        #expect(clock.runner.load(ordering: .relaxed) != UInt(pthread_self()), "the cycles run on the RT thread again")
        let r = clock.recorded
        #expect(r.allSatisfy { $0.ran >= $0.due }, "no cycle ran before it was due")
        if e.core.stats.snapshot.missedTicks == 0 {
            for i in 1..<r.count {
                #expect(r[i].due - r[i - 1].due == e.periodNanos, "cycle \(i) is not one period after the one before (the grid survives both handovers)")
            }
        }
    }

    /// After 0.1 s to settle, what 0.5 s of running adds: cycles, wake-ups, and whether the
    /// graph was deferring at the end.
    private func steadyState(_ e: Engine) -> (cycles: Int64, wakeUps: Int64, deferring: Bool) {
        usleep(100_000)
        let a = e.core.stats.snapshot
        usleep(500_000)
        let b = e.core.stats.snapshot
        return (b.cycles - a.cycles, b.wakeUps - a.wakeUps, b.deferring)
    }

    @Test("a node that does not tolerate deferral keeps a wake-up per tick whatever is asked")
    func intolerantNodeKeepsEveryTick() throws {
        let format = GraphFormat(sampleRate: 48_000, quantum: 1024, channelNames: ["MONO"])
        let e = try Engine(format: format, driver: try TimerDriver())
        e.maximumCyclesPerWake = 8
        try e.add(CycleClockNode(name: "clock"))
        try e.add(ConstantNode(name: "live", value: 1, keepsRunning: true))
        try e.start(realtimePriority: 0)
        defer { e.stop() }
        e.setCyclesPerWake(8)
        let run = steadyState(e)
        #expect(!run.deferring)
        #expect(run.cycles >= 15, "about 23 ticks in 0.5 s")
        #expect(run.wakeUps >= run.cycles - 1)
    }
}
