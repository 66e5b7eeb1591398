import Atomics

/// Per-node processing time and overruns, written by the RT thread, read by the control side.
/// Single writer: the RT thread uses relaxed load+store (plain moves, no locked RMW).
public final class NodeStats: Sendable {
    let lastNanos = ManagedAtomic<Int64>(0)
    let maxNanos = ManagedAtomic<Int64>(0)
    let totalNanos = ManagedAtomic<Int64>(0)
    let cycles = ManagedAtomic<Int64>(0)
    let overruns = ManagedAtomic<Int64>(0)

    public init() {}

    /// [rt]
    @inline(__always)
    func record(nanos: Int64, overrun: Bool) {
        lastNanos.store(nanos, ordering: .relaxed)
        if nanos > maxNanos.load(ordering: .relaxed) { maxNanos.store(nanos, ordering: .relaxed) }
        totalNanos.store(totalNanos.load(ordering: .relaxed) &+ nanos, ordering: .relaxed)
        cycles.store(cycles.load(ordering: .relaxed) &+ 1, ordering: .relaxed)
        if overrun { overruns.store(overruns.load(ordering: .relaxed) &+ 1, ordering: .relaxed) }
    }

    /// [control]
    public var snapshot: NodeStatsSnapshot {
        NodeStatsSnapshot(cycles: cycles.load(ordering: .relaxed), lastNanos: lastNanos.load(ordering: .relaxed),
                          maxNanos: maxNanos.load(ordering: .relaxed), totalNanos: totalNanos.load(ordering: .relaxed),
                          overruns: overruns.load(ordering: .relaxed))
    }
}

/// A reading of `NodeStats`.
public struct NodeStatsSnapshot: Sendable, Equatable {
    public let cycles: Int64
    public let lastNanos: Int64
    public let maxNanos: Int64
    public let totalNanos: Int64
    public let overruns: Int64
    public var meanNanos: Int64 { cycles > 0 ? totalNanos / cycles : 0 }
}
