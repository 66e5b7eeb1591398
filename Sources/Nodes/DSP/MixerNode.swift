import Graph

/// Sums `inputs` groups of channels into one group, each group with its own gain
/// (`gain0`, `gain1`, ...), ramped across one cycle when changed.
public final class MixerNode: AudioNode, @unchecked Sendable {
    // @unchecked: `gains` hold atomics (control writes, RT reads); `current` is RT-only,
    // allocated in init and never resized.
    let inputCount: Int
    let channelCount: Int
    let gains: [AtomicDouble]
    let current: UnsafeMutableBufferPointer<Float>

    public init(name: String, channels: [String], inputCount: Int) {
        self.inputCount = inputCount
        self.channelCount = channels.count
        self.gains = (0..<inputCount).map { _ in AtomicDouble(1) }
        self.current = .allocate(capacity: inputCount)
        current.initialize(repeating: 1)
        var ins: [String] = []
        for k in 0..<inputCount { for c in channels { ins.append("in\(k)_\(c)") } }
        super.init(name: name, typeName: "mixer", inputPortNames: ins, outputPortNames: channels.map { "out_\($0)" })
    }

    deinit { current.deallocate() }

    public override var parameters: [NodeParameter] {
        gains.enumerated().map { NodeParameter(name: "gain\($0.offset)", value: ParameterParse.trim($0.element.value), help: "linear gain of input group \($0.offset), 0 to 16") }
    }

    public override func setParameter(_ name: String, to value: String) throws(GraphError) {
        if name.hasPrefix("gain"), let k = Int(name.dropFirst(4)), gains.indices.contains(k) {
            gains[k].set(try ParameterParse.number(value, node: self.name, parameter: name, in: 0...16))
            return
        }
        try super.setParameter(name, to: value)
    }

    /// [rt] See `processCycle` in the +RT file.
    public override func process(_ context: ProcessContext) -> ProcessStatus { processCycle(context) }
}
