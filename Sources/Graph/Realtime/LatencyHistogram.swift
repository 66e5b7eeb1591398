import Atomics

/// A fixed-bucket histogram of durations in nanoseconds, preallocated, written by one thread
/// without allocating: 1 µs buckets up to 1 ms, then 100 µs buckets up to 100 ms, then overflow.
public final class LatencyHistogram: @unchecked Sendable {
    // @unchecked: `buckets` points at preallocated atomic storage that lives as long as self.
    static let fineCount = 1000          // 0..<1000 µs, 1 µs each
    static let coarseCount = 990         // 1 ms..<100 ms, 100 µs each
    static let bucketCount = fineCount + coarseCount + 1
    private let storage: UnsafeMutablePointer<UnsafeAtomic<Int64>.Storage>
    private let maxValue = ManagedAtomic<Int64>(0)
    private let count = ManagedAtomic<Int64>(0)

    public init() {
        storage = .allocate(capacity: Self.bucketCount)
        for i in 0..<Self.bucketCount { (storage + i).initialize(to: .init(0)) }
    }

    @inline(__always)
    private func bucket(_ i: Int) -> UnsafeAtomic<Int64> { UnsafeAtomic(at: storage + i) }

    @inline(__always)
    static func index(nanos: Int64) -> Int {
        let micros = max(nanos, 0) / 1000
        if micros < Int64(fineCount) { return Int(micros) }
        let coarse = Int((micros - Int64(fineCount)) / 100)
        return fineCount + min(coarse, coarseCount)
    }

    /// Upper edge of a bucket in nanoseconds (the value percentiles report).
    static func upperNanos(index: Int) -> Int64 {
        if index < fineCount { return Int64(index + 1) * 1000 }
        return (Int64(fineCount) + Int64(index - fineCount + 1) * 100) * 1000
    }

    /// [rt] Single writer: relaxed load+store.
    @inline(__always)
    public func record(nanos: Int64) {
        let b = bucket(Self.index(nanos: nanos))
        b.store(b.load(ordering: .relaxed) &+ 1, ordering: .relaxed)
        count.store(count.load(ordering: .relaxed) &+ 1, ordering: .relaxed)
        if nanos > maxValue.load(ordering: .relaxed) { maxValue.store(nanos, ordering: .relaxed) }
    }

    /// [control] Percentiles (0...100) and max, in nanoseconds. Bucket resolution: 1 µs below 1 ms.
    public func summary() -> HistogramSummary {
        let total = count.load(ordering: .relaxed)
        var counts = [Int64](repeating: 0, count: Self.bucketCount)
        for i in 0..<Self.bucketCount { counts[i] = bucket(i).load(ordering: .relaxed) }
        func percentile(_ p: Double) -> Int64 {
            guard total > 0 else { return 0 }
            let rank = Int64((Double(total) * p / 100).rounded(.up))
            var seen: Int64 = 0
            for (i, c) in counts.enumerated() {
                seen += c
                if seen >= max(rank, 1) { return min(Self.upperNanos(index: i), maxValue.load(ordering: .relaxed)) }
            }
            return maxValue.load(ordering: .relaxed)
        }
        return HistogramSummary(count: total, p50Nanos: percentile(50), p99Nanos: percentile(99),
                                p999Nanos: percentile(99.9), maxNanos: maxValue.load(ordering: .relaxed))
    }

    /// [control] Not synchronized with the writer: call while the writer is idle or accept a
    /// few lost counts.
    public func reset() {
        for i in 0..<Self.bucketCount { bucket(i).store(0, ordering: .relaxed) }
        count.store(0, ordering: .relaxed)
        maxValue.store(0, ordering: .relaxed)
    }

    deinit { storage.deallocate() }
}

/// Percentiles of a histogram.
public struct HistogramSummary: Sendable, Equatable {
    public let count: Int64
    public let p50Nanos: Int64
    public let p99Nanos: Int64
    public let p999Nanos: Int64
    public let maxNanos: Int64
}

/// Per-cycle counters of one engine, written by the RT thread.
public final class CycleStats: Sendable {
    public let lateness = LatencyHistogram()
    public let processing = LatencyHistogram()
    let cycles = ManagedAtomic<Int64>(0)
    let xruns = ManagedAtomic<Int64>(0)
    let missedTicks = ManagedAtomic<Int64>(0)
    let planSwaps = ManagedAtomic<Int64>(0)
    let idleSleeps = ManagedAtomic<Int64>(0)
    /// Wake-ups that ran cycles (fewer than `cycles` while cycles are deferred).
    let wakeUps = ManagedAtomic<Int64>(0)
    let lastProcessingNanos = ManagedAtomic<Int64>(0)
    /// The end of the audio the graph has produced: the last cycle's due time plus its period.
    /// Behind the clock while cycles are deferred; ahead by up to a period otherwise.
    public let renderedThroughNanos = ManagedAtomic<Int64>(0)
    /// The driver wakes up less often than every tick (`RealtimeCore.cyclesPerWake` in force).
    public let deferring = ManagedAtomic<Bool>(false)

    public init() {}

    /// [rt]
    @inline(__always) func bump(_ a: ManagedAtomic<Int64>, by n: Int64 = 1) {
        a.store(a.load(ordering: .relaxed) &+ n, ordering: .relaxed)
    }

    /// [control]
    public var snapshot: CycleStatsSnapshot {
        CycleStatsSnapshot(cycles: cycles.load(ordering: .relaxed), xruns: xruns.load(ordering: .relaxed),
                           missedTicks: missedTicks.load(ordering: .relaxed), planSwaps: planSwaps.load(ordering: .relaxed),
                           idleSleeps: idleSleeps.load(ordering: .relaxed), wakeUps: wakeUps.load(ordering: .relaxed),
                           deferring: deferring.load(ordering: .relaxed),
                           lastProcessingNanos: lastProcessingNanos.load(ordering: .relaxed),
                           lateness: lateness.summary(), processing: processing.summary())
    }
}

/// A reading of `CycleStats`.
public struct CycleStatsSnapshot: Sendable, Equatable {
    public let cycles: Int64
    /// Cycles that finished after their deadline, plus timer ticks missed entirely.
    public let xruns: Int64
    public let missedTicks: Int64
    public let planSwaps: Int64
    public let idleSleeps: Int64
    public let wakeUps: Int64
    public let deferring: Bool
    public let lastProcessingNanos: Int64
    public let lateness: HistogramSummary
    public let processing: HistogramSummary
}
