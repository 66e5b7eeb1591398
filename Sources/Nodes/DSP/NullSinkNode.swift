import Graph

/// A sink that consumes at the driver's pace and offers what it received on monitor outputs.
/// It keeps the driver running while anything is linked to it.
public final class NullSinkNode: AudioNode, @unchecked Sendable {
    public init(name: String, channels: [String]) {
        super.init(name: name, typeName: "null-sink", inputPortNames: channels.map { "in_\($0)" },
                   outputPortNames: channels.map { "monitor_\($0)" })
    }

    /// [rt] See `processCycle` in the +RT file.
    public override func process(_ context: ProcessContext) -> ProcessStatus { processCycle(context) }
    /// [rt] See `hasWork` in the +RT file.
    public override func wantsCycles(linkedInputCount: Int) -> Bool { hasWork(linkedInputCount: linkedInputCount) }
    /// Its inputs reach nothing but the monitor outputs.
    public override var passesInputsOnlyToOutputs: Bool { true }
    /// Nothing leaves the graph through it but the monitor, and whatever records the monitor
    /// says for itself whether it tolerates deferred cycles.
    public override var toleratesDeferredCycles: Bool { true }
}
