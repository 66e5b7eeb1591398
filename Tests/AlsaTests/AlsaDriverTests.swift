import Foundation
import Glibc
import Graph
import Nodes
import SluiceSystem
import Testing

/// ALSA sinks on the clocked fake card (real libasound, a test ALSA configuration).
/// The fake card runs its clock `speed` times faster than real time, so minutes of device time
/// pass in seconds; the devices are told (`clockScale`) and scale their estimator and timers.
@Suite("ALSA devices on the clocked fake card", .serialized)
struct AlsaDriverTests {
    @Test("a sine into a +300 ppm card: the rate estimate settles within 10 ppm and 60 s of device time pass without an xrun")
    func rateEstimateSettles() throws {
        let speed = 20.0
        let config = FakeCard.config([("card", "rate 48000 channels 2 ppm 300 virtual_speed \(speed)")])
        let rig = try AlsaRig(config: config, headroom: 3, clockScale: speed)
        try rig.linkAll()
        try rig.engine.start(realtimePriority: 80)
        defer { rig.engine.stop() }
        #expect(rig.engine.snapshot().driver.kind == "alsa")
        let device = rig.sink.device
        usleep(UInt32(60 / speed * 1e6))
        let ppm = device.rateErrorPPM
        let frames = device.framesTransferred
        #expect(abs(ppm - 300) < 10, "estimate \(ppm) ppm after \(device.rateMeasurements) measurements")
        #expect(device.xruns == 0, "xruns: \(device.xruns)")
        // 60 s of device time at 48 kHz, give or take the start-up and the sleep's slack.
        #expect(frames > 48_000 * 55 && frames < 48_000 * 66, "frames played: \(frames)")
        #expect(device.state == .running)
    }

    @Test("an injected xrun is counted and the stream runs again within one period")
    func xrunRecovers() throws {
        let dir = FakeCard.scratch("xrun")
        let speed = 10.0
        let config = FakeCard.config([("card", "rate 48000 channels 2 virtual_speed \(speed) xrun_file \"\(dir)/xrun\"")])
        let rig = try AlsaRig(config: config, clockScale: speed)
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
        let rig = try AlsaRig(config: config, clockScale: speed, suspendAfter: 0.3)
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
