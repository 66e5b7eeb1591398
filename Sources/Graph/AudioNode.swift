import SluiceSystem

/// What a node reports after processing one cycle.
public enum ProcessStatus: Sendable {
    case ok
    /// The node could not do its work this cycle (e.g. a ring to a file writer was full);
    /// it counts this itself. Under a timer driver the cycle goes on; it is an overrun.
    case overrun
}

/// The buffers and facts of one cycle, as one node sees them. [rt]
///
/// Every input pointer is valid for `frameCount` frames: an unconnected input reads silence,
/// a singly linked input aliases the upstream output buffer, a multiply linked input is the sum.
public struct ProcessContext {
    public let frameCount: Int
    public let sampleRate: Int
    /// Monotonic time at which this cycle was due.
    public let cycleNanos: Int64
    public let isFreewheeling: Bool
    @usableFromInline let inputPointers: UnsafePointer<UnsafePointer<Float>>
    @usableFromInline let outputPointers: UnsafePointer<UnsafeMutablePointer<Float>>
    @usableFromInline let linkCounts: UnsafePointer<Int32>
    public let inputCount: Int
    public let outputCount: Int
    /// The outputs already hold what other nodes mixed into the same input downstream: add to
    /// them (and add nothing for silence) instead of writing them. Only for a node whose
    /// `canAccumulateOutputs` is true; see there.
    public let accumulates: Bool
    /// Something downstream uses what this node writes: false when every path from its outputs
    /// ends in a sink that throws its input away (a null sink nobody monitors). The node may
    /// then skip writing them — a stream still consumes its queue at the graph's pace — since
    /// nothing reads those buffers this cycle. See `AudioNode.passesInputsOnlyToOutputs`.
    public let outputsObserved: Bool

    @inlinable public func input(_ port: Int) -> UnsafePointer<Float> { inputPointers[port] }
    @inlinable public func output(_ port: Int) -> UnsafeMutablePointer<Float> { outputPointers[port] }
    /// How many links feed input `port`.
    @inlinable public func linkCount(input port: Int) -> Int { Int(linkCounts[port]) }
}

/// A node of the audio graph. Subclasses are the built-in nodes, pulse streams, devices.
///
/// Threading contract: `prepare`, `setParameter`, `parameters`, `properties` run on the control
/// thread; `process`, `wantsCycles` and `isReady` on the RT thread ([rt]: no allocation, no lock,
/// no blocking, no logging). State shared between the two is atomic. The control side owns the
/// node's lifetime: the RT thread reaches it only through a plan that holds it alive.
open class AudioNode: @unchecked Sendable {
    // @unchecked: the contract above; each subclass documents its shared state.
    public let name: String
    public let typeName: String
    public let inputPortNames: [String]
    public let outputPortNames: [String]

    public init(name: String, typeName: String, inputPortNames: [String], outputPortNames: [String]) {
        self.name = name
        self.typeName = typeName
        self.inputPortNames = inputPortNames
        self.outputPortNames = outputPortNames
    }

    /// [control] Allocates everything `process` needs. Called once before the node's first plan.
    open func prepare(format: GraphFormat, waker: EventFD) throws(GraphError) {}

    /// [rt] Processes one cycle.
    open func process(_ context: ProcessContext) -> ProcessStatus { .ok }

    /// [rt] Whether this node has work of its own, so the driver must keep running: a sink with
    /// something linked to it, a recorder, a playing stream. Pure sources and filters say false.
    open func wantsCycles(linkedInputCount: Int) -> Bool { false }

    /// [rt] Under the freewheel driver only: false when the node cannot take a cycle yet
    /// (a file writer's ring is full). The driver then waits for the engine's waker.
    open func isReady(frameCount: Int) -> Bool { true }

    /// [control] Current parameters.
    open var parameters: [NodeParameter] { [] }

    /// [control] Changes a parameter; takes effect at a cycle boundary (ramped where audible).
    open func setParameter(_ name: String, to value: String) throws(GraphError) {
        throw .unknownParameter(node: self.name, parameter: name, available: parameters.map(\.name))
    }

    /// [control] True when `process` honours `ProcessContext.accumulates`. The plan then lets a
    /// node whose every output has exactly one link, into an input that several links feed, add
    /// straight into that input's mix buffer: no buffer of its own to write and the mix to read
    /// back — a third of the memory traffic per stream when many streams play into one sink.
    open var canAccumulateOutputs: Bool { false }

    /// [control] True for a node whose inputs go nowhere but its own outputs (a null sink: its
    /// monitor). When nothing observes those outputs, the plan tells the nodes upstream that
    /// theirs are not observed either (`ProcessContext.outputsObserved`) and drops the mixes into
    /// its inputs. False (the safe answer) for anything that plays, records or keeps its input.
    open var passesInputsOnlyToOutputs: Bool { false }

    /// [control] True when the node gives the same result whether a cycle runs at its due time
    /// or later in a batch (`ProcessContext.cycleNanos` still says when it was due): nothing it
    /// does reaches a device, a recorder or a client's ears on its own. The timer driver may then
    /// run several cycles per wake-up (see `RealtimeCore.cyclesPerWake`), but only while every
    /// node in the plan says so. False by default.
    open var toleratesDeferredCycles: Bool { false }

    /// [control] The largest quantum this node can take (a sound card: its period), or nil for
    /// any. The engine never runs cycles longer than the smallest of these.
    open var maximumQuantum: Int? { nil }

    /// [any] Time between this node and the outside world that the graph does not see: a
    /// sound card's queue (playback) or what waits in it (capture). Clients are told it as part
    /// of their latency.
    open var externalLatencyNanos: Int64 { 0 }

    /// [control] The device's ports (a sound card's jacks and outputs), read now; none for a
    /// node that is not a device.
    open var ports: [DevicePort] { [] }

    /// [control] Read-only facts for introspection (file path, frames written, ...).
    open var properties: [(String, String)] { [] }

    /// [control] Called when the node leaves the graph for good (after its last plan retired).
    open func shutDown() {}
}
