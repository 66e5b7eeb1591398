import Glibc
import Graph

extension SineNode {
    /// [rt] Renders one cycle into every output.
    func processCycle(_ context: ProcessContext) -> ProcessStatus {
        let frames = context.frameCount
        let step = 2 * Double.pi * frequency.value / Double(context.sampleRate)
        let target = amplitude.value
        let ampStep = (target - currentAmplitude) / Double(frames)
        guard context.outputCount > 0 else { return .ok }
        let first = context.output(0)
        var p = phase
        var a = currentAmplitude
        for i in 0..<frames {
            a += ampStep
            first[i] = Float(a * sin(p))
            p += step
            if p >= 2 * Double.pi { p -= 2 * Double.pi }
        }
        phase = p
        currentAmplitude = target
        for port in 1..<max(context.outputCount, 1) {
            context.output(port).update(from: first, count: frames)
        }
        return .ok
    }
}
