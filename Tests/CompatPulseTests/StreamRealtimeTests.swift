import Atomics
import CompatPulse
import Foundation
import Graph
import Nodes
import SluiceSystem
import Testing
import TestSupport

/// The RT side of pulse streams, under the same proof as the graph's own nodes: a playback
/// stream and a record stream run 10,000 cycles on an RT thread while this thread does what the
/// pulse connection does meanwhile — writes audio, rewinds it for seeks and flushes, changes
/// volumes (ramps), reads what was recorded — and the RT thread allocates nothing.
/// What the connection does for two playback streams: tops up a float queue and an s16 one.
private func feed(_ play: PlaybackStreamNode, float block: [Float], _ play2: PlaybackStreamNode, s16 raw: [Int16]) {
    _ = block.withUnsafeBufferPointer { play.ring.write($0.baseAddress!, count: min(play.ring.writableCount, $0.count)) }
    _ = raw.withUnsafeBufferPointer { play2.rawRing!.write($0.baseAddress!, count: min(play2.rawRing!.writableCount, $0.count)) }
}

/// Two started playback streams into one null sink, as the connection sets them up: one queuing
/// floats, one queuing s16 as the client sent it (converted as it plays); both add straight into
/// the sink's mix.
private func addStreamsIntoSink(_ engine: Engine, progress: EventFD) throws -> (PlaybackStreamNode, PlaybackStreamNode) {
    let play = PlaybackStreamNode(name: "play", channels: ["FL", "FR"], ringFrames: 8192, progress: progress)
    let play2 = PlaybackStreamNode(name: "play2", channels: ["FL", "FR"], ringFrames: 8192, progress: progress, rawS16: true)
    try engine.add(NullSinkNode(name: "sink", channels: ["FL", "FR"]))
    try engine.add(play)
    try engine.add(play2)
    try engine.link(node: "play", to: "sink")
    try engine.link(node: "play2", to: "sink")
    play.started.store(true, ordering: .relaxed)
    play2.started.store(true, ordering: .relaxed)
    return (play, play2)
}

@Suite("pulse streams on the realtime thread")
struct StreamRealtimeTests {
    @Test("two playback streams (float and s16 queues) mixing in place and a record stream: 10,000 cycles with seeks, flushes and volume ramps allocate nothing on the RT thread")
    func noAllocations() throws {
        let format = GraphFormat(sampleRate: 48_000, quantum: 256, channelNames: ["FL", "FR"])
        let engine = try Engine(format: format, driver: FreewheelDriver())
        let progress = try EventFD()
        let (play, play2) = try addStreamsIntoSink(engine, progress: progress)
        let record = RecordStreamNode(name: "rec", channels: ["FL", "FR"], ringFrames: 8192, progress: progress)
        try engine.add(SineNode(name: "tone", channels: ["FL", "FR"]))
        try engine.add(record)
        try engine.link(node: "tone", to: "rec")
        // Something records the sink's monitor, so the streams' outputs are observed and they
        // render (a null sink nobody monitors lets them skip it: the test below).
        let monitor = RecordStreamNode(name: "monitor", channels: ["FL", "FR"], ringFrames: 8192, progress: progress)
        try engine.add(monitor)
        try engine.link(node: "sink", to: "monitor")
        let block = [Float](repeating: 0.25, count: 2048)
        let raw = [Int16](repeating: 8192, count: 2048)
        var recorded = [Float](repeating: 0, count: 4096)
        var i = 0, rewound = 0
        var monitorHeard = false
        let run = try realtimeAllocations(core: engine.core, warmUp: 16, cycles: 10_000) {
            feed(play, float: block, play2, s16: raw)
            if i % 4 == 1 {
                // A seek: take back what the RT thread has not reached, overwrite half, restore.
                let top = play.ring.writePosition
                let start = play.ring.rewind(to: play.ring.readPosition)
                if start < top { rewound += 1 }
                _ = block.withUnsafeBufferPointer { play.ring.write($0.baseAddress!, count: min((top - start) / 2 / 2 * 2, $0.count)) }
                play.ring.restore(to: top)
            }
            if i % 16 == 3 { _ = play.ring.rewind(to: play.ring.readPosition) }        // a flush
            play.volume.set(i % 2 == 0 ? [0.5, 0.25] : [1, 1])
            record.volume.set(i % 2 == 0 ? [1, 0.5] : [0.75, 1])
            _ = recorded.withUnsafeMutableBufferPointer { record.ring.read(into: $0.baseAddress!, count: $0.count) }
            let heard = recorded.withUnsafeMutableBufferPointer { monitor.ring.read(into: $0.baseAddress!, count: $0.count) }
            if recorded[0..<heard].contains(where: { $0 != 0 }) { monitorHeard = true }
            progress.drain()
            engine.reclaim()
            i += 1
            usleep(100)
        }
        #expect(run.cycles == 10_000)
        #expect(run.allocations == 0, "allocations on the RT thread")
        #expect(play.framesPlayed.load(ordering: .relaxed) > 256 * 100, "the playback node must have played audio (not only underruns) to prove anything")
        #expect(play2.framesPlayed.load(ordering: .relaxed) > 256 * 100, "the s16 node must have played audio to prove anything")
        #expect(rewound > 10, "the run must include rewinds to prove anything about them")
        #expect(monitorHeard, "the streams must have rendered into the monitored sink to prove anything about rendering")
    }

    @Test("deferred cycles: two streams into a null sink nobody monitors, a timer waking every 4 ticks, 3,000 cycles with catch-ups allocate nothing on the RT thread")
    func deferredCyclesAllocateNothing() throws {
        let format = GraphFormat(sampleRate: 48_000, quantum: 64, channelNames: ["FL", "FR"])
        let engine = try Engine(format: format, driver: try TimerDriver())
        engine.maximumCyclesPerWake = 4
        engine.setCyclesPerWake(4)
        let progress = try EventFD()
        let (play, play2) = try addStreamsIntoSink(engine, progress: progress)
        let block = [Float](repeating: 0.25, count: 2048)
        let raw = [Int16](repeating: 8192, count: 2048)
        let before = engine.core.stats.snapshot
        var i = 0
        let run = try realtimeAllocations(core: engine.core, warmUp: 16, cycles: 3_000) {
            feed(play, float: block, play2, s16: raw)
            if i % 8 == 5 { engine.core.wake.signal() }      // a catch-up: the ticks due so far, now
            progress.drain()
            engine.reclaim()
            i += 1
            usleep(1000)
        }
        let after = engine.core.stats.snapshot
        #expect(run.cycles >= 3_000)
        #expect(run.allocations == 0, "allocations on the RT thread")
        let wakeUps = after.wakeUps - before.wakeUps, cycles = after.cycles - before.cycles
        #expect(wakeUps * 2 < cycles, "cycles must have been deferred to prove anything (\(wakeUps) wake-ups for \(cycles) cycles)")
        #expect(play.framesPlayed.load(ordering: .relaxed) > 64 * 1000, "the stream must have played")
        #expect(play2.framesPlayed.load(ordering: .relaxed) > 64 * 1000, "the s16 stream must have played")
    }
}
