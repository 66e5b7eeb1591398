import Graph
import SluiceSystem

/// Multiplies every channel by a gain. Changes ramp linearly over `ramp_ms` (default 10 ms),
/// starting at the next cycle boundary, so a change never clicks.
public final class GainNode: AudioNode, @unchecked Sendable {
    // @unchecked: `gain`/`muted`/`rampMillis` are atomics (control writes, RT reads); the ramp
    // state below is RT-only.
    let gain = AtomicDouble(1)
    let muted = AtomicDouble(0)
    let rampMillis = AtomicDouble(10)
    var currentGain: Float = 1
    var rampTarget: Float = 1
    var rampStep: Float = 0
    var rampRemaining = 0

    public init(name: String, channels: [String]) {
        super.init(name: name, typeName: "gain", inputPortNames: channels.map { "in_\($0)" },
                   outputPortNames: channels.map { "out_\($0)" })
    }

    public override var parameters: [NodeParameter] {
        [NodeParameter(name: "gain", value: ParameterParse.trim(gain.value), help: "linear gain, 0 to 16"),
         NodeParameter(name: "mute", value: muted.value != 0 ? "true" : "false", help: "true silences the output (ramped)"),
         NodeParameter(name: "ramp_ms", value: ParameterParse.trim(rampMillis.value), help: "ramp length for changes, 0 to 1000 ms")]
    }

    public override func setParameter(_ name: String, to value: String) throws(GraphError) {
        switch name {
        case "gain": gain.set(try ParameterParse.number(value, node: self.name, parameter: name, in: 0...16))
        case "mute": muted.set(try ParameterParse.boolean(value, node: self.name, parameter: name) ? 1 : 0)
        case "ramp_ms": rampMillis.set(try ParameterParse.number(value, node: self.name, parameter: name, in: 0...1000))
        default: try super.setParameter(name, to: value)
        }
    }

    /// Call once before the node's first cycle so it starts at its configured gain (no ramp up).
    public override func prepare(format: GraphFormat, waker: EventFD) throws(GraphError) {
        let g = muted.value != 0 ? 0 : Float(gain.value)
        currentGain = g
        rampTarget = g
    }

    /// [rt] See `processCycle` in the +RT file.
    public override func process(_ context: ProcessContext) -> ProcessStatus { processCycle(context) }
}
