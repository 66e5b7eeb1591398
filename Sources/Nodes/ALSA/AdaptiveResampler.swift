import CSoxr

/// Variable-ratio resampling for a device that follows another's clock (libsoxr's variable-rate
/// mode, `SOXR_VR`): planar float in, planar float out, the ratio retuned every cycle.
///
/// `init` runs on the control thread; `process` and `setRatio` on the RT thread. soxr sizes its
/// buffers at creation for the largest block (`maximumFrames`) and the widest ratio (±1 %), and
/// Tests/AlsaTests counts allocations across thousands of cycles to prove it does not grow them.
public final class AdaptiveResampler: @unchecked Sendable {
    // @unchecked: handed to the RT thread through a plan, used there only.
    private let state: soxr_t
    public let channels: Int
    public let maximumFrames: Int
    /// Output frames one `process` call can produce at most.
    public let outputCapacity: Int

    public init?(channels: Int, maximumFrames: Int) {
        guard channels > 0, maximumFrames > 0 else { return nil }
        var error: soxr_error_t?
        var io = soxr_io_spec(SOXR_FLOAT32_S, SOXR_FLOAT32_S)
        var quality = soxr_quality_spec(UInt(SOXR_HQ), UInt(SOXR_VR))
        // In VR mode the first argument is the largest input/output ratio that will be asked.
        guard let s = soxr_create(1.02, 1, UInt32(channels), &error, &io, &quality, nil), error == nil else { return nil }
        state = s
        self.channels = channels
        self.maximumFrames = maximumFrames
        outputCapacity = maximumFrames * 2 + 256
        _ = soxr_set_io_ratio(s, 1, 0)
    }

    /// [rt] From now on, produce `ratio` output frames per input frame, slewing over `slew`
    /// output frames so the change is inaudible.
    @inline(__always)
    public func setRatio(_ ratio: Double, slew: Int) {
        _ = soxr_set_io_ratio(state, 1 / ratio, slew)
    }

    /// [rt] Resamples `frameCount` frames of `input` (one pointer per channel) into `output`
    /// (one pointer per channel, `outputCapacity` frames each). Returns the frames produced.
    @inline(__always)
    public func process(_ input: UnsafePointer<UnsafePointer<Float>>, frameCount: Int,
                        into output: UnsafePointer<UnsafeMutablePointer<Float>>) -> Int {
        var used = 0, produced = 0
        _ = soxr_process(state, UnsafeRawPointer(input), frameCount, &used,
                         UnsafeMutableRawPointer(mutating: output), outputCapacity, &produced)
        return produced
    }

    /// [rt] Frames of delay in the filter now.
    public var delayFrames: Double { soxr_delay(state) }

    /// [rt] Forgets the held input (the stream restarted).
    public func clear() {
        _ = soxr_clear(state)
        _ = soxr_set_io_ratio(state, 1, 0)
    }

    deinit { soxr_delete(state) }
}
