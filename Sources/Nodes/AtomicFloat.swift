import Atomics

/// A Double shared between the control thread (writer) and the RT thread (reader). [any]
public final class AtomicDouble: Sendable {
    private let bits: ManagedAtomic<UInt64>
    public init(_ value: Double) { bits = ManagedAtomic(value.bitPattern) }
    /// [rt]
    @inline(__always) public var value: Double { Double(bitPattern: bits.load(ordering: .relaxed)) }
    /// [control] Relaxed is enough: a parameter is one self-contained value, read once a cycle.
    public func set(_ v: Double) { bits.store(v.bitPattern, ordering: .relaxed) }
}
