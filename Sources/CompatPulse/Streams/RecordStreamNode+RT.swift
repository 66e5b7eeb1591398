import Graph

extension RecordStreamNode {
    /// [rt] Interleaves one cycle of input, with the stream's volume, into the ring.
    func capture(_ context: ProcessContext) -> ProcessStatus {
        guard let scratch, !corked.load(ordering: .relaxed) else { return .ok }
        let frames = context.frameCount
        let cc = channelCount
        let channels = min(cc, context.inputCount)
        // This cycle's gain ramp per channel (start, then step), computed once: the ring may
        // take the cycle in two regions. `scratch` holds quantum × channels floats.
        for c in 0..<channels {
            let (start, step) = volume.ramp(channel: c, frames: frames)
            scratch[c] = start
            scratch[cc + c] = step
        }
        // Interleaved straight into the ring's free space (no copy); each region holds whole
        // frames because the ring's capacity and every write are multiples of the channel count.
        let written = ring.produce(count: frames * cc) { destination, offset, length in
            let first = offset / cc, count = length / cc
            if cc == 2 && channels == 2 && scratch[2] == 0 && scratch[3] == 0 {
                // Stereo at a steady gain, the common case: one pass over the frames.
                let left = context.input(0) + first, right = context.input(1) + first
                let gl = scratch[0], gr = scratch[1]
                for i in 0..<count {
                    destination[2 * i] = left[i] * gl
                    destination[2 * i + 1] = right[i] * gr
                }
                return
            }
            for c in 0..<cc {
                guard c < channels else {
                    for i in 0..<count { destination[i * cc + c] = 0 }
                    continue
                }
                let input = context.input(c) + first
                let start = scratch[c], step = scratch[cc + c]
                // Each sample's gain from its index: no loop-carried sum.
                for i in 0..<count { destination[i * cc + c] = input[i] * (start + step * Float(first + i + 1)) }
            }
        } / cc
        let captured = framesCaptured.load(ordering: .relaxed) &+ written
        framesCaptured.store(captured, ordering: .relaxed)
        if written < frames {
            overflowFrames.store(overflowFrames.load(ordering: .relaxed) &+ (frames - written), ordering: .relaxed)
        }
        if captured - lastSignalFrames >= signalEveryFrames.load(ordering: .relaxed) {
            progress.signal()
            lastSignalFrames = captured
        }
        return written < frames ? .overrun : .ok
    }
}
