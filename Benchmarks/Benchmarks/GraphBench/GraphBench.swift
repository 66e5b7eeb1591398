import Benchmark
import Foundation
import Glibc
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

    // One ALSA sink driving the graph (the clocked fake card at real speed, through real
    // libasound): the realtime thread's CPU time per cycle, wake-up, fill measurement, DLL,
    // sine and conversion into the device included (CLOCK_THREAD_CPUTIME_ID around 200 cycles).
    // `make bench` builds the card and names it in SLUICE_FAKECARD_LIB.
    let rtCPU = BenchmarkMetric.custom("RT thread CPU per cycle (ns)", polarity: .prefersSmaller, useScalingFactor: false)
    if let library = ProcessInfo.processInfo.environment["SLUICE_FAKECARD_LIB"] {
        for quantum in [64, 256] {
            Benchmark("RT cycle, sine into one ALSA sink (driver), quantum \(quantum)",
                      configuration: .init(metrics: [rtCPU], maxDuration: .seconds(10), maxIterations: 20)) { benchmark in
                let channels = ["FL", "FR"]
                let format = GraphFormat(sampleRate: 48_000, quantum: quantum, channelNames: channels)
                let engine = try Engine(format: format, driver: try TimerDriver())
                let pcm = try AlsaPCM.open(name: "card", configText: """
                    pcm_type.sluicefake { lib "\(library)" }
                    pcm.card { type sluicefake rate 48000 channels 2 format "S16_LE" }
                    """, stream: .playback)
                let sink = try AlsaSinkNode(name: "alsa", channels: channels, device: try AlsaDevice(pcm: pcm, headroomPeriods: 4), isDriver: true)
                try engine.add(SineNode(name: "tone", channels: channels))
                try engine.add(sink)
                engine.addDriver(sink.driver!)
                _ = try engine.link(node: "tone", to: "alsa")
                _ = engine.runCycles(50)
                for _ in benchmark.scaledIterations {
                    var a = timespec(), b = timespec()
                    clock_gettime(CLOCK_THREAD_CPUTIME_ID, &a)
                    _ = engine.runCycles(200)
                    clock_gettime(CLOCK_THREAD_CPUTIME_ID, &b)
                    let ns = (b.tv_sec - a.tv_sec) * 1_000_000_000 + (b.tv_nsec - a.tv_nsec)
                    benchmark.measurement(rtCPU, ns / 200)
                }
                blackHole(sink.device.xruns)
            }
        }
    }
}
