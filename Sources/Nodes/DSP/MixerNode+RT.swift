import Graph

extension MixerNode {
    /// [rt] out_c = Σ_k gain_k · in_k_c, each gain ramped from its previous value over the cycle.
    func processCycle(_ context: ProcessContext) -> ProcessStatus {
        let frames = context.frameCount
        for c in 0..<channelCount { context.output(c).update(repeating: 0, count: frames) }
        for k in 0..<inputCount {
            let target = Float(gains[k].value)
            let start = current[k]
            let step = (target - start) / Float(frames)
            for c in 0..<channelCount {
                let input = context.input(k * channelCount + c)
                let output = context.output(c)
                if step == 0 {
                    for i in 0..<frames { output[i] += input[i] * target }
                } else {
                    var g = start
                    for i in 0..<frames { g += step; output[i] += input[i] * g }
                }
            }
            current[k] = target
        }
        return .ok
    }
}
