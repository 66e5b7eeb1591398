import CSoxr

/// Sample-rate conversion of interleaved float audio for pulse streams (libsoxr, "medium
/// quality" recipe). [control]
///
/// Chosen by measurement (Benchmarks/resampler, Docs/performance.md): against libspeexdsp at
/// quality 4 on 44.1 → 48 kHz stereo in 10 ms blocks, soxr MQ is about 7× cheaper (0.06 % vs
/// 0.44 % of a core per stream), cleaner (THD+N −115 vs −104 dB at 1 kHz, −114 vs −78 dB at
/// 20 kHz) and flat to 20 kHz (−0.2 vs −1.1 dB), for 3.7 ms of filter delay (speex: 0.7 ms).
public final class Resampler {
    private let state: soxr_t
    public let channels: Int
    public let inputRate: Int
    public let outputRate: Int
    private var scratch: [Float] = []

    public init?(channels: Int, inputRate: Int, outputRate: Int) {
        guard channels > 0, inputRate > 0, outputRate > 0 else { return nil }
        var error: soxr_error_t?
        var io = soxr_io_spec(SOXR_FLOAT32_I, SOXR_FLOAT32_I)
        var quality = soxr_quality_spec(UInt(SOXR_MQ), 0)
        guard let s = soxr_create(Double(inputRate), Double(outputRate), UInt32(channels), &error, &io, &quality, nil), error == nil else {
            return nil
        }
        state = s
        self.channels = channels
        self.inputRate = inputRate
        self.outputRate = outputRate
    }

    /// Converts all of `input` (interleaved frames) and appends the output frames to `output`.
    public func process(_ input: [Float], appendingTo output: inout [Float]) {
        let inFrames = input.count / channels
        guard inFrames > 0 else { return }
        let capacity = inFrames * outputRate / inputRate + 256
        if scratch.count < capacity * channels { scratch = [Float](repeating: 0, count: capacity * channels) }
        var consumed = 0
        while consumed < inFrames {
            var used = 0, produced = 0
            input.withUnsafeBufferPointer { src in
                scratch.withUnsafeMutableBufferPointer { dst in
                    _ = soxr_process(state, src.baseAddress! + consumed * channels, inFrames - consumed, &used,
                                     dst.baseAddress!, capacity, &produced)
                }
            }
            output.append(contentsOf: scratch[0..<(produced * channels)])
            consumed += used
            if used == 0 && produced == 0 { break }
        }
    }

    /// End of input (a drain): appends what the filter still holds, then resets for new input.
    public func flush(appendingTo output: inout [Float]) {
        let capacity = 4096
        if scratch.count < capacity * channels { scratch = [Float](repeating: 0, count: capacity * channels) }
        while true {
            var produced = 0
            scratch.withUnsafeMutableBufferPointer { dst in
                _ = soxr_process(state, nil, 0, nil, dst.baseAddress!, capacity, &produced)
            }
            if produced == 0 { break }
            output.append(contentsOf: scratch[0..<(produced * channels)])
        }
        _ = soxr_clear(state)
    }

    /// Frames of delay the filter adds at this moment.
    public var delayFrames: Double { soxr_delay(state) }

    deinit { soxr_delete(state) }
}
