import Foundation
import Glibc
import TextFormats
import Testing

/// s16 stereo interleaved samples of a sine, with a phase offset on the right channel.
func stereoSine(frames: Int, freq: Double, amplitude: Double, rate: Double = 48_000) -> [Int16] {
    var out: [Int16] = []
    out.reserveCapacity(frames * 2)
    for n in 0..<frames {
        let t = 2 * Double.pi * freq * Double(n) / rate
        out.append(Int16((amplitude * sin(t)).rounded()))
        out.append(Int16((amplitude * sin(t + 1)).rounded()))
    }
    return out
}

func writeRaw(_ samples: [Int16], to path: String) throws {
    try samples.withUnsafeBytes { Data($0) }.write(to: URL(fileURLWithPath: path))
}

func readRaw(_ path: String) -> [Int16] {
    guard let d = FileManager.default.contents(atPath: path) else { return [] }
    return d.withUnsafeBytes { Array($0.bindMemory(to: Int16.self)) }
}

/// A running client process (parec in the background).
final class Background {
    let process = Process()
    init(_ executable: String, _ args: [String], environment: [String: String], stdout: String? = nil) throws {
        process.executableURL = URL(fileURLWithPath: executable)
        process.arguments = args
        process.environment = environment
        if let stdout {
            FileManager.default.createFile(atPath: stdout, contents: nil)
            process.standardOutput = FileHandle(forWritingAtPath: stdout)
        } else {
            process.standardOutput = FileHandle.nullDevice
        }
        process.standardError = FileHandle.nullDevice
        try process.run()
    }
    /// Stops the client. SIGKILL, because children of the test runner may inherit a signal mask
    /// that blocks SIGINT/SIGTERM; parec writes what it receives straight to its output file, so
    /// nothing it already got is lost.
    func interrupt() {
        if process.isRunning { kill(process.processIdentifier, SIGKILL) }
        process.waitUntilExit()
    }
}

@Suite("unmodified pulse clients against sluiced", .serialized)
struct PulseTests {
    func client(_ d: DaemonHarness, _ tool: String, _ args: [String], timeout: TimeInterval = 20) throws -> CommandResult {
        try runCommand("/usr/bin/\(tool)", args, environment: d.environment, timeout: timeout)
    }

    /// Records the default monitor while `body` runs; returns interleaved s16 stereo.
    func recording(_ d: DaemonHarness, _ body: () throws -> Void) throws -> [Int16] {
        let path = d.root.appendingPathComponent("rec-\(UUID().uuidString.prefix(6)).raw").path
        let rec = try Background("/usr/bin/parec", ["--device=@DEFAULT_MONITOR@", "--format=s16le", "--rate=48000", "--channels=2",
                                                    "--raw", "--latency-msec=20"], environment: d.environment, stdout: path)
        usleep(400_000)
        try body()
        usleep(400_000)
        rec.interrupt()
        return readRaw(path)
    }

    @Test("pactl info, list and stat answer, naming the null sink and its monitor as defaults")
    func pactl() throws {
        let d = try DaemonHarness(config: nil)
        defer { d.stop() }
        let info = try client(d, "pactl", ["info"])
        #expect(info.status == 0)
        #expect(info.stdout.contains("Default Sink: null") && info.stdout.contains("Default Source: null.monitor"))
        #expect(info.stdout.contains("Server Protocol Version: 35"))
        let sinks = try client(d, "pactl", ["list", "short", "sinks"])
        #expect(sinks.stdout.hasPrefix("1\tnull\t"))
        #expect(try client(d, "pactl", ["list"]).status == 0)
        #expect(try client(d, "pactl", ["stat"]).status == 0)
    }

    @Test("paplay of a 1 s WAV takes 1 s ± 20 %: the server paces it")
    func paplayIsPaced() throws {
        let d = try DaemonHarness(config: nil)
        defer { d.stop() }
        let wav = d.root.appendingPathComponent("tone.wav").path
        #expect(try runCommand("/usr/bin/sox", ["-n", "-r", "48000", "-c", "2", "-b", "16", wav, "synth", "1", "sine", "440"], environment: d.environment).status == 0)
        let start = Date()
        let r = try client(d, "paplay", [wav])
        let elapsed = Date().timeIntervalSince(start)
        #expect(r.status == 0, "\(r.stderr)")
        #expect(elapsed > 0.8 && elapsed < 1.2, "paplay took \(elapsed) s")
    }

    @Test("the volume a client asks for when it creates a stream (paplay --volume=32768) is honoured")
    func paplayVolume() throws {
        let d = try DaemonHarness(config: nil)
        defer { d.stop() }
        let wav = d.root.appendingPathComponent("tone.wav").path
        // A full-scale 440 Hz sine (sox writes ±32767 for gain 0 dBFS).
        #expect(try runCommand("/usr/bin/sox", ["-n", "-r", "48000", "-c", "2", "-b", "16", wav, "synth", "0.5", "sine", "440"], environment: d.environment).status == 0)
        let rec = try recording(d) {
            let r = try client(d, "paplay", ["--volume=32768", wav])
            #expect(r.status == 0)
        }
        let peak = rec.map { abs(Int($0)) }.max() ?? 0
        // 32768 is 50 % on PulseAudio's cubic scale: a linear factor of 0.125.
        #expect(abs(Double(peak) - 32767 * 0.125) <= 40, "peak \(peak), expected about \(Int(32767 * 0.125))")
    }

    @Test("what pacat plays, parec records from the monitor sample for sample; at volume 32768 the level is the cubic 0.125")
    func roundTrip() throws {
        let d = try DaemonHarness(config: nil)
        defer { d.stop() }
        let signal = stereoSine(frames: 24_000, freq: 997, amplitude: 10_000)
        let sig = d.root.appendingPathComponent("sig.raw").path
        try writeRaw(signal, to: sig)
        for (volume, factor) in [(65536, 1.0), (32768, 0.125)] {
            let rec = try recording(d) {
                let r = try client(d, "pacat", ["--format=s16le", "--rate=48000", "--channels=2", "--raw", "--volume=\(volume)", sig])
                #expect(r.status == 0)
            }
            // Align: the first non-zero sample is in the first frame or right after it.
            let firstFrame = try #require(rec.firstIndex(where: { $0 != 0 })) / 2
            var worst = Double.infinity
            for frame in max(firstFrame - 3, 0)...(firstFrame + 3) where (frame * 2 + signal.count) <= rec.count {
                var deviation = 0.0
                for i in 0..<signal.count {
                    deviation = max(deviation, abs(Double(rec[frame * 2 + i]) - (Double(signal[i]) * factor).rounded()))
                    if deviation > worst { break }
                }
                worst = min(worst, deviation)
            }
            #expect(worst <= 1, "max deviation \(worst) LSB at volume \(volume)")
        }
    }

    @Test("a 44.1 kHz mono stream plays on the 48 kHz stereo sink at the right pitch on both channels")
    func resampledMono() throws {
        let d = try DaemonHarness(config: nil)
        defer { d.stop() }
        let wav = d.root.appendingPathComponent("m.wav").path
        _ = try runCommand("/usr/bin/sox", ["-n", "-r", "44100", "-c", "1", "-b", "16", wav, "synth", "1", "sine", "1000", "vol", "0.5"], environment: d.environment)
        let rec = try recording(d) {
            let r = try client(d, "paplay", [wav])
            #expect(r.status == 0)
        }
        let first = try #require(rec.firstIndex(where: { $0 != 0 })) / 2
        let last = try #require(rec.lastIndex(where: { $0 != 0 })) / 2
        for ch in 0..<2 {
            let x = (first + 2000..<last - 2000).map { Double(rec[$0 * 2 + ch]) }
            var crossings = 0
            for i in 1..<x.count where x[i - 1] < 0 && x[i] >= 0 { crossings += 1 }
            let hz = Double(crossings) * 48_000 / Double(x.count)
            #expect(abs(hz - 1000) < 2, "channel \(ch): \(hz) Hz")
            #expect(abs((x.map(abs).max() ?? 0) - 16384) < 200)
        }
    }

    @Test("streams with deep buffers let the quantum grow to max_quantum; a low-latency stream brings it down; with none it is the configured one")
    func quantumFollowsStreams() throws {
        let d = try DaemonHarness(config: nil)
        defer { d.stop() }
        let sig = d.root.appendingPathComponent("t.raw").path
        try writeRaw(stereoSine(frames: 48_000 * 3, freq: 440, amplitude: 8000), to: sig)
        func quantum() throws -> Int { Int(try d.dump()["graph"]?["quantum"]?.intValue ?? 0) }
        #expect(try quantum() == 1024)
        let deep = try Background("/usr/bin/pacat", ["--format=s16le", "--rate=48000", "--channels=2", "--raw", sig], environment: d.environment)
        try d.waitUntil(timeout: 5) { try quantum() == 8192 }
        let quick = try Background("/usr/bin/pacat", ["--latency-msec=10", "--format=s16le", "--rate=48000", "--channels=2", "--raw", sig],
                                   environment: d.environment)
        try d.waitUntil(timeout: 5) { try quantum() <= 256 }
        for p in [deep, quick] {
            let deadline = Date().addingTimeInterval(15)
            while p.process.isRunning && Date() < deadline { usleep(20_000) }
            #expect(!p.process.isRunning && p.process.terminationStatus == 0)
        }
        try d.waitUntil(timeout: 5) { try quantum() == 1024 }
    }

    @Test("a deep pacat into the null sink nobody monitors lets the timer defer cycles, without an underrun; a paplay started meanwhile still takes 1 s ± 20 %; parec's 2 s fragments keep deferral and hear the stream; a low-latency recorder stops it")
    func deferredCycles() throws {
        let d = try DaemonHarness(config: nil)
        defer { d.stop() }
        let sig = d.root.appendingPathComponent("t.raw").path
        try writeRaw(stereoSine(frames: 48_000 * 15, freq: 440, amplitude: 8000), to: sig)
        let wav = d.root.appendingPathComponent("tone.wav").path
        #expect(try runCommand("/usr/bin/sox", ["-n", "-r", "48000", "-c", "2", "-b", "16", wav, "synth", "1", "sine", "880"], environment: d.environment).status == 0)
        func timing() throws -> (deferring: Bool, cycles: Int64, wakeUps: Int64) {
            let t = try d.dump()["timing"]
            return (t?["deferring"]?.boolValue ?? false, t?["cycles"]?.intValue ?? 0, t?["wake_ups"]?.intValue ?? 0)
        }
        func underruns() throws -> Int {
            let node = try d.dump()["nodes"]?.arrayValue?.first { $0["type"]?.stringValue == "pulse-playback" }
            return Int(node?["props"]?["underrun_frames"]?.stringValue ?? "-1") ?? -1
        }
        let deep = try Background("/usr/bin/pacat", ["--format=s16le", "--rate=48000", "--channels=2", "--raw", sig], environment: d.environment)
        try d.waitUntil(timeout: 5) { try timing().deferring }
        let t1 = try timing()
        usleep(2_000_000)
        let t2 = try timing()
        #expect(t2.deferring)
        #expect((t2.wakeUps - t1.wakeUps) * 3 <= t2.cycles - t1.cycles, "\(t2.wakeUps - t1.wakeUps) wake-ups for \(t2.cycles - t1.cycles) cycles")
        #expect(try underruns() == 0)
        #expect(try d.dump()["realtime"]?["hosted_by_control_thread"]?.boolValue == true, "the control thread runs the deferred cycles")

        let start = Date()
        let r = try client(d, "paplay", [wav])
        let elapsed = Date().timeIntervalSince(start)
        #expect(r.status == 0, "\(r.stderr)")
        #expect(elapsed > 0.8 && elapsed < 1.2, "paplay took \(elapsed) s next to a deferring stream")
        try d.waitUntil(timeout: 5) { try timing().deferring }

        func peak(_ samples: [Int16]) -> Int { samples.map { abs(Int($0)) }.max() ?? 0 }
        // parec's defaults: 2 s fragments, so the data may come a batch late; deferral stays.
        let deepPath = d.root.appendingPathComponent("monitor-deep.raw").path
        let deepRec = try Background("/usr/bin/parec", ["--device=@DEFAULT_MONITOR@", "--format=s16le", "--rate=48000", "--channels=2", "--raw"],
                                     environment: d.environment, stdout: deepPath)
        try d.waitUntil(timeout: 5) { readRaw(deepPath).count >= 48_000 * 2 }
        #expect(try timing().deferring, "a recorder taking 2 s fragments keeps deferral")
        deepRec.interrupt()
        let deepHeard = readRaw(deepPath)
        #expect(peak(deepHeard) > 7000, "the monitor carries the stream (peak \(peak(deepHeard)))")
        // A recorder that wants its data within 100 ms turns deferral off.
        let path = d.root.appendingPathComponent("monitor.raw").path
        let rec = try Background("/usr/bin/parec", ["--device=@DEFAULT_MONITOR@", "--format=s16le", "--rate=48000", "--channels=2", "--raw",
                                                   "--latency-msec=100"],
                                 environment: d.environment, stdout: path)
        try d.waitUntil(timeout: 2) { try !timing().deferring }
        usleep(1_000_000)
        #expect(try !timing().deferring, "a low-latency reader of the monitor keeps a wake-up per tick")
        #expect(try d.dump()["realtime"]?["hosted_by_control_thread"]?.boolValue == false, "and the RT thread runs them")
        rec.interrupt()
        let heard = readRaw(path)
        #expect(heard.count > 48_000 && peak(heard) > 7000, "the monitor carries the stream (peak \(peak(heard)))")
        #expect(try underruns() == 0, "the deep stream never ran dry")
        let deadline = Date().addingTimeInterval(20)
        while deep.process.isRunning && Date() < deadline { usleep(20_000) }
        #expect(!deep.process.isRunning && deep.process.terminationStatus == 0)
    }

    @Test("[graph] max_cycles_per_wakeup = 1 keeps a wake-up per tick under the same deep pacat")
    func deferralOff() throws {
        let d = try DaemonHarness(config: "[graph]\nmax_cycles_per_wakeup = 1\n[[node]]\ntype = \"null-sink\"\nname = \"null\"\n")
        defer { d.stop() }
        let sig = d.root.appendingPathComponent("t.raw").path
        try writeRaw(stereoSine(frames: 48_000 * 4, freq: 440, amplitude: 8000), to: sig)
        let deep = try Background("/usr/bin/pacat", ["--format=s16le", "--rate=48000", "--channels=2", "--raw", sig], environment: d.environment)
        defer { deep.interrupt() }
        usleep(1_000_000)
        let t1 = try d.dump()["timing"]
        usleep(1_500_000)
        let t2 = try d.dump()["timing"]
        #expect(t2?["deferring"]?.boolValue == false)
        let cycles = (t2?["cycles"]?.intValue ?? 0) - (t1?["cycles"]?.intValue ?? 0)
        let wakeUps = (t2?["wake_ups"]?.intValue ?? 0) - (t1?["wake_ups"]?.intValue ?? 0)
        #expect(cycles >= 5 && wakeUps >= cycles - 1, "\(wakeUps) wake-ups for \(cycles) cycles")
    }

    @Test("pacat --latency-msec=10 is granted at most 10 ms, the graph follows with a smaller quantum, and it plays without underruns")
    func lowLatency() throws {
        let d = try DaemonHarness(config: nil)
        defer { d.stop() }
        let sig = d.root.appendingPathComponent("t.raw").path
        try writeRaw(stereoSine(frames: 48_000 * 2, freq: 1000, amplitude: 8000), to: sig)
        var quantumDuring = 0
        let rec = try recording(d) {
            let player = try Background("/usr/bin/pacat", ["-v", "--latency-msec=10", "--format=s16le", "--rate=48000", "--channels=2", "--raw", sig],
                                        environment: d.environment, stdout: d.root.appendingPathComponent("pacat.out").path)
            usleep(800_000)
            quantumDuring = Int(try d.dump()["graph"]?["quantum"]?.intValue ?? 0)
            let deadline = Date().addingTimeInterval(10)
            while player.process.isRunning && Date() < deadline { usleep(20_000) }
            #expect(player.process.terminationStatus == 0)
        }
        #expect(quantumDuring > 0 && quantumDuring <= 256, "quantum while the stream played: \(quantumDuring)")
        let node = try d.dump()["nodes"]?.arrayValue?.first { $0["type"]?.stringValue == "pulse-playback" }
        #expect(node == nil, "the stream is gone after pacat exits")
        #expect(try d.dump()["graph"]?["quantum"]?.intValue == 1024, "back to the configured quantum")
        let first = try #require(rec.firstIndex(where: { $0 != 0 })) / 2
        let last = try #require(rec.lastIndex(where: { $0 != 0 })) / 2
        var zeroRun = 0, worstRun = 0
        for f in first...last {
            zeroRun = rec[f * 2] == 0 ? zeroRun + 1 : 0
            worstRun = max(worstRun, zeroRun)
        }
        #expect(last - first > 48_000 * 2 - 2000)
        #expect(worstRun <= 2, "longest run of zeros (an underrun): \(worstRun)")
    }

    @Test("GStreamer, ffmpeg, sox, ALSA apps through the pulse plugin, mpv and python pulsectl work unchanged",
          arguments: [
            ("gst-launch-1.0", ["-q", "audiotestsrc", "num-buffers=50", "!", "pulsesink"]),
            ("gst-launch-1.0", ["-q", "pulsesrc", "num-buffers=50", "!", "fakesink"]),
            ("ffmpeg", ["-loglevel", "error", "-f", "lavfi", "-i", "sine=d=1", "-f", "pulse", "default"]),
            ("sox", ["-q", "-n", "-t", "pulseaudio", "default", "synth", "1", "sine", "440"]),
            ("aplay", ["-q", "-D", "pulse", "-f", "S16_LE", "-r", "48000", "-c", "2", "-d", "1", "/dev/zero"]),
            ("mpv", ["--really-quiet", "--ao=pulse", "--no-video", "--length=1", "av://lavfi:sine=d=1"]),
            ("python3", ["-c", "import pulsectl\nwith pulsectl.Pulse('t') as p:\n  s = p.sink_list()[0]\n  p.volume_set_all_chans(s, 0.5)\n  assert abs(p.sink_list()[0].volume.value_flat - 0.5) < 0.01\n  assert p.server_info().default_sink_name == 'null'\n  print('ok')"]),
          ])
    func otherClients(tool: String, args: [String]) throws {
        let path = "/usr/bin/\(tool)"
        #expect(FileManager.default.isExecutableFile(atPath: path), "\(path) is missing: `make test` installs it")
        let d = try DaemonHarness(config: nil)
        defer { d.stop() }
        let r = try runCommand(path, args, environment: d.environment, timeout: 30)
        #expect(r.status == 0, "\(tool) failed: \(r.stderr.prefix(500))")
    }

    @Test("arecord through the ALSA pulse plugin records one second from the default source")
    func arecord() throws {
        let d = try DaemonHarness(config: nil)
        defer { d.stop() }
        let out = d.root.appendingPathComponent("ar.raw").path
        let r = try runCommand("/usr/bin/arecord", ["-q", "-D", "pulse", "-d", "1", "-f", "S16_LE", "-r", "48000", "-c", "2", "-t", "raw", out],
                               environment: d.environment)
        #expect(r.status == 0, "\(r.stderr)")
        let size = (try? FileManager.default.attributesOfItem(atPath: out)[.size] as? Int) ?? 0
        #expect(size == 192_000)
    }

    /// The repository root (for fixtures), found from this file's path.
    static let fixtures = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .appendingPathComponent("Fixtures/pulse").path

    @Test("a client's memfd is sealed on receipt: the client cannot truncate it, and a reference outside it disconnects that client only",
          arguments: ["sealable", "unsealable"])
    func hostileMemfd(mode: String) throws {
        let d = try DaemonHarness(config: nil)
        defer { d.stop() }
        let r = try runCommand("/usr/bin/python3", ["\(Self.fixtures)/hostile_memfd.py", d.root.appendingPathComponent("run/pulse/native").path, mode],
                               environment: d.environment)
        let lines = r.stdout.split(separator: "\n").map(String.init)
        #expect(lines.first == "auth 0xc0000023", "memfd is offered to a same-uid client: \(r.stdout) \(r.stderr)")
        #expect(lines.contains("registered"))
        if mode == "sealable" {
            #expect(lines.contains("truncate refused"), "the daemon sealed the pool against shrinking")
            #expect(lines.contains("in-range reference: released"))
            #expect(lines.contains("held releases returned: 16"), "blocks held for the next frame come back after 16 at the latest")
            #expect(lines.contains("out-of-range reference: disconnected"))
        } else {
            // Not sealable: never mapped, read with pread; the truncated pool yields a short read.
            #expect(lines.contains("truncate allowed"))
            #expect(lines.contains("in-range reference: disconnected"))
        }
        #expect(d.process.isRunning)
        #expect(try client(d, "pactl", ["info"]).status == 0)
    }

    @Test("memfd clients get an srbchannel of their own: packets travel through it, it cannot be truncated, and a bad count in it disconnects that client only")
    func srbchannel() throws {
        let d = try DaemonHarness(config: nil)
        defer { d.stop() }
        let socketPath = d.root.appendingPathComponent("run/pulse/native").path
        let honest = try runCommand("/usr/bin/python3", ["\(Self.fixtures)/srb_client.py", socketPath, "honest"], environment: d.environment)
        let lines = honest.stdout.split(separator: "\n").map(String.init)
        #expect(lines.contains("offered tag 2 eventfds"), "\(honest.stdout) \(honest.stderr)")
        #expect(lines.contains("ring truncate refused"))
        #expect(lines.contains("stat through the ring: answered"))
        let bad = try runCommand("/usr/bin/python3", ["\(Self.fixtures)/srb_client.py", socketPath, "badcount"], environment: d.environment)
        #expect(bad.stdout.contains("bad count: disconnected"), "\(bad.stdout) \(bad.stderr)")
        #expect(d.process.isRunning)
        #expect(try client(d, "pactl", ["info"]).status == 0)
        // Real libpulse takes the ring too: while pacat plays, its srbchannel pool is in use.
        let sig = d.root.appendingPathComponent("s.raw").path
        try writeRaw(stereoSine(frames: 96_000, freq: 440, amplitude: 1000), to: sig)
        let player = try Background("/usr/bin/pacat", ["--format=s16le", "--rate=48000", "--channels=2", "--raw", sig], environment: d.environment)
        defer { player.interrupt() }
        var ring: JSONValue?
        try d.waitUntil { ring = try d.dump()["pools"]?.arrayValue?.first { $0["purpose"]?.stringValue == "srbchannel" }; return ring != nil }
        let seals = Set((ring?["seals"]?.arrayValue ?? []).compactMap { $0.stringValue })
        #expect(seals.isSuperset(of: ["shrink", "grow", "seal"]), "\(String(describing: ring))")
    }

    @Test("sluice dump shows each client's pools and seals, and two recording clients share no memfd")
    func perClientPools() throws {
        let d = try DaemonHarness(config: nil)
        defer { d.stop() }
        let a = try Background("/usr/bin/parec", ["--raw", "--latency-msec=20"], environment: d.environment)
        let b = try Background("/usr/bin/parec", ["--raw", "--latency-msec=20"], environment: d.environment)
        defer { a.interrupt(); b.interrupt() }
        let sig = d.root.appendingPathComponent("s.raw").path
        try writeRaw(stereoSine(frames: 4800, freq: 440, amplitude: 1000), to: sig)
        #expect(try client(d, "pacat", ["--format=s16le", "--rate=48000", "--channels=2", "--raw", sig]).status == 0)
        var pools: [JSONValue] = []
        try d.waitUntil { pools = try d.dump()["pools"]?.arrayValue ?? []; return pools.filter { $0["purpose"]?.stringValue == "record" }.count == 2 }
        let clientPools = pools.filter { $0["domain"]?.stringValue?.hasPrefix("client-") == true }
        for p in clientPools {
            let seals = Set((p["seals"]?.arrayValue ?? []).compactMap { $0.stringValue })
            #expect(seals.isSuperset(of: ["shrink", "grow"]), "\(p)")
        }
        // Inodes of every memfd each recorder maps: disjoint.
        func memfdInodes(_ pid: Int32) throws -> Set<String> {
            let maps = try String(contentsOfFile: "/proc/\(pid)/maps", encoding: .utf8)
            return Set(maps.split(separator: "\n").filter { $0.contains("/memfd:") }.map { String($0.split(separator: " ", omittingEmptySubsequences: true)[4]) })
        }
        let ia = try memfdInodes(a.process.processIdentifier), ib = try memfdInodes(b.process.processIdentifier)
        #expect(!ia.isEmpty && !ib.isEmpty)
        #expect(ia.isDisjoint(with: ib), "shared memfd inodes: \(ia.intersection(ib))")
        let daemonMaps = try String(contentsOfFile: "/proc/\(d.pid)/maps", encoding: .utf8)
        #expect(daemonMaps.contains("/memfd:sluice-client-"), "the daemon's per-client record pools")
        #expect(!daemonMaps.contains("/memfd:pulseaudio (deleted)") || clientPools.contains { $0["purpose"]?.stringValue == "imported" })
    }

    @Test("a thousand clients connect and authenticate at once, and pactl still answers")
    func thousandClients() throws {
        let d = try DaemonHarness(config: nil)
        defer { d.stop() }
        let p = Process()
        p.executableURL = URL(fileURLWithPath: "/usr/bin/python3")
        p.arguments = ["\(Self.fixtures)/many_clients.py", d.root.appendingPathComponent("run/pulse/native").path, "1000"]
        p.environment = d.environment
        let out = Pipe(), input = Pipe()
        p.standardOutput = out
        p.standardInput = input
        try p.run()
        var bytes: [UInt8] = []   // one line; a pipe may deliver it in pieces
        while !bytes.contains(UInt8(ascii: "\n")) {
            let chunk = out.fileHandleForReading.availableData
            if chunk.isEmpty { break }
            bytes += chunk
        }
        let line = String(decoding: bytes, as: UTF8.self)
        #expect(line.hasPrefix("authenticated 1000\n"), "\(line)")
        let info = try client(d, "pactl", ["list", "short", "clients"])
        #expect(info.status == 0)
        #expect(info.stdout.split(separator: "\n").count >= 1000)
        try input.fileHandleForWriting.close()
        p.waitUntilExit()
    }

    @Test("pactl subscribe reports a new client and a new sink input")
    func subscribe() throws {
        let d = try DaemonHarness(config: nil)
        defer { d.stop() }
        let log = d.root.appendingPathComponent("events.txt").path
        let sub = try Background("/usr/bin/pactl", ["subscribe"], environment: d.environment, stdout: log)
        usleep(300_000)
        let sig = d.root.appendingPathComponent("s.raw").path
        try writeRaw(stereoSine(frames: 4800, freq: 440, amplitude: 1000), to: sig)
        #expect(try client(d, "pacat", ["--format=s16le", "--rate=48000", "--channels=2", "--raw", sig]).status == 0)
        usleep(300_000)
        sub.interrupt()
        let events = (try? String(contentsOfFile: log, encoding: .utf8)) ?? ""
        #expect(events.contains("Event 'new' on client"))
        #expect(events.contains("Event 'new' on sink-input"))
        #expect(events.contains("Event 'remove' on sink-input"))
    }

    @Test("32 concurrent pacat streams all complete while pactl info keeps answering")
    func manyStreams() throws {
        let d = try DaemonHarness(config: nil)
        defer { d.stop() }
        let sig = d.root.appendingPathComponent("sig.raw").path
        try writeRaw(stereoSine(frames: 48_000, freq: 440, amplitude: 1000), to: sig)
        var players: [Process] = []
        for _ in 0..<32 {
            let p = Process()
            p.executableURL = URL(fileURLWithPath: "/usr/bin/pacat")
            p.arguments = ["--format=s16le", "--rate=48000", "--channels=2", "--raw", sig]
            p.environment = d.environment
            p.standardError = FileHandle.nullDevice
            try p.run()
            players.append(p)
        }
        usleep(300_000)
        #expect(try client(d, "pactl", ["info"]).status == 0)
        let deadline = Date().addingTimeInterval(20)
        while players.contains(where: \.isRunning) && Date() < deadline { usleep(20_000) }
        for p in players {
            if p.isRunning { p.terminate() }
            p.waitUntilExit()
        }
        #expect(players.allSatisfy { $0.terminationStatus == 0 })
        try d.waitUntil { (try d.dump()["nodes"]?.arrayValue ?? []).allSatisfy { $0["type"]?.stringValue != "pulse-playback" } }
    }

    @Test("a 10 s tone played by pacat and recorded by parec has no dropout and no discontinuity")
    func tenSecondTone() throws {
        let d = try DaemonHarness(config: nil)
        defer { d.stop() }
        let sig = d.root.appendingPathComponent("tone.raw").path
        let tone = stereoSine(frames: 48_000 * 10, freq: 1000, amplitude: 8000)
        try writeRaw(tone, to: sig)
        let rec = try recording(d) {
            let r = try client(d, "pacat", ["--format=s16le", "--rate=48000", "--channels=2", "--raw", sig])
            #expect(r.status == 0)
        }
        try expectUnbroken(rec, toneFrames: tone.count / 2, amplitude: 8000, minimumFrames: 48_000 * 9)
    }

    /// Runs of equal values in the left channel of `rec` (s16 stereo), leading and trailing
    /// silence left out; nil when the channels differ anywhere.
    private func levelRuns(_ rec: [Int16]) -> [(level: Int16, frames: Int)]? {
        var runs: [(level: Int16, frames: Int)] = []
        for f in 0..<(rec.count / 2) {
            guard rec[2 * f] == rec[2 * f + 1] else { return nil }
            if let last = runs.last, last.level == rec[2 * f] { runs[runs.count - 1].frames += 1 } else { runs.append((rec[2 * f], 1)) }
        }
        if runs.first?.level == 0 { runs.removeFirst() }
        if runs.last?.level == 0 { runs.removeLast() }
        return runs
    }

    /// Runs Fixtures/pulse/seek_client.py in `mode` against `d` while recording the monitor.
    private func seekClientRecording(_ d: DaemonHarness, mode: String) throws -> [Int16] {
        let socketPath = d.root.appendingPathComponent("run/pulse/native").path
        return try recording(d) {
            let r = try runCommand("/usr/bin/python3", ["\(Self.fixtures)/seek_client.py", socketPath, mode], environment: d.environment)
            #expect(r.status == 0 && r.stdout.contains("drained"), "\(r.stdout) \(r.stderr)")
        }
    }

    /// The level runs `seek_client.py` in `mode` made heard (see `levelRuns`).
    private func seekClientRuns(_ d: DaemonHarness, mode: String) throws -> [(level: Int16, frames: Int)] {
        let runs = levelRuns(try seekClientRecording(d, mode: mode))
        try #require(runs != nil, "the channels differ")
        return runs!
    }

    @Test("a larger tlength asked for after creation is granted only as far as the stream's queue holds, so writing all of it never overflows")
    func bufferAttrGrowth() throws {
        let d = try DaemonHarness(config: nil)
        defer { d.stop() }
        let socketPath = d.root.appendingPathComponent("run/pulse/native").path
        let r = try runCommand("/usr/bin/python3", ["\(Self.fixtures)/seek_client.py", socketPath, "attr"], environment: d.environment, timeout: 30)
        #expect(r.status == 0 && r.stdout.contains("drained"), "\(r.stdout) \(r.stderr)")
        let granted = r.stdout.split(separator: "\n").first { $0.hasPrefix("tlength ") }.flatMap { Int($0.dropFirst(8)) } ?? -1
        #expect(granted >= 48_000 * 4 && granted < 8 * 48_000 * 4, "granted \(granted) bytes of the 8 s asked for")
        #expect(r.stdout.contains("overflows 0"), "\(r.stdout)")
    }

    @Test("two streams into one sink are mixed sample for sample: levels 1000 and 2000 sound as 3000 while both play")
    func twoStreamsMix() throws {
        let d = try DaemonHarness(config: nil)
        defer { d.stop() }
        let one = d.root.appendingPathComponent("one.raw").path, two = d.root.appendingPathComponent("two.raw").path
        try writeRaw([Int16](repeating: 1000, count: 48_000 * 2 * 2), to: one)
        try writeRaw([Int16](repeating: 2000, count: 48_000 * 2 * 2), to: two)
        let rec = try recording(d) {
            let a = try Background("/usr/bin/pacat", ["--format=s16le", "--rate=48000", "--channels=2", "--raw", one], environment: d.environment)
            let b = try Background("/usr/bin/pacat", ["--format=s16le", "--rate=48000", "--channels=2", "--raw", two], environment: d.environment)
            for p in [a, b] {
                let deadline = Date().addingTimeInterval(10)
                while p.process.isRunning && Date() < deadline { usleep(20_000) }
                #expect(!p.process.isRunning && p.process.terminationStatus == 0)
            }
        }
        let runs = try #require(levelRuns(rec), "the channels differ")
        let report = runs.map { "\($0.level)×\($0.frames)" }.joined(separator: " ")
        // Every level heard is one stream, the other, or their exact sum; the sum for most of 2 s.
        let allowed: Set<Int16> = [0, 1000, 2000, 3000]
        let strangers = runs.filter { !allowed.contains($0.level) }.count
        let both = runs.filter { $0.level == 3000 }.map(\.frames).reduce(0, +)
        #expect(strangers == 0, "\(report)")
        #expect(both > 72_000, "\(report)")
    }

    @Test("seeks: RELATIVE back and forth, ABSOLUTE, RELATIVE_END and RELATIVE_ON_READ put the data where PulseAudio would")
    func seekModesWhileCorked() throws {
        let d = try DaemonHarness(config: nil)
        defer { d.stop() }
        let runs = try seekClientRuns(d, mode: "corked")
        let expected: [(Int16, Int)] = [(5000, 4800), (1000, 7200), (2000, 12_000), (0, 12_000), (3000, 6000), (4000, 3000), (3000, 3000)]
        #expect(runs.map { "\($0.level)×\($0.frames)" } == expected.map { "\($0.0)×\($0.1)" })
    }

    @Test("a RELATIVE_ON_READ seek rewrites audio ahead of a playing stream, and FLUSH drops the rest of the queue")
    func seekAndFlushWhilePlaying() throws {
        let d = try DaemonHarness(config: nil)
        defer { d.stop() }
        let runs = try seekClientRuns(d, mode: "playing")
        let report = runs.map { "\($0.level)×\($0.frames)" }.joined(separator: " ")
        try #require(runs.count == 4, "\(report)")
        // 1 s of 1000 with 0.1 s of 2000 written 0.2 s ahead of the read index, whole; the flush
        // 0.5 s later cut the 1000 short; then all of the 3000 written after it.
        #expect(runs[0].level == 1000 && runs[1].level == 2000 && runs[2].level == 1000 && runs[3].level == 3000, "\(report)")
        #expect(runs[1].frames == 4800 && runs[3].frames == 9600, "\(report)")
        #expect(runs[0].frames > 9600 && runs[2].frames > 0, "\(report)")
        #expect(runs[0].frames + runs[1].frames + runs[2].frames < 48_000 - 4800, "the flush dropped nothing: \(report)")
    }

    @Test("seeks to the ends of the 64-bit range in every mode, with partial frames, neither crash nor wedge the stream: after a FLUSH it plays what comes next")
    func extremeSeeks() throws {
        let d = try DaemonHarness(config: nil)
        defer { d.stop() }
        let rec = try seekClientRecording(d, mode: "extreme")
        // Before the flush, whatever the odd writes made of frames may have played; after it,
        // exactly the 0.1 s of 6000, and then silence.
        let frames = rec.count / 2
        let last = try #require((0..<frames).last { rec[2 * $0] != 0 || rec[2 * $0 + 1] != 0 }, "nothing was heard")
        let first = last - 4799
        let tail = first >= 0 ? (first...last).filter { rec[2 * $0] != 6000 || rec[2 * $0 + 1] != 6000 }.count : -1
        #expect(tail == 0, "the last 4,800 frames heard are not all 6000")
        #expect(first == 0 || rec[2 * (first - 1)] != 6000, "more than 4,800 frames of 6000")
        #expect(try client(d, "pactl", ["info"]).status == 0)
    }

    /// The tone in `rec` (s16 stereo): found, no run of zeros, no step larger than a 1 kHz sine's.
    private func expectUnbroken(_ rec: [Int16], toneFrames: Int, amplitude: Double, minimumFrames: Int) throws {
        let start = try #require(rec.firstIndex(where: { $0 != 0 })) / 2
        let frames = min(toneFrames, rec.count / 2 - start) - 10
        #expect(frames > minimumFrames, "recorded \(frames) frames of the tone")
        var zeroRun = 0, worstRun = 0, worstStep = 0
        for f in 1..<max(frames, 2) {
            let v = Int(rec[(start + f) * 2])
            zeroRun = v == 0 ? zeroRun + 1 : 0
            worstRun = max(worstRun, zeroRun)
            worstStep = max(worstStep, abs(v - Int(rec[(start + f - 1) * 2])))
        }
        #expect(worstRun <= 2, "longest run of zeros: \(worstRun)")
        #expect(worstStep <= Int(amplitude * 2 * Double.pi * 1000 / 48_000) + 2, "largest step: \(worstStep)")
    }

    @Test("hostile clients (garbage, a 4 GiB frame, no AUTH, truncated memfds, a corrupted srbchannel, kill -9) are cut off while a recorded stream plays on without a dropout")
    func hostileClients() throws {
        let d = try DaemonHarness(config: nil)
        defer { d.stop() }
        let sig = d.root.appendingPathComponent("tone.raw").path
        let tone = stereoSine(frames: 48_000 * 3, freq: 1000, amplitude: 8000)
        try writeRaw(tone, to: sig)
        // The client killed mid-stream plays silence, so only the well-behaved tone is in the mix.
        let silence = d.root.appendingPathComponent("silence.raw").path
        try writeRaw([Int16](repeating: 0, count: 48_000 * 2 * 3), to: silence)
        let socketPath = d.root.appendingPathComponent("run/pulse/native").path
        func connect() -> Int32 {
            let fd = socket(AF_UNIX, Int32(SOCK_STREAM.rawValue), 0)
            var addr = sockaddr_un()
            addr.sun_family = sa_family_t(AF_UNIX)
            withUnsafeMutableBytes(of: &addr.sun_path) { raw in for (i, b) in socketPath.utf8.enumerated() { raw[i] = b } }
            _ = withUnsafePointer(to: &addr) { $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { Glibc.connect(fd, $0, socklen_t(MemoryLayout<sockaddr_un>.size)) } }
            return fd
        }
        var hostile: [Int32] = []
        let rec = try recording(d) {
            let player = try Background("/usr/bin/pacat", ["--format=s16le", "--rate=48000", "--channels=2", "--raw", sig], environment: d.environment)
            usleep(500_000)
            let garbage = connect()
            var junk = [UInt8](repeating: 0, count: 4096)
            for i in junk.indices { junk[i] = UInt8.random(in: 0...255) }
            _ = write(garbage, junk, junk.count)
            let huge = connect()
            let header: [UInt8] = [0xFF, 0xFF, 0xFF, 0xF0, 0xFF, 0xFF, 0xFF, 0xFF] + [UInt8](repeating: 0, count: 12)
            _ = write(huge, header, header.count)
            let silent = connect()
            hostile = [garbage, huge, silent]
            let victim = try Background("/usr/bin/pacat", ["--format=s16le", "--rate=48000", "--channels=2", "--raw", silence], environment: d.environment)
            for mode in ["sealable", "unsealable"] {
                let r = try runCommand("/usr/bin/python3", ["\(Self.fixtures)/hostile_memfd.py", socketPath, mode], environment: d.environment)
                #expect(r.stdout.contains("out-of-range reference: disconnected"), "stdout: \(r.stdout) stderr: \(r.stderr)")
            }
            let srb = try runCommand("/usr/bin/python3", ["\(Self.fixtures)/srb_client.py", socketPath, "badcount"], environment: d.environment)
            #expect(srb.stdout.contains("bad count: disconnected"), "stdout: \(srb.stdout) stderr: \(srb.stderr)")
            usleep(300_000)
            kill(victim.process.processIdentifier, SIGKILL)
            victim.process.waitUntilExit()
            #expect(try client(d, "pactl", ["info"]).status == 0)
            let deadline = Date().addingTimeInterval(10)
            while player.process.isRunning && Date() < deadline { usleep(20_000) }
            #expect(player.process.terminationStatus == 0)
        }
        for fd in hostile { close(fd) }
        #expect(d.process.isRunning)
        // The well-behaved stream: found in the recording, no run of zeros, no discontinuity.
        try expectUnbroken(rec, toneFrames: tone.count / 2, amplitude: 8000, minimumFrames: 48_000 * 2)
        // The killed client's stream is gone from the graph.
        try d.waitUntil { (try d.dump()["nodes"]?.arrayValue ?? []).allSatisfy { $0["type"]?.stringValue != "pulse-playback" } }
        let log = d.stop()
        #expect(log.contains("protocol error") && log.contains("disconnected"))
    }
}
