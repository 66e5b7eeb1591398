import Graph

extension FileSourceNode {
    /// [rt] Copies the next frames out of the ring; silence (and an underrun) when it is short.
    func processCycle(_ context: ProcessContext) -> ProcessStatus {
        let frames = context.frameCount
        guard let ring, let scratch else { return .ok }
        let channels = channelCount
        let got = ring.read(into: scratch, count: frames * channels) / channels
        for c in 0..<min(channels, context.outputCount) {
            let out = context.output(c)
            for i in 0..<got { out[i] = scratch[i * channels + c] }
            if got < frames { (out + got).update(repeating: 0, count: frames - got) }
        }
        framesPlayed.store(framesPlayed.load(ordering: .relaxed) &+ got, ordering: .relaxed)
        if got < frames && !endOfFile.load(ordering: .acquiring) {
            underruns.store(underruns.load(ordering: .relaxed) &+ 1, ordering: .relaxed)
            return .overrun
        }
        return .ok
    }

    /// [rt] Freewheel waits for the reader rather than playing a gap.
    func canTakeCycle(frameCount: Int) -> Bool {
        guard let ring else { return true }
        return endOfFile.load(ordering: .acquiring) || ring.readableCount >= frameCount * channelCount
    }
}
