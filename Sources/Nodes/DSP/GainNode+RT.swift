import Graph

extension GainNode {
    /// [rt] Applies the gain, continuing or starting a linear ramp toward the target.
    func processCycle(_ context: ProcessContext) -> ProcessStatus {
        let frames = context.frameCount
        let target: Float = muted.value != 0 ? 0 : Float(gain.value)
        if target != rampTarget {
            let rampFrames = max(1, Int(rampMillis.value * Double(context.sampleRate) / 1000))
            rampTarget = target
            rampRemaining = rampFrames
            rampStep = (target - currentGain) / Float(rampFrames)
        }
        let startGain = currentGain
        let startRemaining = rampRemaining
        let channels = min(context.inputCount, context.outputCount)
        for c in 0..<channels {
            let input = context.input(c)
            let output = context.output(c)
            var g = startGain
            var remaining = startRemaining
            if remaining == 0 {
                for i in 0..<frames { output[i] = input[i] * g }
                continue
            }
            for i in 0..<frames {
                if remaining > 0 {
                    g += rampStep
                    remaining -= 1
                    if remaining == 0 { g = rampTarget }
                }
                output[i] = input[i] * g
            }
        }
        // Advance the shared ramp state once per cycle (all channels followed the same curve).
        if startRemaining > 0 {
            let used = min(frames, startRemaining)
            rampRemaining = startRemaining - used
            currentGain = rampRemaining == 0 ? rampTarget : startGain + rampStep * Float(used)
        } else {
            currentGain = rampTarget
        }
        return .ok
    }
}
