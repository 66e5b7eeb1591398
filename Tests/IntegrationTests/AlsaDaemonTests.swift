import Foundation
import Glibc
import TextFormats
import Testing
import TestSupport

/// sluiced with an ALSA sink on the clocked fake card (Tests/AlsaTests/Fixtures/fakecard),
/// defined in a private ALSA configuration named by ALSA_CONFIG_PATH.
@Suite("sluiced with a sound card")
struct AlsaDaemonTests {
    /// A scratch directory for the ALSA configuration and the fake cards' control files.
    static func scratch() throws -> String {
        let dir = NSTemporaryDirectory() + "sluice-card-\(UUID().uuidString.prefix(8))"
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        return dir
    }

    /// sluiced on `pcms` (alsa.conf lines after the fake card's plugin definition) with `nodes`
    /// (TOML `[[node]]` tables) after a 48 kHz / 1024 / stereo graph with autodetection off.
    static func daemon(in dir: String, pcms: String, nodes: String) throws -> DaemonHarness {
        let alsaConf = dir + "/asound.conf"
        try "pcm_type.sluicefake { lib \"\(fakeCardLibrary)\" }\nctl_type.sluicefake { lib \"\(fakeCardLibrary)\" }\n\(pcms)\n"
            .write(toFile: alsaConf, atomically: true, encoding: .utf8)
        return try DaemonHarness(config: "[graph]\nrate = 48000\nquantum = 1024\nchannels = 2\n[alsa]\nautodetect = false\n" + nodes,
                                 extraEnvironment: ["ALSA_CONFIG_PATH": alsaConf])
    }

    @Test("the card drives the graph and is the default sink; xruns show in the dump; when it vanishes its node goes, the stream moves to the null sink, and the daemon carries on")
    func cardDrivesAndVanishes() throws {
        let dir = try Self.scratch()
        let d = try Self.daemon(in: dir, pcms: """
            pcm.null { type null }
            pcm.fake { type sluicefake rate 48000 channels 2 xrun_file "\(dir)/xrun" vanish_file "\(dir)/vanish" }
            """, nodes: """
            [[node]]
            type = "alsa-sink"
            name = "card"
            params = { device = "fake" }
            [[node]]
            type = "null-sink"
            name = "null"
            """)
        defer { d.stop() }
        #expect(try d.dump()["driver"]?["kind"]?.stringValue == "alsa")
        let info = try runCommand("/usr/bin/pactl", ["info"], environment: d.environment)
        #expect(info.stdout.contains("Default Sink: card"), "\(info.stdout)")
        let sinks = try runCommand("/usr/bin/pactl", ["list", "sinks"], environment: d.environment)
        #expect(sinks.stdout.contains("device.api = \"alsa\"") && sinks.stdout.contains("device.string = \"fake\"")
                && sinks.stdout.contains("device.class = \"sound\""), "\(sinks.stdout)")

        let tone = d.root.appendingPathComponent("tone.raw").path
        try writeRaw(stereoSine(frames: 48_000 * 4, freq: 440, amplitude: 8000), to: tone)
        let player = Process()
        player.executableURL = URL(fileURLWithPath: "/usr/bin/pacat")
        player.arguments = ["--format=s16le", "--rate=48000", "--channels=2", "--raw", tone]
        player.environment = d.environment
        try player.run()
        defer { if player.isRunning { kill(player.processIdentifier, SIGKILL) } }
        func props() throws -> JSONValue? { try d.node("card")?["props"] }
        try d.waitUntil(timeout: 10) { Int(try props()?["frames"]?.stringValue ?? "0") ?? 0 > 48_000 }
        #expect(try props()?["state"]?.stringValue == "running")

        // An injected xrun: counted in the device's properties and the node's overruns.
        FileManager.default.createFile(atPath: dir + "/xrun", contents: nil)
        try d.waitUntil(timeout: 5) { try props()?["xruns"]?.stringValue == "1" }
        #expect(try d.node("card")?["stats"]?["overruns"]?.intValue == 1)

        // The card vanishes mid-stream.
        FileManager.default.createFile(atPath: dir + "/vanish", contents: nil)
        try d.waitUntil(timeout: 5) { try d.node("card") == nil }
        #expect(try d.dump()["driver"]?["kind"]?.stringValue == "timer")
        let after = try runCommand("/usr/bin/pactl", ["info"], environment: d.environment)
        #expect(after.status == 0 && after.stdout.contains("Default Sink: null"), "\(after.stdout)")
        // The stream was moved to the null sink and plays to its end there.
        let inputs = try runCommand("/usr/bin/pactl", ["list", "short", "sink-inputs"], environment: d.environment)
        let nullIndex = try #require(try d.node("null")?["id"]?.intValue)
        #expect(inputs.stdout.split(separator: "\n").contains { $0.split(separator: "\t").dropFirst().first == Substring(String(nullIndex)) }, "\(inputs.stdout)")
        let deadline = Date().addingTimeInterval(10)
        while player.isRunning && Date() < deadline { usleep(20_000) }
        #expect(!player.isRunning && player.terminationStatus == 0)
        #expect(d.process.isRunning)
        let log = d.stop()
        #expect(log.contains("'fake' (card) is gone"), "\(log)")
    }

    @Test("a capture card is the default pulse source: parec records its ramp with no frame lost or repeated; latencies include the card's queue")
    func captureCardRecords() throws {
        let dir = try Self.scratch()
        let d = try Self.daemon(in: dir, pcms: """
            pcm.fake { type sluicefake rate 48000 channels 2 }
            pcm.fakecap { type sluicefake rate 48000 channels 2 format "FLOAT_LE" }
            """, nodes: """
            [[node]]
            type = "alsa-sink"
            name = "card"
            params = { device = "fake" }
            [[node]]
            type = "alsa-source"
            name = "mic"
            params = { device = "fakecap", follow = false }
            """)
        defer { d.stop() }
        let info = try runCommand("/usr/bin/pactl", ["info"], environment: d.environment)
        #expect(info.stdout.contains("Default Source: mic"), "\(info.stdout)")
        let sources = try runCommand("/usr/bin/pactl", ["list", "short", "sources"], environment: d.environment)
        #expect(sources.stdout.contains("mic") && sources.stdout.contains("card.monitor"), "\(sources.stdout)")

        let path = d.root.appendingPathComponent("rec.raw").path
        let rec = Process()
        rec.executableURL = URL(fileURLWithPath: "/usr/bin/parec")
        rec.arguments = ["--format=s16le", "--rate=48000", "--channels=2", "--raw", "--latency-msec=50"]
        rec.environment = d.environment
        FileManager.default.createFile(atPath: path, contents: nil)
        rec.standardOutput = FileHandle(forWritingAtPath: path)
        try rec.run()
        // While it records, a player on the card: the sink's latency then includes the card's queue.
        let tone = d.root.appendingPathComponent("tone.raw").path
        try writeRaw(stereoSine(frames: 48_000 * 2, freq: 440, amplitude: 8000), to: tone)
        let player = Process()
        player.executableURL = URL(fileURLWithPath: "/usr/bin/pacat")
        player.arguments = ["--format=s16le", "--rate=48000", "--channels=2", "--raw", tone]
        player.environment = d.environment
        try player.run()
        usleep(700_000)
        let sinks = try runCommand("/usr/bin/pactl", ["list", "sinks"], environment: d.environment)
        // "Latency: N usec, configured M usec": the 21.3 ms cycle plus the card's queue (≥ a cycle).
        let latency = sinks.stdout.split(separator: "\n").first { $0.contains("Latency:") }
            .flatMap { Int($0.split(separator: " ").dropFirst().first ?? "") } ?? 0
        #expect(latency > 21_333 + 15_000, "sink latency \(latency) µs; \(sinks.stdout)")
        player.waitUntilExit()
        #expect(player.terminationStatus == 0)
        kill(rec.processIdentifier, SIGKILL)   // raw output is written as it comes; SIGINT may be blocked
        rec.waitUntilExit()
        let samples = readRaw(path)
        let left = stride(from: 0, to: samples.count, by: 2).map { Int(samples[$0]) }
        #expect(left.count > 48_000, "recorded \(left.count) frames")
        // The card's ramp: sample n of channel 0 is ((n mod 4096) - 2048) / 2048 → steps of 16.
        let start = try #require(left.firstIndex { $0 != 0 })
        let body = Array(left[(start + 24_000)...])            // after the start-up half second
        var bad = 0
        for i in 1..<body.count where !(body[i] - body[i - 1] == 16 || body[i] - body[i - 1] == -65_520) { bad += 1 }
        #expect(bad == 0, "\(bad) broken steps in \(body.count) frames")
        let props = try #require(try d.node("mic")?["props"])
        #expect(props["xruns"]?.stringValue == "0")
    }

    @Test("a card's jacks and switches are its pulse ports: pactl lists them with their availability, the plugged-in headphones are the active port, and the card has PulseAudio's profiles")
    func portsFromControls() throws {
        let dir = try Self.scratch()
        let d = try Self.daemon(in: dir, pcms: """
            pcm.fake { type sluicefake rate 48000 channels 2 }
            pcm.mic { type sluicefake rate 48000 channels 2 }
            ctl.fakectl { type sluicefake elements "Headphone Jack=1;Headphone Playback Switch=1;Speaker Playback Volume=1;Mic Jack=0;Mic Capture Switch=1;Internal Mic Boost Volume=1" }
            """, nodes: """
            [[node]]
            type = "alsa-sink"
            name = "card"
            params = { device = "fake", ctl = "fakectl" }
            [[node]]
            type = "alsa-source"
            name = "mic"
            params = { device = "mic", ctl = "fakectl" }
            """)
        defer { d.stop() }
        let sinks = try runCommand("/usr/bin/pactl", ["list", "sinks"], environment: d.environment)
        #expect(sinks.status == 0)
        let out = sinks.stdout
        #expect(out.contains("analog-output-speaker: Speakers (type: Speaker, priority: 10000, not available)"), "\(out)")
        #expect(out.contains("analog-output-headphones: Headphones (type: Headphones, priority: 9900, available)"), "\(out)")
        #expect(out.contains("Active Port: analog-output-headphones"), "\(out)")
        #expect(out.contains("device.profile.name = \"analog-stereo\""), "\(out)")
        let sources = try runCommand("/usr/bin/pactl", ["list", "sources"], environment: d.environment)
        #expect(sources.stdout.contains("analog-input-mic: Microphone (type: Mic, priority: 8700, not available)"), "\(sources.stdout)")
        #expect(sources.stdout.contains("Active Port: analog-input-internal-mic"), "\(sources.stdout)")
        #expect(try d.node("card")?["props"]?["active_port"]?.stringValue == "analog-output-headphones")
        // The sink and the source share a control device: one card, with PulseAudio's profiles.
        let cards = try runCommand("/usr/bin/pactl", ["list", "cards"], environment: d.environment)
        #expect(cards.status == 0)
        #expect(cards.stdout.contains("Name: alsa_card.fakectl"), "\(cards.stdout)")
        #expect(cards.stdout.contains("output:analog-stereo+input:analog-stereo: Analog Stereo Duplex (sinks: 1, sources: 1, priority: 6565, available: yes)"), "\(cards.stdout)")
        #expect(cards.stdout.contains("Active Profile: output:analog-stereo+input:analog-stereo"), "\(cards.stdout)")
        #expect(cards.stdout.contains("analog-output-headphones: Headphones (type: Headphones, priority: 9900, latency offset: 0 usec, available)"), "\(cards.stdout)")
        #expect(cards.stdout.contains("analog-input-mic: Microphone (type: Mic, priority: 8700, latency offset: 0 usec, not available)"), "\(cards.stdout)")
        // Switching is refused cleanly (Sluice does not drive the mixer yet), and the daemon carries on.
        let switchProfile = try runCommand("/usr/bin/pactl", ["set-card-profile", "alsa_card.fakectl", "off"], environment: d.environment)
        #expect(switchProfile.status != 0)
        #expect(try runCommand("/usr/bin/pactl", ["info"], environment: d.environment).status == 0)
    }

    @Test("headphones unplugged: subscribers hear of the sink and the card changing, and the speakers become the active port")
    func jackChangeIsPushed() throws {
        let dir = try Self.scratch()
        let state = dir + "/jacks"
        try "Headphone Jack=1\n".write(toFile: state, atomically: true, encoding: .utf8)
        let d = try Self.daemon(in: dir, pcms: """
            pcm.fake { type sluicefake rate 48000 channels 2 }
            ctl.fakectl { type sluicefake elements "Headphone Jack=1;Headphone Playback Switch=1;Speaker Playback Volume=1" state_file "\(state)" }
            """, nodes: """
            [[node]]
            type = "alsa-sink"
            name = "card"
            params = { device = "fake", ctl = "fakectl" }
            """)
        defer { d.stop() }
        func sinks() throws -> String { try runCommand("/usr/bin/pactl", ["list", "sinks"], environment: d.environment).stdout }
        #expect(try sinks().contains("Active Port: analog-output-headphones"))
        let events = d.root.appendingPathComponent("events.txt").path
        let subscriber = try Background("/usr/bin/pactl", ["subscribe"], environment: d.environment, stdout: events)
        defer { subscriber.interrupt() }
        usleep(300_000)
        try "Headphone Jack=0\n".write(toFile: state, atomically: true, encoding: .utf8)
        func heard() -> String { (try? String(contentsOfFile: events, encoding: .utf8)) ?? "" }
        try d.waitUntil(timeout: 5) { heard().contains("Event 'change' on card #0") }
        #expect(heard().contains("Event 'change' on sink #"), "\(heard())")
        let out = try sinks()
        #expect(out.contains("analog-output-headphones: Headphones (type: Headphones, priority: 9900, not available)"), "\(out)")
        #expect(out.contains("analog-output-speaker: Speakers (type: Speaker, priority: 10000, availability unknown)"), "\(out)")
        #expect(out.contains("Active Port: analog-output-speaker"), "\(out)")
    }

    @Test("a change in the sound device directory makes the daemon rescan the cards (hot-plug), and it carries on")
    func hotplugRescan() throws {
        let dir = try Self.scratch()
        let snd = dir + "/snd"     // does not exist yet: the daemon watches its parent for it
        let d = try DaemonHarness(config: "[[node]]\ntype = \"null-sink\"\nname = \"null\"\n", extraEnvironment: ["SLUICE_SND_DIR": snd])
        defer { d.stop() }
        try FileManager.default.createDirectory(atPath: snd, withIntermediateDirectories: true)
        FileManager.default.createFile(atPath: snd + "/controlC7", contents: nil)
        usleep(1_500_000)
        #expect(d.process.isRunning)
        #expect(try runCommand("/usr/bin/pactl", ["info"], environment: d.environment).status == 0)
        let log = d.stop()
        // No real card exists here, so the rescan finds none (and adds nothing).
        #expect(log.contains("sound devices changed; 0 card(s) present"), "\(log)")
    }

    @Test("a config naming an ALSA device that does not exist fails with the file, line and a hint")
    func unknownDevice() throws {
        let dir = try Self.scratch()
        try "pcm.null { type null }\n".write(toFile: dir + "/asound.conf", atomically: true, encoding: .utf8)
        let config = dir + "/sluiced.toml"
        try "[alsa]\nautodetect = false\n\n[[node]]\ntype = \"alsa-sink\"\nname = \"card\"\nparams = { device = \"nosuchpcm\" }\n".write(toFile: config, atomically: true, encoding: .utf8)
        var env = ProcessInfo.processInfo.environment
        env["ALSA_CONFIG_PATH"] = dir + "/asound.conf"
        env["XDG_RUNTIME_DIR"] = dir
        let r = try runCommand(productsDirectory.appendingPathComponent("sluiced").path, ["--config", config], environment: env, timeout: 10)
        #expect(r.status == 1)
        #expect(r.stderr.contains("sluiced.toml:4:") && r.stderr.contains("'nosuchpcm' does not exist") && r.stderr.contains("aplay -L"), "\(r.stderr)")
    }
}
