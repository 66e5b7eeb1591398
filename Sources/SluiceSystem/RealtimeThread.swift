import CSluiceShim
import Glibc

/// A thread's scheduling policy.
public enum SchedulingPolicy: Sendable, Equatable, CustomStringConvertible {
    case fifo(priority: Int32)
    case other
    /// SCHED_OTHER that does not preempt a running thread when it wakes: it runs once the
    /// thread that woke it yields (the control thread while nothing is time-critical).
    case batch
    public var description: String {
        switch self {
        case .fifo(let p): "SCHED_FIFO/\(p)"
        case .other: "SCHED_OTHER"
        case .batch: "SCHED_BATCH"
        }
    }

    private var kernelValue: (policy: Int32, priority: Int32) {
        switch self {
        case .fifo(let p): (sluice_sched_fifo(), p)
        case .other: (sluice_sched_other(), 0)
        case .batch: (sluice_sched_batch(), 0)
        }
    }

    fileprivate init(kernelPolicy: Int32, priority: Int32) {
        if kernelPolicy == sluice_sched_fifo() { self = .fifo(priority: priority) }
        else if kernelPolicy == sluice_sched_batch() { self = .batch }
        else { self = .other }
    }

    /// Applies the policy to the calling thread. [any]
    public func applyToCallingThread() throws(Errno) {
        let (policy, priority) = kernelValue
        let rc = sluice_thread_set_policy(0, policy, priority)
        if rc != 0 { throw Errno(rawValue: rc) }
    }
}

/// A plain OS thread for the data plane, SCHED_FIFO when permitted. [control to create/join]
///
/// It never touches an actor, a task or a continuation; its body talks to the rest of the
/// daemon through atomics and rings only.
public final class RealtimeThread: @unchecked Sendable {
    // @unchecked: `tid` is written once in `start` before any other thread can see it and read
    // only by `join` on the creating thread.
    private var tid: UInt = 0
    private var started = false
    /// What the thread got at its start: FIFO when asked and permitted, otherwise SCHED_OTHER.
    public private(set) var policy: SchedulingPolicy = .other
    /// Why FIFO was refused (EPERM without CAP_SYS_NICE/RLIMIT_RTPRIO), if it was.
    public private(set) var fifoError: Errno?

    private final class Box: @unchecked Sendable {
        // @unchecked: handed to exactly one new thread, which owns it from then on.
        let name: String
        let body: @Sendable () -> Void
        init(name: String, body: @escaping @Sendable () -> Void) { self.name = name; self.body = body }
    }

    public init() {}

    /// Starts `body` on a new thread named `name` (≤ 15 bytes), at SCHED_FIFO `priority` when
    /// `priority > 0` and the system permits, otherwise at normal priority.
    public func start(name: String, priority: Int32, body: @escaping @Sendable () -> Void) throws(Errno) {
        precondition(!started, "a RealtimeThread starts once")
        let box = Unmanaged.passRetained(Box(name: name, body: body)).toOpaque()
        var t: UInt = 0
        var gotFIFO: Int32 = 0
        var fifoErrno: Int32 = 0
        let rc = sluice_thread_create(&t, { raw in
            let box = Unmanaged<Box>.fromOpaque(raw!).takeRetainedValue()
            _ = sluice_set_thread_name(String(box.name.prefix(15)))
            box.body()
            return nil
        }, box, priority, &gotFIFO, &fifoErrno)
        guard rc == 0 else {
            Unmanaged<Box>.fromOpaque(box).release()
            throw Errno(rawValue: rc)
        }
        tid = t
        started = true
        policy = gotFIFO != 0 ? .fifo(priority: priority) : .other
        fifoError = fifoErrno != 0 ? Errno(rawValue: fifoErrno) : nil
    }

    /// Waits for the thread to finish.
    public func join() {
        guard started else { return }
        _ = sluice_thread_join(tid)
        started = false
    }

    /// The calling thread's policy, read from the kernel. [any]
    public static func currentPolicy() -> SchedulingPolicy {
        var prio: Int32 = 0
        let p = sluice_thread_policy(0, &prio)
        return SchedulingPolicy(kernelPolicy: p, priority: prio)
    }
}
