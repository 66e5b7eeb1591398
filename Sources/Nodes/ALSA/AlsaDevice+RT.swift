import Atomics
import CAsound
import Glibc
import SluiceSystem

/// What the RT thread does with a device: start it, keep its fill at the target, move one
/// cycle's frames, recover from xruns and suspends, notice it vanish. No allocation, no lock,
/// no logging; libasound calls are non-blocking (the PCM is opened with SND_PCM_NONBLOCK).
extension AlsaDevice {
    /// [rt] System nanoseconds as device time in seconds since the stream started.
    @inline(__always)
    func deviceSeconds(_ nanos: Int64) -> Double { Double(nanos - startedNanos) * 1e-9 * clockScale }

    /// [rt] The playback fill target for cycles of `frames`: (headroom + 1) / 2 cycles (one and
    /// a half with the default headroom of 2), never more than the buffer less one cycle.
    @inline(__always)
    func targetFill(frames: Int) -> Int {
        guard let c = configuration else { return 0 }
        return min(c.bufferFrames - frames, frames * (headroomPeriods + 1) / 2)
    }

    /// [rt] Measures the fill (playback: frames queued; capture: frames waiting) and feeds the
    /// rate estimator. Returns the fill, or a negative errno from libasound.
    @inline(__always)
    func measureFill(now: inout Int64) -> Int {
        guard let c = configuration else { return Int(-EBADFD) }
        let before = monotonicNanos()
        let avail = pcm.availableFrames()
        let after = monotonicNanos()
        now = after
        if avail < 0 { return avail }
        let fill = pcm.stream == .playback ? c.bufferFrames - avail : avail
        fillFrameCount.store(fill, ordering: .relaxed)
        if fill < fillMinimum.load(ordering: .relaxed) { fillMinimum.store(fill, ordering: .relaxed) }
        if fill > fillMaximum.load(ordering: .relaxed) { fillMaximum.store(fill, ordering: .relaxed) }
        // A reading the thread was preempted in the middle of says little about when it was
        // true: it moves the fill, not the estimate.
        if isStarted && after - before < 100_000 {
            let played = Double(pcm.stream == .playback ? framesSinceStart - fill : framesSinceStart + fill)
            estimator.update(position: played, seconds: deviceSeconds((before + after) / 2))
            rateErrorBits.store(estimator.errorPPM.bitPattern, ordering: .relaxed)
            rateUpdates.store(estimator.updates, ordering: .relaxed)
        }
        return fill
    }

    /// [rt] Prepares (if needed), queues silence up to the target for cycles of `frames`, and
    /// starts the stream. False when the device refused (the state says why).
    func startStream(frames: Int, now: Int64) -> Bool {
        guard let c = configuration, let silence else { return false }
        if state == .gone { return false }
        let s = pcm.state
        if s != SND_PCM_STATE_PREPARED {
            let err = pcm.prepare()
            if err < 0 { return fail(err, now: now) }
        }
        framesSinceStart = 0
        capturePrimed = false
        stagingCount = 0
        inputCarry = 0
        if pcm.stream == .playback {
            let table = playbackTable!
            for ch in 0..<c.channelCount { table[ch] = UnsafePointer(silence) }
            var queued = 0
            let target = targetFill(frames: frames)
            while queued < target {
                let n = pcm.write(UnsafePointer(table), sourceOffset: 0, frameCount: min(target - queued, quantumCapacity),
                                  configuration: c, scratch: scratch!)
                if n <= 0 { if n < 0 && n != -Int(EAGAIN) { return fail(Int32(n), now: now) }; break }
                queued += n
            }
            framesSinceStart = queued
        }
        let err = pcm.start()
        if err < 0 { return fail(err, now: now) }
        isStarted = true
        if isSuspendedForIdle {
            isSuspendedForIdle = false
            resumeCount.wrappingIncrement(ordering: .relaxed)
        }
        startedNanos = now
        lastCycleNanos = now
        estimator.reset(nominalRate: Double(c.sampleRate), position: 0, seconds: 0)
        graphEstimator.reset(nominalRate: Double(c.sampleRate), position: 0, seconds: 0)
        graphFrames = 0
        fillControl.reset()
        resetFillRange()
        stateCode.store(AlsaDeviceState.running.rawValue, ordering: .relaxed)
        return true
    }

    /// Frames the silence and scratch buffers hold.
    var quantumCapacity: Int { max(configuration?.bufferFrames ?? 0, quantum) }

    /// [rt] Stops the stream at once (idle, or the driver stopped).
    func stopStream() {
        if isStarted { _ = pcm.drop() }
        isStarted = false
        if state == .running { stateCode.store(AlsaDeviceState.prepared.rawValue, ordering: .relaxed) }
    }

    /// [rt] After an error from libasound: an xrun is counted and the stream restarted at once;
    /// a suspend is resumed (or the stream re-prepared); anything else means the device is
    /// gone. Returns whether the stream runs again.
    func recover(_ err: Int32, frames: Int, now: Int64) -> Bool {
        switch -err {
        case EPIPE:
            // An xrun while the graph was idle (a follower whose driver stopped) is not one.
            if now - lastCycleNanos < 2 * Int64(Double(configuration?.bufferFrames ?? 0) / Double(configuration?.sampleRate ?? 48_000) * 1e9 / clockScale) {
                xrunCount.wrappingIncrement(ordering: .relaxed)
                lastXrunNanos.store(now, ordering: .relaxed)
                statusChanged.signal()
            }
            isStarted = false
            guard startStream(frames: frames, now: now) else { return false }
            lastRecoveryNanos.store(monotonicNanos(), ordering: .relaxed)
            return true
        case ESTRPIPE:
            stateCode.store(AlsaDeviceState.suspended.rawValue, ordering: .relaxed)
            let r = pcm.resume()
            if r == -EAGAIN { return false }          // still waking: try next cycle
            isStarted = false
            return startStream(frames: frames, now: now)
        case EAGAIN:
            return true
        default:
            return fail(err, now: now)
        }
    }

    /// [rt] Records a fatal error: the device is gone (or unusable) until the control side
    /// removes its node. Returns false.
    @discardableResult
    func fail(_ err: Int32, now: Int64) -> Bool {
        lastErrorCode.store(err, ordering: .relaxed)
        if -err == EPIPE || -err == ESTRPIPE || -err == EAGAIN { return false }
        isStarted = false
        if state != .gone {
            stateCode.store(AlsaDeviceState.gone.rawValue, ordering: .relaxed)
            statusChanged.signal()
        }
        return false
    }

    /// [rt] Playback of one cycle: `channel(c)` gives graph channel c's samples (`graphChannels`
    /// of them); device channels beyond get silence. A driven device writes the frames as they
    /// are; a follower stretches them to keep its own fill at the target.
    func play(_ channel: (Int) -> UnsafePointer<Float>, graphChannels: Int, frames: Int, now: Int64) {
        guard let c = configuration, let table = playbackTable, let silence, state != .gone else { return }
        if !isStarted {
            if isDriven { return }                   // the driver starts it
            guard startStream(frames: frames, now: now) else { return }
        }
        for ch in 0..<c.channelCount { table[ch] = ch < graphChannels ? channel(ch) : UnsafePointer(silence) }
        var source = UnsafePointer(table)
        var count = frames
        if !isDriven, let resampler, let out = resampledTable {
            var t = now
            let fill = measureFill(now: &t)
            // The graph's own rate, by the same clock: frames it hands over per system second.
            graphFrames += frames
            graphEstimator.update(position: Double(graphFrames), seconds: deviceSeconds(now))
            if fill < 0 {
                guard recover(Int32(fill), frames: frames, now: t) else { return }
            } else {
                // Feed-forward from the two rate estimates, and a gentle pull towards the target
                // fill for what the estimates miss.
                let feedForward = estimator.updates > 32 && graphEstimator.updates > 32 ? estimator.rate / graphEstimator.rate : 1
                let trim = fillControl.update(fill: Double(fill), target: Double(targetFill(frames: frames)), quantum: Double(frames))
                let ratio = feedForward * trim
                resampler.setRatio(ratio, slew: frames)
                ratioBits.store(((ratio - 1) * 1_000_000).bitPattern, ordering: .relaxed)
            }
            count = resampler.process(source, frameCount: frames, into: UnsafePointer(out))
            source = UnsafeRawPointer(out).assumingMemoryBound(to: UnsafePointer<Float>.self)
        }
        lastCycleNanos = now
        var done = 0
        var attempts = 0
        while done < count && attempts < 4 {
            attempts += 1
            let n = pcm.write(source, sourceOffset: done, frameCount: count - done, configuration: c, scratch: scratch!)
            if n > 0 { done += n; continue }
            if n == -Int(EAGAIN) || n == 0 { break }
            guard recover(Int32(n), frames: frames, now: now) else { return }
        }
        framesSinceStart += done
        transferredFrames.wrappingIncrement(by: done, ordering: .relaxed)
        if done < count { droppedFrames.wrappingIncrement(by: count - done, ordering: .relaxed) }
        var delay = 0
        if pcm.delayFrames(&delay) == 0 { delayFrameCount.store(delay, ordering: .relaxed) }
    }

    /// [rt] Capture of one cycle into `channel(c)` (`graphChannels` of them): what the device
    /// has, up to `frames`; a shortfall is silence (counted), and a backlog beyond two cycles is
    /// skipped so latency stays bounded.
    func capture(_ channel: (Int) -> UnsafeMutablePointer<Float>, graphChannels: Int, frames: Int, now: Int64) {
        guard let c = configuration, let table = captureTable, let discard, state != .gone else {
            for ch in 0..<graphChannels { channel(ch).update(repeating: 0, count: frames) }
            return
        }
        for ch in 0..<c.channelCount { table[ch] = ch < graphChannels ? channel(ch) : discard }
        if !isStarted { _ = startStream(frames: frames, now: now) }
        lastCycleNanos = now
        var t = now
        var waiting = measureFill(now: &t)
        if waiting < 0 {
            _ = recover(Int32(waiting), frames: frames, now: t)
            waiting = 0
        }
        // Read only once a cycle and a half waits, so every later cycle finds a whole cycle
        // even when it runs a little early against the card's clock; until then, silence.
        if !capturePrimed {
            if waiting < frames + frames / 2 {
                for ch in 0..<graphChannels { channel(ch).update(repeating: 0, count: frames) }
                return
            }
            capturePrimed = true
        }
        if let resampler, let staging {
            captureResampled(channel, graphChannels: graphChannels, frames: frames, waiting: waiting, now: now,
                             resampler: resampler, staging: staging, configuration: c)
            return
        }
        // Skip a backlog beyond three cycles (the graph was late, or runs slower than the card).
        var skip = waiting - 3 * frames
        while skip > 0 {
            let n = pcm.read(into: UnsafePointer(table), destinationOffset: 0, frameCount: min(skip, frames), configuration: c, scratch: scratch!)
            if n <= 0 { break }
            skip -= n
            droppedFrames.wrappingIncrement(by: n, ordering: .relaxed)
        }
        var done = 0
        var attempts = 0
        while done < frames && attempts < 4 {
            attempts += 1
            let n = pcm.read(into: UnsafePointer(table), destinationOffset: done, frameCount: frames - done, configuration: c, scratch: scratch!)
            if n > 0 { done += n; continue }
            if n == -Int(EAGAIN) || n == 0 { break }
            guard recover(Int32(n), frames: frames, now: now) else { break }
        }
        framesSinceStart += done
        transferredFrames.wrappingIncrement(by: done, ordering: .relaxed)
        if done < frames {
            // The card ran dry: fill with silence, and wait for the backlog again.
            for ch in 0..<graphChannels { (channel(ch) + done).update(repeating: 0, count: frames - done) }
            droppedFrames.wrappingIncrement(by: frames - done, ordering: .relaxed)
            capturePrimed = false
        }
    }

    /// [rt] Capture of one cycle by a card that follows another clock: take from the card what
    /// the rate ratio says this cycle needs (kept near a cycle and a half of backlog by the same
    /// estimates and trim as a follower sink), and resample it to exactly `frames`.
    private func captureResampled(_ channel: (Int) -> UnsafeMutablePointer<Float>, graphChannels: Int, frames: Int, waiting: Int,
                                  now: Int64, resampler: AdaptiveResampler,
                                  staging: UnsafeMutablePointer<UnsafeMutablePointer<Float>>, configuration c: AlsaConfiguration) {
        graphFrames += frames
        graphEstimator.update(position: Double(graphFrames), seconds: deviceSeconds(now))
        // Output frames per device frame: the graph's rate over the card's, trimmed by the backlog.
        let feedForward = estimator.updates > 32 && graphEstimator.updates > 32 ? graphEstimator.rate / estimator.rate : 1
        let trim = fillControl.update(fill: Double(waiting), target: Double(frames + frames / 2), quantum: Double(frames))
        let ratio = feedForward * trim
        resampler.setRatio(ratio, slew: frames)
        ratioBits.store(((ratio - 1) * 1_000_000).bitPattern, ordering: .relaxed)
        // Device frames this cycle consumes, fractions carried over. soxr's phase can leave the
        // output a frame or two short of `frames` on exactly that input; then a second pass tops
        // up from the card's backlog (a cycle and a half waits), and the trim sees the difference.
        let exact = Double(frames) / ratio + inputCarry
        var want = Int(exact)
        inputCarry = exact - Double(want)
        let table = captureTable!      // points at `staging` to read, then at the outputs to resample
        var producedTotal = 0
        var pass = 0
        while pass < 2 {
            pass += 1
            want = min(want, stagingCapacity - stagingCount)
            var read = 0
            var attempts = 0
            while read < want && attempts < 4 {
                attempts += 1
                for ch in 0..<c.channelCount { table[ch] = staging[ch] }
                let n = pcm.read(into: UnsafePointer(table), destinationOffset: stagingCount + read, frameCount: want - read,
                                 configuration: c, scratch: scratch!)
                if n > 0 { read += n; continue }
                if n == -Int(EAGAIN) || n == 0 { break }
                guard recover(Int32(n), frames: frames, now: now) else { break }
            }
            framesSinceStart += read
            transferredFrames.wrappingIncrement(by: read, ordering: .relaxed)
            stagingCount += read
            // Resample straight into the graph's outputs (device channels beyond go to `discard`).
            for ch in 0..<c.channelCount { table[ch] = (ch < graphChannels ? channel(ch) : discard!) + producedTotal }
            let (used, produced) = resampler.process(UnsafeRawPointer(staging).assumingMemoryBound(to: UnsafePointer<Float>.self),
                                                     frameCount: stagingCount, into: UnsafePointer(table),
                                                     outputLimit: frames - producedTotal)
            if used > 0 && used < stagingCount {
                for ch in 0..<c.channelCount { staging[ch].update(from: staging[ch] + used, count: stagingCount - used) }
            }
            stagingCount -= min(used, stagingCount)
            producedTotal += produced
            if producedTotal >= frames { break }
            want = Int(Double(frames - producedTotal) / ratio) + 2
        }
        if producedTotal < frames {
            for ch in 0..<graphChannels { (channel(ch) + producedTotal).update(repeating: 0, count: frames - producedTotal) }
            droppedFrames.wrappingIncrement(by: frames - producedTotal, ordering: .relaxed)
        }
    }

    /// [rt] Suspend-on-idle bookkeeping, from the node's `wantsCycles`: true while something is
    /// linked or the idle time has not run out; on running out the stream is stopped.
    func wantsCycles(linked: Bool) -> Bool {
        guard state != .gone else { return false }
        let now = monotonicNanos()
        if linked {
            lastActiveNanos = now
            return true
        }
        if lastActiveNanos == 0 { return false }     // never used yet
        if now - lastActiveNanos < suspendAfterNanos { return isStarted }
        if isStarted {
            stopStream()
            isSuspendedForIdle = true
            stateCode.store(AlsaDeviceState.suspended.rawValue, ordering: .relaxed)
            suspendCount.wrappingIncrement(ordering: .relaxed)
        }
        return false
    }
}
