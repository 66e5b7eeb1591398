import Graph

extension FileSinkNode {
    /// [rt] Interleaves the inputs into the ring for the writer thread.
    func processCycle(_ context: ProcessContext) -> ProcessStatus {
        guard let ring, let scratch, !finished.load(ordering: .relaxed) else { return .ok }
        var linked = false
        for p in 0..<context.inputCount where context.linkCount(input: p) > 0 { linked = true }
        guard linked else { return .ok }
        recording.store(true, ordering: .relaxed)
        var frames = context.frameCount
        if frameLimit > 0 { frames = min(frames, frameLimit - writtenFrames) }
        let channels = channelCount
        for c in 0..<channels {
            let input = context.input(c)
            for i in 0..<frames { scratch[i * channels + c] = input[i] }
        }
        let wanted = frames * channels
        let written = ring.write(scratch, count: wanted)
        writtenFrames += written / channels
        framesRecorded.store(writtenFrames, ordering: .relaxed)
        if frameLimit > 0 && writtenFrames >= frameLimit { finished.store(true, ordering: .releasing) }
        if written < wanted {
            overrunCount.store(overrunCount.load(ordering: .relaxed) &+ 1, ordering: .relaxed)
            return .overrun
        }
        return .ok
    }

    /// [rt] Recording keeps the driver running.
    func hasWork(linkedInputCount: Int) -> Bool {
        linkedInputCount > 0 && !finished.load(ordering: .relaxed)
    }

    /// [rt] Freewheel waits for the writer rather than dropping audio.
    func canTakeCycle(frameCount: Int) -> Bool {
        guard let ring else { return true }
        return finished.load(ordering: .relaxed) || ring.writableCount >= frameCount * channelCount
    }
}
