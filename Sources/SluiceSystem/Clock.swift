import CSluiceShim

/// CLOCK_MONOTONIC in nanoseconds. [rt] vDSO call: no syscall, no allocation.
@inline(__always)
public func monotonicNanos() -> Int64 { sluice_monotonic_nanos() }
