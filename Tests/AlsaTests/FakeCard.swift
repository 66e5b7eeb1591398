import Foundation
import Glibc
import Graph
import Nodes
import SluiceSystem
import TestSupport

/// The clocked fake card (Fixtures/fakecard/sluicefake.c): ALSA configurations that use it.
enum FakeCard {
    static var library: String { fakeCardLibrary }

    /// alsa.conf text defining `pcm.NAME` as a fake card with these settings, plus `pcm.null`.
    static func config(_ cards: [(name: String, settings: String)]) -> String {
        var text = "pcm_type.sluicefake { lib \"\(library)\" }\npcm.null { type null }\n"
        for c in cards { text += "pcm.\(c.name) { type sluicefake \(c.settings) }\n" }
        return text
    }

    /// A scratch directory for control files and outputs.
    static func scratch(_ label: String) -> String {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("sluice-alsa-\(label)-\(getpid())-\(UInt32.random(in: 0...UInt32.max))").path
        try? FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        return dir
    }
}

/// An engine driven by one ALSA sink on a fake card, with a sine into it.
struct AlsaRig {
    let engine: Engine
    let sink: AlsaSinkNode
    let follower: AlsaSinkNode?

    init(config: String, driverName: String = "card", followerName: String? = nil, quantum: Int = 1024,
         headroom: Int = 2, clockScale: Double = 1, suspendAfter: Double = 5, source: AudioNode? = nil) throws {
        let format = GraphFormat(sampleRate: 48_000, quantum: quantum, channelNames: ["FL", "FR"])
        engine = try Engine(format: format, driver: try TimerDriver())
        let pcm = try AlsaPCM.open(name: driverName, configText: config, stream: .playback)
        let device = try AlsaDevice(pcm: pcm, headroomPeriods: headroom, clockScale: clockScale,
                                    suspendAfterNanos: Int64(suspendAfter * 1e9))
        sink = try AlsaSinkNode(name: "alsa", channels: ["FL", "FR"], device: device, isDriver: true)
        try engine.add(source ?? SineNode(name: "tone", channels: ["FL", "FR"]))
        try engine.add(sink)
        engine.addDriver(sink.driver!)
        if let followerName {
            let fpcm = try AlsaPCM.open(name: followerName, configText: config, stream: .playback)
            let fdev = try AlsaDevice(pcm: fpcm, headroomPeriods: headroom, clockScale: clockScale,
                                      suspendAfterNanos: Int64(suspendAfter * 1e9))
            let f = try AlsaSinkNode(name: "alsa2", channels: ["FL", "FR"], device: fdev, isDriver: false)
            try engine.add(f)
            follower = f
        } else {
            follower = nil
        }
    }

    /// Adds a following capture card `name` (headroom 6) recording into a null sink.
    func addCapture(_ name: String, config: String, clockScale: Double) throws -> AlsaSourceNode {
        let pcm = try AlsaPCM.open(name: name, configText: config, stream: .capture)
        let node = AlsaSourceNode(name: name, channels: ["FL", "FR"],
                                  device: try AlsaDevice(pcm: pcm, headroomPeriods: 6, clockScale: clockScale), follows: true)
        try engine.add(node)
        try engine.add(NullSinkNode(name: name + "sink", channels: ["FL", "FR"]))
        _ = try engine.link(node: name, to: name + "sink")
        return node
    }

    var sourceName: String { engine.nodeNames.first { $0 != "alsa" && $0 != "alsa2" }! }

    func linkAll() throws {
        _ = try engine.link(node: sourceName, to: "alsa")
        if follower != nil { _ = try engine.link(node: sourceName, to: "alsa2") }
    }

    /// Waits until `condition` holds or `seconds` pass; returns whether it held.
    static func wait(_ seconds: Double, until condition: () -> Bool) -> Bool {
        let end = monotonicNanos() + Int64(seconds * 1e9)
        while monotonicNanos() < end {
            if condition() { return true }
            usleep(5_000)
        }
        return condition()
    }
}
