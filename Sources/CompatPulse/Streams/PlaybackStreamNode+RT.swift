import Graph

extension PlaybackStreamNode {
    /// [rt] Plays one cycle from the ring with the stream's volume; silence while prebuffering
    /// or corked; an empty ring is an underrun, reported through atomics and the progress fd.
    /// When the plan lets the stream add straight into the sink's mix (`context.accumulates`),
    /// it adds instead of writing, and silence adds nothing. A raw ring holds the client's s16,
    /// converted here (the 1/32768 folded into the gain).
    func play(_ context: ProcessContext) -> ProcessStatus {
        let frames = context.frameCount
        let adds = context.accumulates
        let channels = min(channelCount, context.outputCount)
        guard let scratch, started.load(ordering: .relaxed), !corked.load(ordering: .relaxed) else {
            if !adds && context.outputsObserved { for c in 0..<context.outputCount { context.output(c).update(repeating: 0, count: frames) } }
            wasPlaying = false
            return .ok
        }
        let cc = channelCount
        let scale: Float = rawRing == nil ? 1 : 1 / 32768
        // This cycle's gain ramp per channel (start, then step), computed once: the ring may
        // hand its data over in two regions. `scratch` holds quantum × channels floats.
        for c in 0..<channels {
            let (start, step) = volume.ramp(channel: c, frames: frames)
            scratch[c] = start * scale
            scratch[cc + c] = step * scale
        }
        // Straight from the ring's storage (no copy): each region holds whole frames because the
        // ring's capacity and every write are multiples of the channel count.
        let got: Int
        if !context.outputsObserved {
            // Nobody hears the sink (a null sink without a monitor reader): the queue still
            // plays out at the graph's pace, without a sample converted.
            if let rawRing {
                got = rawRing.consume(count: frames * cc) { _, _, _ in } / cc
            } else {
                got = ring.consume(count: frames * cc) { _, _, _ in } / cc
            }
        } else if let rawRing {
            got = rawRing.consume(count: frames * cc) { source, offset, length in
                render(source, first: offset / cc, count: length / cc, channels: channels, adds: adds, context: context) { Float($0) }
            } / cc
        } else {
            got = ring.consume(count: frames * cc) { source, offset, length in
                render(source, first: offset / cc, count: length / cc, channels: channels, adds: adds, context: context) { $0 }
            } / cc
        }
        if got < frames && !adds && context.outputsObserved {
            for c in 0..<channels { (context.output(c) + got).update(repeating: 0, count: frames - got) }
        }
        let played = framesPlayed.load(ordering: .relaxed) &+ got
        framesPlayed.store(played, ordering: .relaxed)
        if got < frames {
            underrunFrames.store(underrunFrames.load(ordering: .relaxed) &+ (frames - got), ordering: .relaxed)
            if !underran.load(ordering: .relaxed) {
                underran.store(true, ordering: .releasing)
                progress.signal()
                lastSignalFrames = played
            }
        } else {
            // The first cycle played after prebuffering, a cork or an underrun is signalled at
            // once (the client waits for STARTED); then once `signalAtFrames` is reached (a
            // request falls due there), with `signalEveryFrames` as a backstop.
            let target = signalAtFrames.load(ordering: .relaxed)
            let due = played >= target && target != lastSignalTarget
            if !wasPlaying || due || played - lastSignalFrames >= signalEveryFrames.load(ordering: .relaxed) {
                progress.signal()
                lastSignalFrames = played
                if due { lastSignalTarget = target }
            }
        }
        wasPlaying = true
        return .ok
    }

    /// [rt] `count` interleaved frames from `source` (each sample made a float by `value`) into
    /// the outputs from frame `first`, with the gain ramps in `scratch`; written, or added.
    @inline(__always)
    private func render<Sample>(_ source: UnsafePointer<Sample>, first: Int, count: Int, channels: Int, adds: Bool,
                                context: ProcessContext, _ value: (Sample) -> Float) {
        guard let scratch else { return }
        let cc = channelCount
        if cc == 2 && channels == 2 && scratch[2] == 0 && scratch[3] == 0 {
            // Stereo at a steady gain, the common case: one pass over the interleaved frames
            // with a constant stride, which the optimiser vectorises (de-interleaving with
            // shuffles) where the general loop below gathers one channel at a time.
            let left = context.output(0) + first, right = context.output(1) + first
            let gl = scratch[0], gr = scratch[1]
            if adds {
                for i in 0..<count {
                    left[i] += value(source[2 * i]) * gl
                    right[i] += value(source[2 * i + 1]) * gr
                }
            } else {
                for i in 0..<count {
                    left[i] = value(source[2 * i]) * gl
                    right[i] = value(source[2 * i + 1]) * gr
                }
            }
            return
        }
        for c in 0..<channels {
            let out = context.output(c) + first
            let start = scratch[c], step = scratch[cc + c]
            // No loop-carried sum: the steady case (step 0) is a plain strided multiply the
            // optimiser vectorises; a ramp computes each sample's gain from its index.
            switch (step == 0, adds) {
            case (true, false): for i in 0..<count { out[i] = value(source[i * cc + c]) * start }
            case (true, true): for i in 0..<count { out[i] += value(source[i * cc + c]) * start }
            case (false, false): for i in 0..<count { out[i] = value(source[i * cc + c]) * (start + step * Float(first + i + 1)) }
            case (false, true): for i in 0..<count { out[i] += value(source[i * cc + c]) * (start + step * Float(first + i + 1)) }
            }
        }
    }
}
