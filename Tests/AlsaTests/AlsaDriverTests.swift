import Atomics
import CAllocCounter
import Foundation
import Glibc
import Graph
import Nodes
import SluiceSystem
import Testing
import TestSupport

/// ALSA sinks on the clocked fake card (real libasound, a test ALSA configuration).
/// The fake card runs its clock `speed` times faster than real time, so minutes of device time
/// pass in seconds; the devices are told (`clockScale`) and scale their estimator and timers.
/// One serialized parent: these tests time a realtime thread against a fake clock, so they must
/// not share the two CPUs with each other.
@Suite("ALSA on the clocked fake card", .serialized)
struct AlsaTests {
@Suite("ALSA devices on the clocked fake card")
struct AlsaDriverTests {
    @Test("a sine into a +300 ppm card: the rate estimate settles within 10 ppm and 60 s of device time pass without an xrun")
    func rateEstimateSettles() throws {
        let speed = 10.0
        let config = FakeCard.config([("card", "rate 48000 channels 2 ppm 300 virtual_speed \(speed)")])
        let rig = try AlsaRig(config: config, headroom: 6, clockScale: speed)
        try rig.linkAll()
        try rig.engine.start(realtimePriority: 80)
        defer { rig.engine.stop() }
        #expect(rig.engine.snapshot().driver.kind == "alsa")
        let device = rig.sink.device
        let started = monotonicNanos()
        usleep(UInt32(60 / speed * 1e6))
        let ppm = device.rateErrorPPM
        let frames = device.framesTransferred
        #expect(abs(ppm - 300) < 10, "estimate \(ppm) ppm after \(device.rateMeasurements) measurements")
        #expect(device.xruns == 0, "xruns: \(device.xruns), the last \(Double(device.lastXrunAt - started) / 1e6) ms after the start; policy \(rig.engine.policy)")
        // 60 s of device time at 48 kHz, give or take the start-up and the sleep's slack.
        #expect(frames > 48_000 * 55 && frames < 48_000 * 66, "frames played: \(frames)")
        #expect(device.state == .running)
    }

    @Test("an injected xrun is counted and the stream runs again within one period")
    func xrunRecovers() throws {
        let dir = FakeCard.scratch("xrun")
        let speed = 10.0
        let config = FakeCard.config([("card", "rate 48000 channels 2 virtual_speed \(speed) xrun_file \"\(dir)/xrun\"")])
        let rig = try AlsaRig(config: config, headroom: 6, clockScale: speed)
        try rig.linkAll()
        try rig.engine.start(realtimePriority: 80)
        defer { rig.engine.stop() }
        let device = rig.sink.device
        #expect(AlsaRig.wait(2) { device.framesTransferred > 48_000 })
        #expect(device.xruns == 0)
        FileManager.default.createFile(atPath: "\(dir)/xrun", contents: nil)
        #expect(AlsaRig.wait(2) { device.xruns == 1 && device.lastRecoveryAt > device.lastXrunAt })
        let period = Int64(1024.0 / 48_000 / speed * 1e9)
        #expect(device.lastRecoveryAt - device.lastXrunAt < period, "recovered after \(device.lastRecoveryAt - device.lastXrunAt) ns; one period is \(period) ns")
        let before = device.framesTransferred
        #expect(AlsaRig.wait(2) { device.framesTransferred > before + 48_000 })
        #expect(device.xruns == 1 && device.state == .running)
        #expect(!FileManager.default.fileExists(atPath: "\(dir)/xrun"))
    }

    @Test("with nothing linked the card suspends after the idle time, and the next stream resumes it")
    func suspendAndResume() throws {
        let speed = 5.0
        let config = FakeCard.config([("card", "rate 48000 channels 2 virtual_speed \(speed)")])
        let rig = try AlsaRig(config: config, headroom: 4, clockScale: speed, suspendAfter: 0.3)
        try rig.linkAll()
        try rig.engine.start(realtimePriority: 80)
        defer { rig.engine.stop() }
        let device = rig.sink.device
        #expect(AlsaRig.wait(2) { device.framesTransferred > 48_000 && device.state == .running })
        _ = try rig.engine.unlink(node: rig.sourceName, to: "alsa")
        // Still running (playing silence) within the idle time…
        usleep(100_000)
        #expect(device.state == .running && device.suspends == 0)
        // …then suspended, and the graph sleeps.
        #expect(AlsaRig.wait(2) { device.state == .suspended })
        #expect(device.suspends == 1)
        let frozen = device.framesTransferred
        usleep(200_000)
        #expect(device.framesTransferred == frozen)
        _ = try rig.engine.link(node: rig.sourceName, to: "alsa")
        #expect(AlsaRig.wait(2) { device.state == .running && device.framesTransferred > frozen + 24_000 })
        #expect(device.resumes == 1 && device.xruns == 0)
    }
}

@Suite("ALSA follower and content")
struct AlsaFollowerTests {
    @Test("two cards at −500 and +500 ppm, one driving and one following: the follower's fill stays bounded over 10 minutes of device time; a +500 ppm capture card follows too, without a gap")
    func followerStaysInSync() throws {
        let speed = 10.0
        let config = FakeCard.config([("card", "rate 48000 channels 2 ppm -500 virtual_speed \(speed)"),
                                      ("card2", "rate 48000 channels 2 ppm 500 virtual_speed \(speed)"),
                                      ("mic", "rate 48000 channels 2 ppm 500 virtual_speed \(speed)")])
        let rig = try AlsaRig(config: config, followerName: "card2", headroom: 6, clockScale: speed)
        let mic = try rig.addCapture("mic", config: config, clockScale: speed)
        try rig.linkAll()
        try rig.engine.start(realtimePriority: 80)
        defer { rig.engine.stop() }
        let follower = rig.follower!.device
        // Settle for 30 s of device time, then watch the fill for 10 minutes of device time.
        usleep(UInt32(30 / speed * 1e6))
        follower.resetFillRange()
        let played = follower.framesTransferred
        let given = rig.sink.device.framesTransferred
        let micDropped = mic.device.framesDropped
        let micTaken = mic.device.framesTransferred
        // Sample the fill every 10 ms (0.2 s of device time) for 10 minutes of device time.
        var samples: [Int] = []
        let end = monotonicNanos() + Int64(600 / speed * 1e9)
        while monotonicNanos() < end {
            samples.append(follower.fillFrames)
            usleep(10_000)
        }
        let range = try #require(follower.fillRange)
        let target = 1024 * 7 / 2
        let minute = samples.count / 10
        let first = Double(samples.prefix(minute).reduce(0, +)) / Double(minute)
        let last = Double(samples.suffix(minute).reduce(0, +)) / Double(minute)
        let report = "fill range \(range), mean in the first minute \(first), in the last \(last), target \(target), xruns: follower \(follower.xruns) driver \(rig.sink.device.xruns), ratio \(follower.resampleRatioPPM) ppm"
        // Unstretched, 1,000 ppm over 10 minutes would move the fill by 28,800 frames.
        #expect(abs(first - Double(target)) < 256 && abs(last - Double(target)) < 256, "\(report)")
        #expect(range.lowerBound > 0 && range.upperBound <= 7 * 1024, "\(report)")
        #expect(follower.xruns == 0, "\(report)")
        #expect(rig.sink.device.xruns == 0, "\(report)")
        // The follower played 1.0005 / 0.9995 times what the driver played: +1,000.5 ppm (the
        // counters move a cycle at a time, ±1,024 frames each of 28.8 million: ±71 ppm).
        let stretch = (Double(follower.framesTransferred - played) / Double(rig.sink.device.framesTransferred - given) - 1) * 1e6
        #expect(abs(stretch - 1000.5) < 75, "the follower played \(stretch) ppm more than the driver; \(report)")
        #expect(abs(follower.resampleRatioPPM - 1000.5) < 200, "resampling at \(follower.resampleRatioPPM) ppm now")
        #expect(follower.framesTransferred - played > 48_000 * 590)
        // The capture card: no padded or skipped frame after settling, no xrun, and it gave
        // 1.0005 / 0.9995 times what the graph took.
        let micReport = "mic: dropped \(mic.device.framesDropped - micDropped), xruns \(mic.device.xruns), resampling \(mic.device.resampleRatioPPM) ppm"
        #expect(mic.device.framesDropped == micDropped, "\(micReport)")
        #expect(mic.device.xruns == 0, "\(micReport)")
        let micStretch = (Double(mic.device.framesTransferred - micTaken) / Double(rig.sink.device.framesTransferred - given) - 1) * 1e6
        #expect(abs(micStretch - 1000.5) < 75, "the capture card gave \(micStretch) ppm more than the graph took; \(micReport)")
    }

    @Test("the file plugin receives exactly the samples played, bit for bit in float")
    func filePluginBitExact() throws {
        let dir = FakeCard.scratch("file")
        // 0.5 s of random float samples, not a pattern a bug could reproduce by accident.
        var generator = SystemRandomNumberGenerator()
        let frames = 24_000
        let samples = (0..<(frames * 2)).map { _ in Float.random(in: -0.9...0.9, using: &generator) }
        let wav = "\(dir)/in.wav"
        try writeFloatWAV(samples, channels: 2, to: wav)
        let speed = 10.0
        let config = FakeCard.config([("card", "rate 48000 channels 2 format \"FLOAT_LE\" virtual_speed \(speed)")])
            + "pcm.tap { type file slave.pcm \"card\" file \"\(dir)/out.raw\" format \"raw\" }\n"
        let rig = try AlsaRig(config: config, driverName: "tap", headroom: 6, clockScale: speed,
                              source: FileSourceNode(name: "player", channels: ["FL", "FR"], path: wav))
        #expect(rig.sink.device.configuration?.sampleFormat == .float32)
        try rig.linkAll()
        try rig.engine.start(realtimePriority: 80)
        #expect(AlsaRig.wait(5) { rig.sink.device.framesTransferred > frames + 8192 })
        rig.engine.stop()
        rig.sink.device.pcm.close()
        let data = try Data(contentsOf: URL(fileURLWithPath: "\(dir)/out.raw"))
        let out: [Float] = data.withUnsafeBytes { Array($0.bindMemory(to: Float.self)) }
        // Leading silence (the prefill), then the file's samples exactly, then silence.
        let start = try #require(out.firstIndex { $0 != 0 })
        #expect(start % 2 == 0)
        let played = Array(out[start..<min(out.count, start + samples.count)])
        #expect(played.count == samples.count)
        #expect(played.map(\.bitPattern) == samples.map(\.bitPattern))
        #expect(out[(start + samples.count)...].allSatisfy { $0 == 0 })
    }
}


@Suite("ALSA realtime path")
struct AlsaRealtimeTests {
    @Test("a driving card, a resampling follower and a resampling capture card: 4,000 cycles allocate nothing on the RT thread")
    func noAllocations() throws {
        let speed = 10.0
        let config = FakeCard.config([("card", "rate 48000 channels 2 ppm -200 virtual_speed \(speed)"),
                                      ("card2", "rate 48000 channels 2 ppm 200 virtual_speed \(speed)"),
                                      ("mic", "rate 48000 channels 2 ppm 300 virtual_speed \(speed)")])
        let rig = try AlsaRig(config: config, followerName: "card2", quantum: 256, headroom: 6, clockScale: speed)
        let mic = try rig.addCapture("mic", config: config, clockScale: speed)
        try rig.linkAll()
        // Warm-up: start, prefill, first ratios.
        let run = try realtimeAllocations(core: rig.engine.core, warmUp: 200, cycles: 4_000, priority: 80) { usleep(10_000) }
        #expect(run.cycles == 4_000)
        #expect(run.allocations == 0, "allocations on the RT thread")
        #expect(rig.follower!.device.framesTransferred > 4_000 * 200, "the follower really played")
        #expect(rig.sink.device.framesTransferred > 4_000 * 256)
        #expect(mic.device.framesTransferred > 4_000 * 200, "the capture card really recorded")
        rig.engine.reclaim()
    }
}
}

/// Writes interleaved float samples as a WAV file (IEEE float, 48 kHz).
func writeFloatWAV(_ samples: [Float], channels: Int, to path: String) throws {
    var d = Data()
    func u32(_ v: UInt32) { withUnsafeBytes(of: v.littleEndian) { d.append(contentsOf: $0) } }
    func u16(_ v: UInt16) { withUnsafeBytes(of: v.littleEndian) { d.append(contentsOf: $0) } }
    let bytes = UInt32(samples.count * 4)
    d.append(contentsOf: Array("RIFF".utf8)); u32(36 + bytes); d.append(contentsOf: Array("WAVE".utf8))
    d.append(contentsOf: Array("fmt ".utf8)); u32(16); u16(3); u16(UInt16(channels)); u32(48_000)
    u32(UInt32(48_000 * channels * 4)); u16(UInt16(channels * 4)); u16(32)
    d.append(contentsOf: Array("data".utf8)); u32(bytes)
    for s in samples { u32(s.bitPattern) }
    try d.write(to: URL(fileURLWithPath: path))
}
