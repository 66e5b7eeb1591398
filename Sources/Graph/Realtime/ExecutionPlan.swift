/// One node's entry in a plan: where its buffers are, which mixes precede it. [rt reads]
@usableFromInline
struct PlanStep {
    let node: Unmanaged<AudioNode>
    let stats: Unmanaged<NodeStats>
    let inputs: UnsafeMutablePointer<UnsafePointer<Float>>
    let outputs: UnsafeMutablePointer<UnsafeMutablePointer<Float>>
    let linkCounts: UnsafeMutablePointer<Int32>
    let inputCount: Int
    let outputCount: Int
    let linkedInputCount: Int
    /// Range in the plan's mix table of the sums to compute before this node runs.
    let mixStart: Int
    let mixCount: Int
    /// The node adds into its outputs, which are mix buffers downstream (`canAccumulateOutputs`).
    let accumulates: Bool
    /// See `ProcessContext.outputsObserved`.
    let outputsObserved: Bool
}

/// Sum `sourceCount` buffers (from the plan's source table) into `destination`; with
/// `addsToDestination`, add them to what accumulating nodes already put there (the buffer was
/// cleared at the start of the cycle, see `ExecutionPlan.clears`).
@usableFromInline
struct MixOperation {
    let destination: UnsafeMutablePointer<Float>
    let sourceStart: Int
    let sourceCount: Int
    let addsToDestination: Bool
}

/// An immutable, compiled schedule of the graph: node order, buffer bindings and mix lists.
///
/// Built and freed on the control side (see `PlanCompiler`); the RT thread only reads it.
/// Holds every node, buffer and stats object it points to alive, so the RT thread never
/// releases the last reference to anything.
public final class ExecutionPlan: Sendable {
    /// Frames per cycle.
    public let quantum: Int
    public let sampleRate: Int
    /// A monotonically increasing number, for introspection and tests.
    public let generation: Int
    let driver: Unmanaged<Driver>
    // nonisolated(unsafe): immutable after init, only read by the RT thread, freed in deinit
    // on the control thread once the RT thread has handed the plan back.
    nonisolated(unsafe) let steps: UnsafeMutableBufferPointer<PlanStep>
    nonisolated(unsafe) let mixes: UnsafeMutableBufferPointer<MixOperation>
    nonisolated(unsafe) let mixSources: UnsafeMutableBufferPointer<UnsafePointer<Float>>
    /// Mix buffers that accumulating nodes add into: zeroed at the start of every cycle.
    nonisolated(unsafe) let clears: UnsafeMutableBufferPointer<UnsafeMutablePointer<Float>>
    /// Every node tolerates deferred cycles (`AudioNode.toleratesDeferredCycles`) and the driver
    /// can defer them (`Driver.supportsDeferral`).
    let allowsDeferral: Bool
    nonisolated(unsafe) let pointerTables: [UnsafeMutableRawPointer]
    nonisolated(unsafe) let keepAlive: [AnyObject]

    init(quantum: Int, sampleRate: Int, generation: Int, driver: Driver,
         steps: UnsafeMutableBufferPointer<PlanStep>, mixes: UnsafeMutableBufferPointer<MixOperation>,
         mixSources: UnsafeMutableBufferPointer<UnsafePointer<Float>>,
         clears: UnsafeMutableBufferPointer<UnsafeMutablePointer<Float>>,
         allowsDeferral: Bool, pointerTables: [UnsafeMutableRawPointer], keepAlive: [AnyObject]) {
        self.quantum = quantum
        self.sampleRate = sampleRate
        self.generation = generation
        self.driver = Unmanaged.passUnretained(driver)
        self.steps = steps
        self.mixes = mixes
        self.mixSources = mixSources
        self.clears = clears
        self.allowsDeferral = allowsDeferral
        self.pointerTables = pointerTables
        self.keepAlive = keepAlive + [driver]
    }

    public var nodeCount: Int { steps.count }

    deinit {
        steps.deallocate()
        mixes.deallocate()
        mixSources.deallocate()
        clears.deallocate()
        for t in pointerTables { t.deallocate() }
    }
}
