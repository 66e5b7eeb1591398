import Benchmark
import Graph
import Nodes

/// A sink that keeps the graph running and discards its input.
final class DiscardNode: AudioNode, @unchecked Sendable {
    init(channels: [String]) {
        super.init(name: "sink", typeName: "discard", inputPortNames: channels.map { "in_\($0)" }, outputPortNames: [])
    }
    override func wantsCycles(linkedInputCount: Int) -> Bool { true }
}

/// sine → gain × count (a chain) → sink, stereo, freewheeling.
func chain(gains count: Int, quantum: Int) throws -> Engine {
    let channels = ["FL", "FR"]
    let engine = try Engine(format: GraphFormat(sampleRate: 48_000, quantum: quantum, channelNames: channels), driver: FreewheelDriver())
    try engine.add(SineNode(name: "tone", channels: channels))
    try engine.add(DiscardNode(channels: channels))
    var previous = "tone"
    for i in 0..<count {
        let g = GainNode(name: "g\(i)", channels: channels)
        try g.setParameter("gain", to: "0.99")
        try engine.add(g)
        try engine.link(node: previous, to: "g\(i)")
        previous = "g\(i)"
    }
    try engine.link(node: previous, to: "sink")
    _ = engine.runCycles(4)   // adopt the plan, warm caches
    return engine
}

let benchmarks: @Sendable () -> Void = {
    Benchmark.defaultConfiguration = .init(
        metrics: [.wallClock, .cpuTotal, .mallocCountTotal],
        timeUnits: .microseconds,
        maxDuration: .seconds(3),
        maxIterations: 20_000)

    // Baseline: what the harness itself costs per measured iteration (its malloc count is the
    // floor every other benchmark shows; the RT path's own count is proven 0 by the tests).
    Benchmark("baseline: empty iteration") { benchmark in
        benchmark.startMeasurement()
        for i in benchmark.scaledIterations { blackHole(i) }
        benchmark.stopMeasurement()
    }

    // Realtime-thread time per cycle: plan switch check, idle check, every node's process, its
    // timing counters. Goal: 100 gains at quantum 64 under 5% of the 1.333 ms period (66.7 µs).
    for quantum in [64, 1024] {
        for count in [1, 10, 100] {
            Benchmark("RT cycle, \(count) gain nodes, quantum \(quantum)") { benchmark in
                let engine = try chain(gains: count, quantum: quantum)
                benchmark.startMeasurement()
                for _ in benchmark.scaledIterations {
                    blackHole(engine.runCycles(1))
                }
                benchmark.stopMeasurement()
            }
        }
    }

    // The fan-in case: 24 sources summed into one input (mix list), quantum 256.
    Benchmark("RT cycle, 24 links summed into one input, quantum 256") { benchmark in
        let channels = ["FL", "FR"]
        let engine = try Engine(format: GraphFormat(sampleRate: 48_000, quantum: 256, channelNames: channels), driver: FreewheelDriver())
        try engine.add(DiscardNode(channels: channels))
        for i in 0..<24 {
            try engine.add(SineNode(name: "s\(i)", channels: channels))
            try engine.link(node: "s\(i)", to: "sink")
        }
        _ = engine.runCycles(4)
        benchmark.startMeasurement()
        for _ in benchmark.scaledIterations { blackHole(engine.runCycles(1)) }
        benchmark.stopMeasurement()
    }

    // Control side: compiling and publishing a plan for a 100-node graph (one `sluice link`).
    Benchmark("control: relink in a 100-node graph (compile + publish)") { benchmark in
        let engine = try chain(gains: 98, quantum: 256)
        try engine.add(SineNode(name: "extra", channels: ["FL", "FR"]))
        benchmark.startMeasurement()
        for _ in benchmark.scaledIterations {
            try engine.link(node: "extra", to: "g50")
            try engine.unlink(node: "extra", to: "g50")
            _ = engine.runCycles(1)
            engine.reclaim()
        }
        benchmark.stopMeasurement()
    }
}
