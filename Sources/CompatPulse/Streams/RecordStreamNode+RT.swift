import Graph

extension RecordStreamNode {
    /// [rt] Interleaves one cycle of input, with the stream's volume, into the ring.
    func capture(_ context: ProcessContext) -> ProcessStatus {
        guard let scratch, !corked.load(ordering: .relaxed) else { return .ok }
        let frames = context.frameCount
        let channels = min(channelCount, context.inputCount)
        for c in 0..<channels {
            let input = context.input(c)
            let (start, step) = volume.ramp(channel: c, frames: frames)
            var g = start
            for i in 0..<frames {
                g += step
                scratch[i * channelCount + c] = input[i] * g
            }
        }
        let written = ring.write(scratch, count: frames * channelCount) / channelCount
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
