import Atomics
import Glibc
import CAllocCounter
import Graph
import Nodes
import SluiceSystem
import Testing
import TestSupport

/// Counts allocations made by the calling thread while `body` runs.
func threadAllocations(_ body: () -> Void) -> UInt64 {
    let before = sluice_thread_alloc_count()
    body()
    return sluice_thread_alloc_count() - before
}

/// A 50-node graph: sine → 24 parallel gain pairs → mixer-like fan-in at a sink that uses its
/// input (a probe, so the plan computes every output and the 24-link mix: a null sink nobody
/// monitors would let it skip them). sine(1) + 24 × (gain → gain) (48) + sink (1) = 50 nodes.
func fiftyNodeEngine(driver: Driver, extra: AudioNode? = nil) throws -> Engine {
    let format = GraphFormat(sampleRate: 48_000, quantum: 256, channelNames: ["MONO"])
    let engine = try Engine(format: format, driver: driver)
    try engine.add(SineNode(name: "tone", channels: ["MONO"]))
    try engine.add(ProbeNode(name: "sink", capacity: 0))
    for i in 0..<24 {
        try engine.add(GainNode(name: "a\(i)", channels: ["MONO"]))
        try engine.add(GainNode(name: "b\(i)", channels: ["MONO"]))
        try engine.link(node: "tone", to: "a\(i)")
        try engine.link(node: "a\(i)", to: "b\(i)")
        try engine.link(node: "b\(i)", to: "sink")
    }
    if let extra {
        try engine.add(extra)
        try engine.link(node: "tone", to: extra.name)
        try engine.link(node: extra.name, to: "sink")
    }
    return engine
}

@Suite("realtime thread allocations", .serialized)
struct RealtimeAllocationTests {
    @Test("the allocation counter sees allocations on the calling thread")
    func interposerIsActive() {
        let n = threadAllocations {
            for _ in 0..<10 { UnsafeMutableRawPointer.allocate(byteCount: 64, alignment: 16).deallocate() }
        }
        #expect(n == 10)
    }

    @Test("10,000 cycles of a 50-node graph allocate nothing on the RT thread, across plan swaps and parameter changes")
    func noAllocationsOverTenThousandCycles() throws {
        let engine = try fiftyNodeEngine(driver: FreewheelDriver())
        #expect(engine.nodeNames.count == 50)
        // Meanwhile, on this (control) thread: parameter changes and plan swaps.
        var i = 0
        let run = try realtimeAllocations(core: engine.core, warmUp: 16, cycles: 10_000) {
            try engine.set(node: "a\(i % 24)", parameter: "gain", value: i % 2 == 0 ? "0.5" : "1")
            if i % 3 == 0 {
                try engine.unlink(node: "b\(i % 24)", to: "sink")
                try engine.link(node: "b\(i % 24)", to: "sink")
            }
            engine.reclaim()
            i += 1
            usleep(200)
        }
        engine.reclaim()
        let swaps = engine.snapshot().cycles.planSwaps
        #expect([run.allocations, UInt64(run.cycles)] == [0, 10_000], "allocations on the RT thread, cycles run")
        #expect(swaps > 10, "the run must include plan swaps to prove anything about them")
    }

    @Test("a node that allocates in process is caught by the same measurement")
    func allocatingNodeIsDetected() throws {
        let engine = try fiftyNodeEngine(driver: FreewheelDriver(), extra: AllocatingNode(name: "bad"))
        let run = try realtimeAllocations(core: engine.core, warmUp: 16, cycles: 1000)
        #expect(run.allocations >= 1000)
    }
}
