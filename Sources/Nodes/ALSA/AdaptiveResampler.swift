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
        warmUp()
    }

    /// [control] soxr sets up its filters lazily, and differently when it speeds up and when it
    /// slows down; running silence through both regimes here makes it allocate everything now,
    /// not on the RT thread the first time a ratio crosses 1 (counted by `AlsaRealtimeTests`).
    private func warmUp() {
        let input = UnsafeMutablePointer<UnsafePointer<Float>>.allocate(capacity: channels)
        let output = UnsafeMutablePointer<UnsafeMutablePointer<Float>>.allocate(capacity: channels)
        let zeros = UnsafeMutablePointer<Float>.allocate(capacity: maximumFrames)
        zeros.initialize(repeating: 0, count: maximumFrames)
        var buffers: [UnsafeMutablePointer<Float>] = []
        for c in 0..<channels {
            input[c] = UnsafePointer(zeros)
            let b = UnsafeMutablePointer<Float>.allocate(capacity: outputCapacity)
            buffers.append(b)
            output[c] = b
        }
        for ratio in [0.99, 1.01, 0.995, 1.005, 1.0] {
            _ = soxr_set_io_ratio(state, 1 / ratio, 0)
            for _ in 0..<8 { _ = process(UnsafePointer(input), frameCount: maximumFrames, into: UnsafePointer(output)) }
        }
        for b in buffers { b.deallocate() }
        zeros.deallocate()
        input.deallocate()
        output.deallocate()
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
        process(input, frameCount: frameCount, into: output, outputLimit: outputCapacity).produced
    }

    /// [rt] As above, producing at most `outputLimit` frames; also says how many input frames
    /// soxr took (it may leave some when the output is full).
    @inline(__always)
    public func process(_ input: UnsafePointer<UnsafePointer<Float>>, frameCount: Int,
                        into output: UnsafePointer<UnsafeMutablePointer<Float>>, outputLimit: Int) -> (used: Int, produced: Int) {
        var used = 0, produced = 0
        _ = soxr_process(state, UnsafeRawPointer(input), frameCount, &used,
                         UnsafeMutableRawPointer(mutating: output), min(outputLimit, outputCapacity), &produced)
        return (used, produced)
    }

    deinit { soxr_delete(state) }
}
