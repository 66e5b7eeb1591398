import Atomics

/// Hands execution plans from the control thread to the RT thread without locks, and hands
/// retired plans back so that they are freed on the control side. [any; see each method]
public final class PlanMailbox: Sendable {
    private let pending = ManagedAtomic<Unmanaged<ExecutionPlan>?>(nil)
    private let retired: SPSCRing<Unmanaged<ExecutionPlan>>

    public init(retireCapacity: Int = 64) {
        retired = SPSCRing(capacity: retireCapacity)
    }

    /// [control] Publishes `plan`; the RT thread switches to it at its next cycle boundary.
    public func publish(_ plan: ExecutionPlan) {
        // acquiringAndReleasing: release so the RT thread sees the fully built plan; acquire so
        // a stale plan we get back is fully visible before we release it.
        if let stale = pending.exchange(.passRetained(plan), ordering: .acquiringAndReleasing) {
            stale.release()   // the RT thread never took it: still ours to free
        }
        reclaim()
    }

    /// [control] Frees plans the RT thread has finished with. Returns how many.
    @discardableResult
    public func reclaim() -> Int {
        var n = 0
        while let old = retired.pop() {
            old.release()     // deinit (and every buffer/node it was the last owner of) runs here
            n += 1
        }
        return n
    }

    /// [rt] At a cycle boundary: switches `current` to a newly published plan, if any.
    /// The old plan goes to the retire ring; if that ring is full the switch waits a cycle,
    /// so the RT thread never drops the last reference to anything.
    @inline(__always)
    public func acquire(_ current: inout Unmanaged<ExecutionPlan>?) -> Bool {
        if current != nil && retired.isFull { return false }
        guard let new = pending.exchange(nil, ordering: .acquiringAndReleasing) else { return false }
        if let old = current { retired.push(old) }
        current = new
        return true
    }

    /// [control] After the RT thread has stopped: releases its last plan and anything pending.
    public func retireFinal(_ current: inout Unmanaged<ExecutionPlan>?) {
        current?.release()
        current = nil
        pending.exchange(nil, ordering: .acquiringAndReleasing)?.release()
        reclaim()
    }
}
