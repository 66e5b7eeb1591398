import Glibc
import Graph
import Nodes
import SluiceSystem
import Testing

let monoFormat = GraphFormat(sampleRate: 48_000, quantum: 64, channelNames: ["MONO"])

@Suite("graph model and plans")
struct GraphTests {
    @Test("a link that would close a cycle is refused with a clear error and the graph is unchanged")
    func cycleRefused() throws {
        let e = try Engine(format: monoFormat, driver: FreewheelDriver())
        try e.add(GainNode(name: "a", channels: ["MONO"]))
        try e.add(GainNode(name: "b", channels: ["MONO"]))
        try e.add(GainNode(name: "c", channels: ["MONO"]))
        try e.link(node: "a", to: "b")
        try e.link(node: "b", to: "c")
        #expect(throws: GraphError.wouldCreateCycle(from: "c:out_MONO", to: "a:in_MONO")) { try e.link(node: "c", to: "a") }
        #expect(throws: GraphError.wouldCreateCycle(from: "a:out_MONO", to: "a:in_MONO")) { try e.link(node: "a", to: "a") }
        #expect(e.snapshot().links.count == 2)
    }

    @Test("linking an unknown node names it")
    func unknownNode() throws {
        let e = try Engine(format: monoFormat, driver: FreewheelDriver())
        try e.add(GainNode(name: "a", channels: ["MONO"]))
        #expect(throws: GraphError.unknownNode("nope")) { try e.link(node: "a", to: "nope") }
        #expect(GraphError.unknownNode("nope").description.contains("'nope'"))
    }

    @Test("a port of the wrong direction is refused")
    func wrongDirection() throws {
        let e = try Engine(format: monoFormat, driver: FreewheelDriver())
        try e.add(GainNode(name: "a", channels: ["MONO"]))
        try e.add(GainNode(name: "b", channels: ["MONO"]))
        #expect(throws: GraphError.wrongDirection(node: "a", port: "in_MONO", expected: "output")) {
            try e.link(PortAddress(node: "a", port: "in_MONO"), PortAddress(node: "b", port: "in_MONO"))
        }
    }

    @Test("several links into one input are summed there")
    func linksAreSummed() throws {
        let e = try Engine(format: monoFormat, driver: FreewheelDriver())
        try e.add(ConstantNode(name: "x", value: 0.25))
        try e.add(ConstantNode(name: "y", value: 0.5))
        try e.add(ConstantNode(name: "z", value: -0.125))
        let probe = ProbeNode(name: "p", capacity: 64 * 4)
        try e.add(probe)
        try e.link(node: "x", to: "p")
        #expect(e.runCycles(1) == 1)
        try e.link(node: "y", to: "p")
        try e.link(node: "z", to: "p")
        #expect(e.runCycles(1) == 1)
        let r = probe.recorded
        #expect(r.count == 128)
        #expect(r[0..<64].allSatisfy { $0 == 0.25 })
        #expect(r[64..<128].allSatisfy { $0 == 0.625 })
    }

    @Test("nodes that can add into a mix add in place when each of their outputs feeds only that mix; the sum is the same, cycle after cycle")
    func accumulatingSourcesSumIntoTheMix() throws {
        let e = try Engine(format: monoFormat, driver: FreewheelDriver())
        let a = AccumulatingConstantNode(name: "a", value: 0.25)
        let b = AccumulatingConstantNode(name: "b", value: 0.5)
        let quiet = AccumulatingConstantNode(name: "quiet", value: 9, silent: true)
        try e.add(a)
        try e.add(b)
        try e.add(quiet)
        try e.add(ConstantNode(name: "plain", value: -0.125))
        let probe = ProbeNode(name: "p", capacity: 64 * 6)
        try e.add(probe)
        // One accumulating source alone: a single link aliases its buffer, no accumulation.
        try e.link(node: "a", to: "p")
        #expect(e.runCycles(1) == 1)
        #expect(!a.didAccumulate)
        // Several feeders, accumulating and not: added in place, then the plain one summed on
        // top; the buffer starts every cycle silent (two cycles: no carry-over).
        try e.link(node: "b", to: "p")
        try e.link(node: "quiet", to: "p")
        try e.link(node: "plain", to: "p")
        #expect(e.runCycles(2) == 2)
        #expect(a.didAccumulate && b.didAccumulate)
        // An output with two links is not a mix's alone: that node writes its own buffer.
        let probe2 = ProbeNode(name: "p2", capacity: 64 * 6)
        try e.add(probe2)
        try e.link(node: "b", to: "p2")
        #expect(e.runCycles(1) == 1)
        #expect(!b.didAccumulate && a.didAccumulate)
        let r = probe.recorded
        #expect(r.count == 64 * 4)
        #expect(r[0..<64].allSatisfy { $0 == 0.25 })
        #expect(r[64..<192].allSatisfy { $0 == 0.625 }, "\(r[64..<192].prefix(4))")
        #expect(r[192..<256].allSatisfy { $0 == 0.625 })
        #expect(probe2.recorded.count == 64 && probe2.recorded.allSatisfy { $0 == 0.5 })
    }

    @Test("a link change takes effect exactly at the next cycle boundary")
    func linkAtCycleBoundary() throws {
        let e = try Engine(format: monoFormat, driver: FreewheelDriver())
        try e.add(ConstantNode(name: "x", value: 1))
        let probe = ProbeNode(name: "p", capacity: 64 * 3)
        try e.add(probe)
        #expect(e.runCycles(1) == 1)
        try e.link(node: "x", to: "p")
        #expect(e.runCycles(1) == 1)
        try e.unlink(node: "x", to: "p")
        #expect(e.runCycles(1) == 1)
        let r = probe.recorded
        #expect(r[0..<64].allSatisfy { $0 == 0 })
        #expect(r[64..<128].allSatisfy { $0 == 1 })
        #expect(r[128..<192].allSatisfy { $0 == 0 })
    }

    @Test("an idle graph runs no cycles: nothing wants them")
    func idleGraphRunsNothing() throws {
        let e = try Engine(format: monoFormat, driver: FreewheelDriver())
        try e.add(SineNode(name: "s", channels: ["MONO"]))
        try e.add(NullSinkNode(name: "n", channels: ["MONO"]))
        #expect(e.runCycles(10) == 0)
        try e.link(node: "s", to: "n")
        #expect(e.runCycles(10) == 10)
    }

    @Test("plans the RT thread retired are freed on the control side, and removed nodes with them")
    func retiredPlansAreFreed() throws {
        let e = try Engine(format: monoFormat, driver: FreewheelDriver())
        weak var weakProbe: ProbeNode?
        do {
            let probe = ProbeNode(name: "p", capacity: 64)
            weakProbe = probe
            try e.add(probe)
        }
        #expect(e.runCycles(1) == 1)
        try e.remove(named: "p")
        #expect(weakProbe != nil, "the current plan still holds the node")
        try e.add(ProbeNode(name: "q", capacity: 64))
        #expect(e.runCycles(1) == 1)   // switches plans: the old ones go to the retire ring
        e.reclaim()
        #expect(weakProbe == nil)
    }

    @Test("every pool of the engine is a sealed memfd whose size cannot change")
    func poolsAreSealed() throws {
        let e = try Engine(format: monoFormat, driver: FreewheelDriver())
        try e.add(GainNode(name: "a", channels: ["MONO"]))
        let pools = e.snapshot().pools
        #expect(!pools.isEmpty)
        for p in pools {
            #expect(p.seals.isSuperset(of: [.seal, .shrink, .grow]))
            #expect(p.domain == .daemon)
            // The fd was closed after mmap; reopen the mapping the way an auditor would.
            let fd = open("/proc/self/map_files/\(p.mapping)", O_RDWR)
            #expect(fd >= 0, "map_files entry for \(p.mapping)")
            guard fd >= 0 else { continue }
            defer { close(fd) }
            #expect(try memfdSeals(of: fd).isSuperset(of: [.seal, .shrink, .grow]))
            #expect(ftruncate(fd, 0) == -1 && errno == EPERM)
            #expect(ftruncate(fd, off_t(p.byteCount * 2)) == -1 && errno == EPERM)
        }
    }

    @Test("port buffers are 64-byte aligned slices of a pool")
    func buffersAreAligned() throws {
        let pools = try MemoryPool(id: 1, domain: .daemon, purpose: "t", slotByteCount: 100, slotCount: 4)
        #expect(pools.slotByteCount == 128)
        #expect(pools.info.byteCount == 512)
    }
}

@Suite("DSP nodes")
struct DSPTests {
    func render(_ node: AudioNode, input: [Float], cycles: Int, quantum: Int = 64, between: (Int) throws -> Void = { _ in }) throws -> [Float] {
        let format = GraphFormat(sampleRate: 48_000, quantum: quantum, channelNames: ["MONO"])
        let e = try Engine(format: format, driver: FreewheelDriver())
        final class Source: AudioNode, @unchecked Sendable {
            let data: [Float]; var pos = 0
            init(_ d: [Float]) { data = d; super.init(name: "src", typeName: "t", inputPortNames: [], outputPortNames: ["out_MONO"]) }
            override func process(_ c: ProcessContext) -> ProcessStatus {
                for i in 0..<c.frameCount { c.output(0)[i] = pos < data.count ? data[pos] : 0; pos += 1 }
                return .ok
            }
        }
        try e.add(Source(input))
        try e.add(node)
        let probe = ProbeNode(name: "p", capacity: quantum * cycles)
        try e.add(probe)
        try e.link(node: "src", to: node.name)
        try e.link(node: node.name, to: "p")
        for c in 0..<cycles {
            try between(c)
            _ = e.runCycles(1)
        }
        return probe.recorded
    }

    @Test("gain applies its initial value from the first sample, without a ramp")
    func gainInitial() throws {
        let g = GainNode(name: "g", channels: ["MONO"])
        try g.setParameter("gain", to: "0.5")
        let out = try render(g, input: [Float](repeating: 1, count: 128), cycles: 2)
        #expect(out.allSatisfy { $0 == 0.5 })
    }

    @Test("a gain change ramps linearly over ramp_ms: no step larger than one ramp increment")
    func gainRamp() throws {
        let g = GainNode(name: "g", channels: ["MONO"])
        try g.setParameter("ramp_ms", to: "2")   // 96 frames at 48 kHz: spans two 64-frame cycles
        let out = try render(g, input: [Float](repeating: 1, count: 64 * 6), cycles: 6) { c in
            if c == 2 { try g.setParameter("gain", to: "0.25") }
        }
        #expect(out[0..<128].allSatisfy { $0 == 1 })
        #expect(abs(out[128 + 95] - 0.25) < 1e-6)
        #expect(out[(128 + 96)...].allSatisfy { $0 == 0.25 })
        let increment: Float = 0.75 / 96
        for i in 1..<out.count { #expect(abs(out[i] - out[i - 1]) <= increment + 1e-6) }
        #expect(out[128] < 1 && out[128] > 0.99)
    }

    @Test("mute ramps to silence")
    func mute() throws {
        let g = GainNode(name: "g", channels: ["MONO"])
        let out = try render(g, input: [Float](repeating: 1, count: 64 * 20), cycles: 20) { c in
            if c == 1 { try g.setParameter("mute", to: "true") }
        }
        #expect(out[0..<64].allSatisfy { $0 == 1 })
        #expect(out[(64 + 480)...].allSatisfy { $0 == 0 })
    }

    @Test("the sine source has the configured frequency and amplitude")
    func sine() throws {
        let format = GraphFormat(sampleRate: 48_000, quantum: 480, channelNames: ["MONO"])
        let e = try Engine(format: format, driver: FreewheelDriver())
        let s = SineNode(name: "s", channels: ["MONO"])
        try s.setParameter("freq", to: "1000")
        try s.setParameter("amplitude", to: "0.5")
        try e.add(s)
        let probe = ProbeNode(name: "p", capacity: 48_000)
        try e.add(probe)
        try e.link(node: "s", to: "p")
        _ = e.runCycles(100)
        let x = probe.recorded
        #expect(x.count == 48_000)
        let peak = x.map { abs($0) }.max()!
        #expect(abs(peak - 0.5) < 0.001)
        var crossings = 0
        for i in 1..<x.count where x[i - 1] < 0 && x[i] >= 0 { crossings += 1 }
        #expect(abs(crossings - 1000) <= 1)
    }

    @Test("the mixer sums its input groups with their gains")
    func mixer() throws {
        let format = GraphFormat(sampleRate: 48_000, quantum: 64, channelNames: ["MONO"])
        let e = try Engine(format: format, driver: FreewheelDriver())
        try e.add(ConstantNode(name: "x", value: 0.5))
        try e.add(ConstantNode(name: "y", value: 0.25))
        let m = MixerNode(name: "m", channels: ["MONO"], inputCount: 2)
        try m.setParameter("gain1", to: "2")
        try e.add(m)
        let probe = ProbeNode(name: "p", capacity: 128)
        try e.add(probe)
        try e.link(PortAddress(node: "x", port: "out_MONO"), PortAddress(node: "m", port: "in0_MONO"))
        try e.link(PortAddress(node: "y", port: "out_MONO"), PortAddress(node: "m", port: "in1_MONO"))
        try e.link(node: "m", to: "p")
        _ = e.runCycles(2)
        #expect(probe.recorded[64..<128].allSatisfy { $0 == 1.0 })
    }

    @Test("node factory errors name the type, parameter and what was expected")
    func factoryErrors() {
        let f = GraphFormat()
        #expect(throws: GraphError.self) { try NodeFactory.make(type: "nope", name: "x", parameters: [], format: f) }
        do {
            _ = try NodeFactory.make(type: "sine", name: "s", parameters: [("freq", "loud")], format: f)
            Issue.record("expected an error")
        } catch {
            #expect(error.description.contains("'freq'") && error.description.contains("a number"))
        }
    }
}
