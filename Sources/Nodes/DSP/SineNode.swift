import Graph
import SluiceSystem

/// A test-tone source: the same sine on every output port. Frequency changes keep the phase
/// continuous; amplitude changes ramp over one cycle.
public final class SineNode: AudioNode, @unchecked Sendable {
    // @unchecked: `frequency`/`amplitude` are atomics written by control, read by RT;
    // `phase`/`currentAmplitude` are touched by the RT thread only.
    let frequency = AtomicDouble(440)
    let amplitude = AtomicDouble(0.5)
    var phase: Double = 0
    var currentAmplitude: Double = 0.5

    public init(name: String, channels: [String]) {
        super.init(name: name, typeName: "sine", inputPortNames: [], outputPortNames: channels.map { "out_\($0)" })
    }

    /// Starts at the configured amplitude: no fade-in on the first cycle.
    public override func prepare(format: GraphFormat, waker: EventFD) throws(GraphError) {
        currentAmplitude = amplitude.value
    }

    public override var parameters: [NodeParameter] {
        [NodeParameter(name: "freq", value: ParameterParse.trim(frequency.value), help: "frequency in Hz (1 to 24000)"),
         NodeParameter(name: "amplitude", value: ParameterParse.trim(amplitude.value), help: "peak level, 0 to 1")]
    }

    public override func setParameter(_ name: String, to value: String) throws(GraphError) {
        switch name {
        case "freq": frequency.set(try ParameterParse.number(value, node: self.name, parameter: name, in: 1...24_000))
        case "amplitude": amplitude.set(try ParameterParse.number(value, node: self.name, parameter: name, in: 0...1))
        default: try super.setParameter(name, to: value)
        }
    }

    /// [rt] See `processCycle` in the +RT file.
    public override func process(_ context: ProcessContext) -> ProcessStatus { processCycle(context) }
}
