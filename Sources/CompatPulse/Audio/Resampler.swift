import CSpeexDSP

/// Sample-rate conversion of interleaved float audio (libspeexdsp). [control]
///
/// libspeexdsp was picked over libsoxr for its small, predictable per-call cost on short
/// blocks (pulse streams convert a few ms at a time) and because PulseAudio users get the same
/// algorithm there (speex-float-N); see Docs/dependencies.md.
public final class Resampler {
    private let state: OpaquePointer
    public let channels: Int
    public let inputRate: Int
    public let outputRate: Int

    /// Quality 0...10 (PulseAudio's default speex-float-1 is 1; 4 is libspeexdsp's "desktop").
    public init?(channels: Int, inputRate: Int, outputRate: Int, quality: Int32 = 4) {
        var err: Int32 = 0
        guard let s = speex_resampler_init(UInt32(channels), UInt32(inputRate), UInt32(outputRate), quality, &err), err == 0 else {
            return nil
        }
        state = s
        self.channels = channels
        self.inputRate = inputRate
        self.outputRate = outputRate
        speex_resampler_skip_zeros(s)
    }

    /// Converts all of `input` (interleaved frames) and appends the output frames to `output`.
    public func process(_ input: [Float], appendingTo output: inout [Float]) {
        let inFrames = input.count / channels
        guard inFrames > 0 else { return }
        let capacity = inFrames * outputRate / inputRate + 64
        var scratch = [Float](repeating: 0, count: capacity * channels)
        var consumed = 0
        while consumed < inFrames {
            var inLen = UInt32(inFrames - consumed)
            var outLen = UInt32(capacity)
            input.withUnsafeBufferPointer { src in
                scratch.withUnsafeMutableBufferPointer { dst in
                    _ = speex_resampler_process_interleaved_float(state, src.baseAddress! + consumed * channels, &inLen, dst.baseAddress!, &outLen)
                }
            }
            output.append(contentsOf: scratch[0..<(Int(outLen) * channels)])
            consumed += Int(inLen)
            if inLen == 0 && outLen == 0 { break }
        }
    }

    deinit { speex_resampler_destroy(state) }
}
