import Atomics
import Graph
import Nodes
import SluiceSystem

/// A node that records what reaches its single input, for tests (RT-side buffer preallocated).
final class ProbeNode: AudioNode, @unchecked Sendable {
    let capacity: Int
    let samples: UnsafeMutablePointer<Float>
    var count = 0
    let wants: Bool

    init(name: String, capacity: Int, wantsCycles: Bool = true) {
        self.capacity = capacity
        self.wants = wantsCycles
        samples = .allocate(capacity: capacity)
        samples.initialize(repeating: 0, count: capacity)
        super.init(name: name, typeName: "probe", inputPortNames: ["in_MONO"], outputPortNames: [])
    }
    deinit { samples.deallocate() }

    override func process(_ context: ProcessContext) -> ProcessStatus {
        let input = context.input(0)
        for i in 0..<context.frameCount where count < capacity {
            samples[count] = input[i]
            count += 1
        }
        return .ok
    }
    override func wantsCycles(linkedInputCount: Int) -> Bool { wants }
    var recorded: [Float] { Array(UnsafeBufferPointer(start: samples, count: count)) }
}

/// A source emitting a constant value, for mixing tests. It records whether its output was
/// observed, and can tolerate deferred cycles and keep the graph running when told to.
final class ConstantNode: AudioNode, @unchecked Sendable {
    let value: Float
    let deferrable: Bool
    let keepsRunning: Bool
    let observed = ManagedAtomic<Bool>(true)
    init(name: String, value: Float, deferrable: Bool = false, keepsRunning: Bool = false) {
        self.value = value
        self.deferrable = deferrable
        self.keepsRunning = keepsRunning
        super.init(name: name, typeName: "constant", inputPortNames: [], outputPortNames: ["out_MONO"])
    }
    override var toleratesDeferredCycles: Bool { deferrable }
    override func wantsCycles(linkedInputCount: Int) -> Bool { keepsRunning }
    override func process(_ context: ProcessContext) -> ProcessStatus {
        observed.store(context.outputsObserved, ordering: .relaxed)
        context.output(0).update(repeating: value, count: context.frameCount)
        return .ok
    }
    var wasObserved: Bool { observed.load(ordering: .relaxed) }
}

/// A constant source that can add into a mix downstream (`canAccumulateOutputs`); records
/// whether the plan asked it to, and can be made silent (adds nothing, or writes zeros).
final class AccumulatingConstantNode: AudioNode, @unchecked Sendable {
    let value: Float
    let silent: Bool
    let accumulated = ManagedAtomic<Bool>(false)
    init(name: String, value: Float, silent: Bool = false) {
        self.value = value
        self.silent = silent
        super.init(name: name, typeName: "constant", inputPortNames: [], outputPortNames: ["out_MONO"])
    }
    override var canAccumulateOutputs: Bool { true }
    var didAccumulate: Bool { accumulated.load(ordering: .relaxed) }
    override func process(_ context: ProcessContext) -> ProcessStatus {
        accumulated.store(context.accumulates, ordering: .relaxed)
        let out = context.output(0)
        if context.accumulates {
            if !silent { for i in 0..<context.frameCount { out[i] += value } }
        } else {
            out.update(repeating: silent ? 0 : value, count: context.frameCount)
        }
        return .ok
    }
}

/// A node that allocates on every cycle: the allocation test must catch it.
final class AllocatingNode: AudioNode, @unchecked Sendable {
    let sink = ManagedAtomic<Int>(0)
    init(name: String) {
        super.init(name: name, typeName: "allocating", inputPortNames: ["in_MONO"], outputPortNames: ["out_MONO"])
    }
    override func process(_ context: ProcessContext) -> ProcessStatus {
        let scratch = UnsafeMutableRawPointer.allocate(byteCount: 64 + context.frameCount, alignment: 16)
        scratch.storeBytes(of: 1, as: UInt8.self)
        sink.store(Int(scratch.load(as: UInt8.self)), ordering: .relaxed)
        scratch.deallocate()
        context.output(0).update(from: context.input(0), count: context.frameCount)
        return .ok
    }
}
