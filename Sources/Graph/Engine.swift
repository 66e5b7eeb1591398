import SluiceSystem
import Glibc

/// Introspection of one port.
public struct PortSnapshot: Sendable, Equatable {
    public let name: String
    public let direction: String
    /// Peers as `node:port`.
    public let links: [String]
}

/// Introspection of one node.
public struct NodeSnapshot: Sendable {
    public let id: Int
    public let name: String
    public let type: String
    public let inputs: [PortSnapshot]
    public let outputs: [PortSnapshot]
    public let parameters: [NodeParameter]
    public let properties: [(String, String)]
    public let stats: NodeStatsSnapshot
}

/// Introspection of the driver in force.
public struct DriverSnapshot: Sendable, Equatable {
    public let name: String
    public let kind: String
    public let priority: Int
    public let candidates: [String]
}

/// Everything `sluice dump` shows about the engine.
public struct EngineSnapshot: Sendable {
    public let format: GraphFormat
    /// The quantum cycles run at now (`format.quantum` is the configured maximum).
    public let quantum: Int
    public let nodes: [NodeSnapshot]
    public let links: [(from: PortAddress, to: PortAddress)]
    public let pools: [PoolInfo]
    public let driver: DriverSnapshot
    public let policy: SchedulingPolicy
    /// True while the control thread runs the deferred cycles (`Engine.hosting`).
    public let hosting: Bool
    public let requestedPriority: Int32
    public let isRunning: Bool
    public let planGeneration: Int
    public let cycles: CycleStatsSnapshot
}

/// The control side of the graph: the model, buffer pools, drivers and the RT thread.
/// [control] Confined to one thread (the daemon's control loop, or a test).
public final class Engine {
    /// The configured format; `format.quantum` is the largest quantum (buffers are sized for it).
    public let format: GraphFormat
    /// The quantum cycles run at now: `format.quantum` unless a client needs lower latency.
    public private(set) var quantum: Int
    /// The smallest quantum `setQuantum` will choose.
    public var minimumQuantum = 64
    /// The most cycles a client of the engine (the pulse server) may ask to run per wake-up
    /// (`setCyclesPerWake`); 1 keeps a wake-up per tick.
    public var maximumCyclesPerWake = 1
    /// Lets the control thread run deferred cycles itself (the daemon sets it): see `hosting`.
    public var hostsDeferredCycles = false
    /// True while the control thread (the one calling the engine) runs the cycles of a deferring
    /// plan and the RT thread is parked. Nothing is then time-critical: every node tolerates
    /// running up to a batch late. One thread wakes per batch instead of two (the RT thread for
    /// the batch, then the control thread for the requests the batch raised), and the control
    /// thread runs at SCHED_BATCH meanwhile, so a client's burst of writes is read in one wake-up
    /// rather than one per write. The RT thread gets the loop back, with the ticks due so far
    /// already run, before a plan or a `setCyclesPerWake` that ends deferral takes effect.
    public private(set) var hosting = false
    /// Called with the driver's fd when hosting starts (watch it for reading and call
    /// `serviceHostedCycles(timerFired: true)`), and with nil when it ends.
    public var onHostingChange: ((Int32?) -> Void)?
    private var planDefers = false
    private var controlPolicy: SchedulingPolicy = .other
    public let core: RealtimeCore
    private let model = GraphModel()
    private let allocator: BufferAllocator
    private let silence: PortBuffer
    private var drivers: [Driver] = []
    private var generation = 0
    private var poolCounter = 0
    private let thread = RealtimeThread()
    private var requestedPriority: Int32 = 0
    public private(set) var isRunning = false
    private var extraPools: [() -> [PoolInfo]] = []

    /// Creates the engine with its first driver. Allocates the daemon's first sealed pool.
    public init(format: GraphFormat, driver: Driver) throws(GraphError) {
        precondition(GraphFormat.quantumRange.contains(format.quantum), "quantum is validated by the config loader")
        self.format = format
        self.quantum = format.defaultQuantum
        do { core = try RealtimeCore() } catch { throw .resourceFailure(what: "create eventfds for the RT thread", errno: error) }
        var counter = 0
        let nextID: () -> Int = { counter += 1; return counter }
        allocator = BufferAllocator(domain: .daemon, frameCount: format.quantum, nextPoolID: nextID)
        silence = try allocator.allocate()
        drivers = [driver]
        publish()
    }

    // MARK: Graph changes (each republishes the plan; the RT thread switches at a cycle boundary)

    /// Adds `node`, preparing it and giving each of its ports a buffer from a sealed pool.
    public func add(_ node: AudioNode) throws(GraphError) {
        try node.prepare(format: format, waker: core.wake)
        var outputs: [PortBuffer] = []
        for _ in node.outputPortNames { outputs.append(try allocator.allocate()) }
        var mixes: [PortBuffer] = []
        for _ in node.inputPortNames { mixes.append(try allocator.allocate()) }
        _ = try model.add(node, outputBuffers: outputs, mixBuffers: mixes)
        quantum = min(quantum, nodeQuantumCap)   // a sound card caps the cycle at its period
        publish()
    }

    /// Removes the node named `name` and its links. It is freed once the RT thread has let go.
    public func remove(named name: String) throws(GraphError) {
        _ = try model.remove(named: name)
        publish()
    }

    /// The node named `name`.
    public func node(named name: String) throws(GraphError) -> AudioNode { try model.record(named: name).node }

    public var nodeNames: [String] { model.order.compactMap { model.records[$0]?.node.name } }

    /// Links one output port to one input port. Refuses a link that would close a cycle.
    public func link(_ from: PortAddress, _ to: PortAddress) throws(GraphError) {
        let (fn, fp) = try model.outputIndex(from)
        let (tn, tp) = try model.inputIndex(to)
        try model.addLink(Link(fromNode: fn, fromPort: fp, toNode: tn, toPort: tp))
        publish()
    }

    /// Links node `from` to node `to` by matching ports; returns the links made.
    /// Matching: same channel suffix (`out_FL` → `in_FL`); else one output to every input
    /// (mono upmix); else every output into one input (downmix); else in order.
    @discardableResult
    public func link(node from: String, to: String) throws(GraphError) -> [(PortAddress, PortAddress)] {
        let pairs = try matchPorts(from: from, to: to)
        // Validate all first so a refused link leaves the graph unchanged.
        var made: [Link] = []
        for (a, b) in pairs {
            let (fn, fp) = try model.outputIndex(a)
            let (tn, tp) = try model.inputIndex(b)
            let l = Link(fromNode: fn, fromPort: fp, toNode: tn, toPort: tp)
            do { try model.addLink(l) } catch {
                for m in made { try? model.removeLink(m) }
                throw error
            }
            made.append(l)
        }
        publish()
        return pairs
    }

    /// Removes one link.
    public func unlink(_ from: PortAddress, _ to: PortAddress) throws(GraphError) {
        let (fn, fp) = try model.outputIndex(from)
        let (tn, tp) = try model.inputIndex(to)
        try model.removeLink(Link(fromNode: fn, fromPort: fp, toNode: tn, toPort: tp))
        publish()
    }

    /// Removes every link from node `from` to node `to`; returns how many.
    @discardableResult
    public func unlink(node from: String, to: String) throws(GraphError) -> Int {
        let a = try model.record(named: from).id, b = try model.record(named: to).id
        let victims = model.links.filter { $0.fromNode == a && $0.toNode == b }
        guard !victims.isEmpty else { throw .notLinked(from: from, to: to) }
        for v in victims { try model.removeLink(v) }
        publish()
        return victims.count
    }

    /// Sets a node parameter (the node applies it at a cycle boundary, ramped where audible).
    public func set(node name: String, parameter: String, value: String) throws(GraphError) {
        try model.record(named: name).node.setParameter(parameter, to: value)
        activityChanged()   // a parameter can make a node active (e.g. a file sink re-armed)
    }

    private func matchPorts(from: String, to: String) throws(GraphError) -> [(PortAddress, PortAddress)] {
        let outs = try model.record(named: from).node.outputPortNames
        let ins = try model.record(named: to).node.inputPortNames
        func suffix(_ s: String) -> String { s.split(separator: "_").last.map(String.init) ?? s }
        var pairs: [(PortAddress, PortAddress)] = []
        for o in outs {
            for i in ins where suffix(o) == suffix(i) && outs.count > 1 && ins.count > 1 {
                pairs.append((PortAddress(node: from, port: o), PortAddress(node: to, port: i)))
            }
        }
        if pairs.isEmpty {
            if outs.count == 1 {
                pairs = ins.map { (PortAddress(node: from, port: outs[0]), PortAddress(node: to, port: $0)) }
            } else if ins.count == 1 {
                pairs = outs.map { (PortAddress(node: from, port: $0), PortAddress(node: to, port: ins[0])) }
            } else {
                pairs = zip(outs, ins).map { (PortAddress(node: from, port: $0), PortAddress(node: to, port: $1)) }
            }
        }
        guard !pairs.isEmpty else { throw .noMatchingPorts(from: from, to: to) }
        return pairs
    }

    /// Runs cycles at `frames` (clamped to `minimumQuantum...format.quantum`) from the next
    /// cycle boundary on; the timer driver re-arms at the new period. Returns the quantum in force.
    @discardableResult
    public func setQuantum(_ frames: Int) -> Int {
        let q = min(max(frames, min(minimumQuantum, format.quantum)), format.quantum, nodeQuantumCap)
        if q != quantum {
            quantum = q
            publish()
        }
        return quantum
    }

    /// The largest quantum every node can take (a sound card's period), or `format.quantum`.
    var nodeQuantumCap: Int {
        model.records.values.reduce(format.quantum) { min($0, $1.node.maximumQuantum ?? Int.max) }
    }

    /// [control] Lets a timer-driven graph run up to `count` cycles per wake-up while the plan
    /// allows it (every node `toleratesDeferredCycles`): the ticks between wake-ups run late, in
    /// one batch. Lowering it runs the ticks already due first (on the RT thread, woken for it,
    /// or at once while the control thread hosts the cycles).
    public func setCyclesPerWake(_ count: Int) {
        let k = min(max(count, 1), max(maximumCyclesPerWake, 1))
        if k == 1 { updateHosting(cyclesPerWake: k) }   // the RT thread keeps time again from here
        let old = core.cyclesPerWake.exchange(k, ordering: .relaxed)
        if k < old {
            // The ticks already due run now, and the timer re-arms for the new k.
            if hosting { _ = core.hostStep(runDue: true, timerFired: false) } else { core.wake.signal() }
        }
        if k > 1 { updateHosting(cyclesPerWake: k) }
    }

    /// [control] A node may have become active (a stream started or uncorked): the thread running
    /// the cycles starts its driver if it had stopped for idle.
    public func activityChanged() {
        if hosting { serviceHostedCycles(timerFired: false) } else { core.wake.signal() }
    }

    /// [control, while `hosting`] The driver's fd became readable (`timerFired`), or something
    /// changed: runs the ticks due by now when the timer fired, adopts the newest plan, and hands
    /// the loop back to the RT thread when the plan no longer defers.
    public func serviceHostedCycles(timerFired: Bool) {
        guard hosting else { return }
        if !core.hostStep(runDue: timerFired, timerFired: timerFired) { endHosting() }
    }

    /// Starts or ends hosting to match the plan and `cyclesPerWake` (`hosting`).
    private func updateHosting(cyclesPerWake k: Int) {
        let want = hostsDeferredCycles && isRunning && planDefers && k > 1
        if want && !hosting { beginHosting() } else if !want && hosting { endHosting() }
    }

    private func beginHosting() {
        let request = core.requestHosting()
        let asked = monotonicNanos()
        var pause = timespec(tv_sec: 0, tv_nsec: 20_000)
        while !core.isParked(for: request) {
            if monotonicNanos() - asked > 50_000_000 {   // the RT thread keeps the cycles
                core.endHosting()
                return
            }
            nanosleep(&pause, nil)
        }
        // The loop state is ours from here until `endHosting` clears `hostRequested`.
        guard let fd = core.loop.activeDriver?._withUnsafeGuaranteedRef({ $0.pollDescriptor }), fd >= 0 else {
            core.endHosting()
            return
        }
        hosting = true
        if controlPolicy == .other { try? SchedulingPolicy.batch.applyToCallingThread() }
        onHostingChange?(fd)
        serviceHostedCycles(timerFired: false)
    }

    private func endHosting() {
        guard hosting else { return }
        // The ticks due so far run first, on the plan they were due under.
        _ = core.hostStep(runDue: true, timerFired: false)
        hosting = false
        onHostingChange?(nil)
        core.endHosting()
        if controlPolicy == .other { try? SchedulingPolicy.other.applyToCallingThread() }
    }

    /// The end of the audio produced so far, on the monotonic clock (see `CycleStats`).
    public var renderedThroughNanos: Int64 { core.stats.renderedThroughNanos.load(ordering: .acquiring) }

    /// [control] When cycles are being deferred, has the RT thread run every tick due by now and
    /// waits (at most `timeoutNanos`) until it has: a change the control side makes next (a
    /// stream starts, corks, flushes) then takes effect from the clock's present, as it would
    /// with a wake-up per tick. Returns at once otherwise.
    public func catchUp(timeoutNanos: Int64 = 20_000_000) {
        if hosting { _ = core.hostStep(runDue: true, timerFired: false); return }
        guard core.stats.deferring.load(ordering: .relaxed) else { return }
        let now = monotonicNanos()
        guard renderedThroughNanos <= now else { return }
        core.wake.signal()
        var pause = timespec(tv_sec: 0, tv_nsec: 50_000)
        while renderedThroughNanos <= now && monotonicNanos() - now < timeoutNanos {
            nanosleep(&pause, nil)
        }
    }

    /// The period of the quantum in force.
    public var periodNanos: Int64 { Int64(quantum) * 1_000_000_000 / Int64(format.sampleRate) }

    // MARK: Drivers

    /// Offers another driver; the one with the highest priority drives.
    public func addDriver(_ driver: Driver) {
        drivers.append(driver)
        publish()
    }

    /// Withdraws a driver (a device went away); the next best takes over at a cycle boundary.
    public func removeDriver(_ driver: Driver) {
        drivers.removeAll { $0 === driver }
        publish()
    }

    var electedDriver: Driver { drivers.max { $0.priority < $1.priority }! }

    // MARK: Plans

    private func publish() {
        generation += 1
        var current = format
        current.quantum = quantum
        let plan = PlanCompiler.compile(model: model, silence: silence, driver: electedDriver, format: current, generation: generation)
        let k = core.cyclesPerWake.load(ordering: .relaxed)
        planDefers = plan.allowsDeferral
        if !planDefers { updateHosting(cyclesPerWake: k) }   // back to the RT thread before the plan runs
        core.mailbox.publish(plan)
        if hosting { serviceHostedCycles(timerFired: false) } else { core.wake.signal() }
        if planDefers { updateHosting(cyclesPerWake: k) }
    }

    /// [control] Frees plans the RT thread has retired. Call when `core.retiredSignal` is readable.
    public func reclaim() {
        core.retiredSignal.drain()
        core.mailbox.reclaim()
    }

    // MARK: The RT thread

    /// Starts the RT thread at SCHED_FIFO `priority` (0: normal priority). Falls back to normal
    /// priority when FIFO is not permitted; `policy` and `fifoRefusal` tell what happened.
    public func start(realtimePriority priority: Int32) throws(GraphError) {
        requestedPriority = priority
        let core = self.core
        do {
            try thread.start(name: "sluice-rt", priority: priority) { core.run() }
        } catch {
            throw .resourceFailure(what: "start the realtime thread", errno: error)
        }
        isRunning = true
        controlPolicy = RealtimeThread.currentPolicy()
        updateHosting(cyclesPerWake: core.cyclesPerWake.load(ordering: .relaxed))
    }

    /// The policy the RT thread was granted at its start.
    public var policy: SchedulingPolicy { thread.policy }
    /// Why SCHED_FIFO was refused, when it was.
    public var fifoRefusal: Errno? { thread.fifoError }

    /// Stops and joins the RT thread, then frees every plan.
    public func stop() {
        guard isRunning else { return }
        endHosting()
        isRunning = false
        core.requestStop()
        thread.join()
        core.retireAll()
    }

    /// Runs `count` cycles on the calling thread (tests, offline rendering); returns the number
    /// run, fewer if the graph went idle.
    public func runCycles(_ count: Int) -> Int { core.run(cycleLimit: count) }

    /// Registers more pools for introspection (per-client pools of the pulse server).
    public func addPoolSource(_ source: @escaping () -> [PoolInfo]) { extraPools.append(source) }

    // MARK: Introspection

    public func snapshot() -> EngineSnapshot {
        var nodes: [NodeSnapshot] = []
        for id in model.order {
            guard let r = model.records[id] else { continue }
            var ins: [PortSnapshot] = []
            for (i, p) in r.node.inputPortNames.enumerated() {
                let peers = model.links.filter { $0.toNode == id && $0.toPort == i }.map { model.address(of: $0).0.description }
                ins.append(PortSnapshot(name: p, direction: "in", links: peers))
            }
            var outs: [PortSnapshot] = []
            for (i, p) in r.node.outputPortNames.enumerated() {
                let peers = model.links.filter { $0.fromNode == id && $0.fromPort == i }.map { model.address(of: $0).1.description }
                outs.append(PortSnapshot(name: p, direction: "out", links: peers))
            }
            nodes.append(NodeSnapshot(id: id, name: r.node.name, type: r.node.typeName, inputs: ins, outputs: outs,
                                      parameters: r.node.parameters, properties: r.node.properties, stats: r.stats.snapshot))
        }
        let d = electedDriver
        return EngineSnapshot(
            format: format, quantum: quantum, nodes: nodes, links: model.links.map { model.address(of: $0) },
            pools: allocator.poolInfos + extraPools.flatMap { $0() },
            driver: DriverSnapshot(name: d.name, kind: d.kind, priority: d.priority, candidates: drivers.map(\.name)),
            policy: thread.policy, hosting: hosting, requestedPriority: requestedPriority, isRunning: isRunning,
            planGeneration: generation, cycles: core.stats.snapshot)
    }
}
