import Atomics

/// Per-channel linear gains shared by the control thread (writer) and the RT thread (reader),
/// with the RT-side ramp state. [any]
public final class StreamVolume: @unchecked Sendable {
    // @unchecked: `targets` are atomics; `current` is touched by the RT thread only, allocated
    // here and never resized.
    let targets: [ManagedAtomic<UInt32>]     // Float bit patterns
    let muted = ManagedAtomic<Bool>(false)
    let current: UnsafeMutableBufferPointer<Float>

    public init(channels: Int, linear: Float = 1) {
        targets = (0..<channels).map { _ in ManagedAtomic(linear.bitPattern) }
        current = .allocate(capacity: channels)
        current.initialize(repeating: linear)
    }

    deinit { current.deallocate() }

    /// [control] Sets each channel's linear gain (already through the cubic mapping).
    public func set(_ gains: [Float]) {
        for (i, t) in targets.enumerated() {
            t.store((i < gains.count ? gains[i] : gains.last ?? 1).bitPattern, ordering: .relaxed)
        }
    }

    /// [control] Sets the gain the stream starts at, without a ramp (before its first cycle).
    public func setInitial(_ gains: [Float]) {
        set(gains)
        for i in 0..<current.count { current[i] = Float(bitPattern: targets[i].load(ordering: .relaxed)) }
    }

    /// [rt] The gain of channel `c` at the start of this cycle and the per-frame step toward its
    /// target; advances the ramp state to the target.
    @inline(__always)
    func ramp(channel c: Int, frames: Int) -> (start: Float, step: Float) {
        let target = muted.load(ordering: .relaxed) ? 0 : Float(bitPattern: targets[c].load(ordering: .relaxed))
        let start = current[c]
        current[c] = target
        return (start, (target - start) / Float(max(frames, 1)))
    }
}
