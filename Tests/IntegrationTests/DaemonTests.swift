import CSluiceShim
import Foundation
import Glibc
import TextFormats
import Testing

@Suite("sluiced and sluice, for real", .serialized)
struct DaemonTests {
    @Test("with no config the daemon runs a timer-driven null sink that `sluice ls` shows")
    func defaultConfig() throws {
        let d = try DaemonHarness(config: nil)
        defer { d.stop() }
        let ls = try d.sluice("ls")
        #expect(ls.stdout.contains("null") && ls.stdout.contains("null-sink"))
        #expect(ls.stdout.contains("in_FL") && ls.stdout.contains("monitor_FR"))
        let state = try d.dump()
        #expect(state["driver"]?["name"]?.stringValue == "timer")
        #expect(state["graph"]?["quantum"]?.intValue == 1024)
        #expect(state["realtime"]?["policy"]?.stringValue == (getuid() == 0 ? "SCHED_FIFO" : "SCHED_OTHER"))
    }

    @Test("realtime priority 0 runs the graph at normal priority, and introspection says so")
    func normalPriority() throws {
        let d = try DaemonHarness(config: "[realtime]\npriority = 0\n")
        defer { d.stop() }
        #expect(try d.dump()["realtime"]?["policy"]?.stringValue == "SCHED_OTHER")
    }

    @Test("a graph built with the CLI renders 1 s of a 1 kHz sine through gain 0.5 into a file, freewheeling")
    func renderSineThroughGain() throws {
        let d = try DaemonHarness(config: "[driver]\ntype = \"freewheel\"\n")
        defer { d.stop() }
        let out = d.root.appendingPathComponent("tone.wav").path
        try d.sluice("add", "sine", "tone", "freq=1000", "amplitude=0.8", "channels=1")
        try d.sluice("add", "gain", "g", "gain=0.5", "channels=1")
        try d.sluice("add", "file-sink", "rec", "path=\(out)", "frames=48000", "channels=1")
        try d.sluice("link", "tone", "g")
        try d.sluice("link", "g", "rec")
        try d.waitUntil { try d.node("rec")?["props"]?["state"]?.stringValue == "closed" }
        let file = try #require(readSoundFile(out))
        #expect(file.channels == 1 && file.rate == 48_000)
        #expect(file.samples.count == 48_000)
        let fit = fitSine(file.samples[...], freq: 1000, rate: 48_000, startIndex: 0)
        #expect(abs(fit.amplitude - 0.4) < 0.0005)
        var residual = 0.0
        for (n, v) in file.samples.enumerated() {
            let m = fit.amplitude * sin(2 * Double.pi * 1000 * Double(n) / 48_000 + fit.phase)
            residual = max(residual, abs(Double(v) - m))
        }
        #expect(residual < 1e-4, "a clean sine: no glitch, no other component")
    }

    @Test("link, unlink and gain changes while running take effect at cycle boundaries; the signal otherwise stays continuous")
    func liveChanges() throws {
        let quantum = 256
        let d = try DaemonHarness(config: """
        [graph]
        quantum = \(quantum)
        channels = 1
        [[node]]
        type = "sine"
        name = "tone1"
        params = { freq = 1000, amplitude = 0.25 }
        [[node]]
        type = "sine"
        name = "tone2"
        params = { freq = 1500, amplitude = 0.25 }
        [[node]]
        type = "gain"
        name = "g"
        [[link]]
        from = "tone1"
        to = "g"
        """)
        defer { d.stop() }
        let out = d.root.appendingPathComponent("live.wav").path
        try d.sluice("add", "file-sink", "rec", "path=\(out)", "frames=144000")
        try d.sluice("link", "g", "rec")
        usleep(700_000)
        try d.sluice("link", "tone2", "g")
        usleep(700_000)
        try d.sluice("unlink", "tone2", "g")
        usleep(500_000)
        try d.sluice("set", "g", "gain", "0.5")
        try d.waitUntil(timeout: 10) { try d.node("rec")?["props"]?["state"]?.stringValue == "closed" }
        let x = try #require(readSoundFile(out)).samples
        #expect(x.count == 144_000)
        let fit = fitSine(x[0..<4800], freq: 1000, rate: 48_000, startIndex: 0)
        #expect(abs(fit.amplitude - 0.25) < 1e-4)
        let model = (0..<x.count).map { Float(fit.amplitude * sin(2 * Double.pi * 1000 * Double($0) / 48_000 + fit.phase)) }
        let residual = zip(x, model).map { $0 - $1 }
        // tone2's window. Detection uses a threshold, so a window edge that falls on a zero
        // crossing of tone2 can read one sample late; the window is then snapped to the cycle
        // grid, and the fitted tone2 must explain the samples right at the snapped edges.
        let first = try #require(residual.firstIndex(where: { abs($0) > 1e-4 }))
        var last = first
        for i in first..<x.count where abs(residual[i]) > 1e-4 {
            if i - last > quantum { break }
            last = i
        }
        let start = first / quantum * quantum
        let end = (last / quantum + 1) * quantum - 1
        #expect(first - start <= 1, "tone2 appears at a cycle boundary (first sample \(first))")
        #expect(end - last <= 1, "tone2 disappears at a cycle boundary (last sample \(last))")
        #expect(residual[0..<start].allSatisfy { abs($0) < 1e-4 }, "before the link: tone1 alone, continuous")
        let window = fitSine(residual[start...end], freq: 1500, rate: 48_000, startIndex: start)
        #expect(abs(window.amplitude - 0.25) < 1e-3, "inside the window: tone2 at its amplitude")
        for i in [start, start + 1, end - 1, end] {
            let tone2 = window.amplitude * sin(2 * Double.pi * 1500 * Double(i) / 48_000 + window.phase)
            #expect(abs(Double(residual[i]) - tone2) < 1e-3, "tone2 is whole at the window's edge \(i)")
        }
        // The gain change: a ramp starting at a cycle boundary, 10 ms long, then exactly half.
        let rampFirst = try #require((end + 1 ..< x.count).first(where: { abs(residual[$0]) > 1e-4 }))
        let rampStart = rampFirst / quantum * quantum
        #expect(residual[(end + 1)..<rampStart].allSatisfy { abs($0) < 1e-4 }, "between the windows: tone1 alone, continuous")
        // The ramp starts exactly at the cycle boundary: gain 1 − 0.5·(k+1)/480 at sample k of it.
        for n in rampStart..<(rampStart + 480) where abs(model[n]) > 0.1 {
            let expected = 1 - 0.5 * Double(n - rampStart + 1) / 480
            #expect(abs(Double(x[n] / model[n]) - expected) < 1e-4, "gain at sample \(n - rampStart) of the ramp")
        }
        let settled = rampStart + 480
        #expect((settled..<x.count).allSatisfy { abs(x[$0] - 0.5 * model[$0]) < 1e-4 })
        // During the ramp, no step larger than the sine's own largest step plus the ramp's.
        let maxStep = Float(2 * Double.pi * 1000 / 48_000 * 0.25) + 0.25 / 480 + 1e-4
        #expect((rampStart..<settled).allSatisfy { abs(x[$0] - x[$0 - 1]) <= maxStep })
    }

    @Test("every pool of the running daemon is a sealed memfd: F_GET_SEALS through /proc shows the seals and ftruncate fails")
    func poolsAreSealed() throws {
        let d = try DaemonHarness(config: nil)
        defer { d.stop() }
        let maps = try String(contentsOfFile: "/proc/\(d.pid)/maps", encoding: .utf8)
        let memfdRanges = maps.split(separator: "\n").filter { $0.contains("/memfd:sluice-") }.map { String($0.split(separator: " ")[0]) }
        #expect(!memfdRanges.isEmpty)
        let dumped = try d.dump()["pools"]?.arrayValue ?? []
        #expect(!dumped.isEmpty)
        for p in dumped {
            #expect(memfdRanges.contains(p["mapping"]?.stringValue ?? "?"), "dump lists a mapping the process really has")
            let seals = Set((p["seals"]?.arrayValue ?? []).compactMap { $0.stringValue })
            #expect(seals.isSuperset(of: ["seal", "shrink", "grow"]))
            #expect(p["domain"]?.stringValue == "daemon")
        }
        for range in memfdRanges {
            let fd = open("/proc/\(d.pid)/map_files/\(range)", O_RDWR)
            #expect(fd >= 0)
            guard fd >= 0 else { continue }
            defer { close(fd) }
            let seals = sluice_get_seals(fd)
            #expect(seals & SLUICE_F_SEAL_SHRINK != 0 && seals & SLUICE_F_SEAL_GROW != 0 && seals & SLUICE_F_SEAL_SEAL != 0)
            #expect(ftruncate(fd, 0) == -1 && errno == EPERM)
            #expect(ftruncate(fd, 1 << 30) == -1 && errno == EPERM)
        }
        // The fds themselves were closed after mmap.
        let fds = try FileManager.default.contentsOfDirectory(atPath: "/proc/\(d.pid)/fd")
        let memfdFDs = fds.filter { (try? FileManager.default.destinationOfSymbolicLink(atPath: "/proc/\(d.pid)/fd/\($0)"))?.contains("memfd:sluice") == true }
        #expect(memfdFDs.isEmpty)
    }

    @Test("a bad config makes sluiced exit 1 with file:line naming the key, before starting anything")
    func badConfig() throws {
        let dir = URL(fileURLWithPath: NSTemporaryDirectory()).appendingPathComponent("sluice-bad-\(getpid())")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: dir) }
        let path = dir.appendingPathComponent("bad.toml").path
        try "# comment\n[graph]\nquantum = 5\nrate = \"fast\"\n".write(toFile: path, atomically: true, encoding: .utf8)
        var env = ProcessInfo.processInfo.environment
        env["XDG_RUNTIME_DIR"] = dir.path
        let run = try runCommand(productsDirectory.appendingPathComponent("sluiced").path, ["--config", path], environment: env)
        #expect(run.status == 1)
        #expect(run.stderr.contains("\(path):3:"))
        #expect(run.stderr.contains("quantum") && run.stderr.contains("32 to 8192"))
        #expect(!FileManager.default.fileExists(atPath: dir.appendingPathComponent("sluice/control").path))
        let check = try runCommand(productsDirectory.appendingPathComponent("sluiced").path, ["--check", path], environment: env)
        #expect(check.status == 1)
        let lines = check.stderr.split(separator: "\n")
        #expect(lines.count == 2, "every error, one per line: \(check.stderr)")
        #expect(lines.first?.contains("\(path):3:11:") == true)
        #expect(lines.last?.contains("\(path):4:8:") == true)
        try "[graph]\nquantum = 512\n".write(toFile: path, atomically: true, encoding: .utf8)
        let ok = try runCommand(productsDirectory.appendingPathComponent("sluiced").path, ["--check", path], environment: env)
        #expect(ok.status == 0 && ok.stdout.contains("ok"))
    }

    @Test("linking an unknown node gives one clear line and exit status 1")
    func linkUnknownNode() throws {
        let d = try DaemonHarness(config: nil)
        defer { d.stop() }
        let r = try d.sluice("link", "null", "nope", check: false)
        #expect(r.status == 1)
        #expect(r.stderr == "sluice: no node named 'nope'; `sluice ls` lists the nodes\n")
        let t = try d.sluice("add", "reverb", "x", check: false)
        #expect(t.status == 1 && t.stderr.contains("unknown node type 'reverb'"))
    }

    @Test("with no daemon running, sluice says so and how to start one")
    func noDaemon() throws {
        let dir = URL(fileURLWithPath: NSTemporaryDirectory()).appendingPathComponent("sluice-none-\(getpid())")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: dir) }
        var env = ProcessInfo.processInfo.environment
        env["XDG_RUNTIME_DIR"] = dir.path
        let r = try runCommand(productsDirectory.appendingPathComponent("sluice").path, ["ls"], environment: env)
        #expect(r.status == 1)
        #expect(r.stderr.contains("no sluiced is running") && r.stderr.contains("make run"))
        #expect(r.stderr.split(separator: "\n").count == 1)
    }

    @Test("SIGTERM shuts the daemon down cleanly and removes its socket")
    func cleanShutdown() throws {
        let d = try DaemonHarness(config: nil)
        let log = d.stop()
        #expect(d.process.terminationStatus == 0)
        #expect(log.contains("stopped cleanly"))
        #expect(!FileManager.default.fileExists(atPath: d.socketPath))
    }

    @Test("an idle daemon sleeps: no cycles and almost no context switches until something plays")
    func idleSleeps() throws {
        let d = try DaemonHarness(config: nil)
        defer { d.stop() }
        func switches() throws -> Int {
            var total = 0
            for task in try FileManager.default.contentsOfDirectory(atPath: "/proc/\(d.pid)/task") {
                let status = try String(contentsOfFile: "/proc/\(d.pid)/task/\(task)/status", encoding: .utf8)
                for line in status.split(separator: "\n") where line.contains("ctxt_switches") {
                    total += Int(line.split(separator: ":")[1].trimmingCharacters(in: .whitespaces)) ?? 0
                }
            }
            return total
        }
        let cycles0 = try d.dump()["timing"]?["cycles"]?.intValue ?? -1
        usleep(200_000)
        let s0 = try switches()
        sleep(2)
        let s1 = try switches()
        #expect(s1 - s0 <= 2, "wake-ups in 2 s of idle: \(s1 - s0)")
        #expect(try d.dump()["timing"]?["cycles"]?.intValue == cycles0)
        try d.sluice("add", "sine", "t")
        try d.sluice("link", "t", "null")
        try d.waitUntil { (try d.dump()["timing"]?["cycles"]?.intValue ?? 0) > cycles0 + 5 }
        try d.sluice("unlink", "t", "null")
        try d.waitUntil { (try d.dump()["timing"]?["idle_sleeps"]?.intValue ?? 0) >= 1 }
        let c1 = try d.dump()["timing"]?["cycles"]?.intValue ?? 0
        usleep(300_000)
        #expect(try d.dump()["timing"]?["cycles"]?.intValue == c1)
    }

    @Test("sluice top --once prints the timing header and one row per node")
    func topOnce() throws {
        let d = try DaemonHarness(config: nil)
        defer { d.stop() }
        try d.sluice("add", "sine", "t")
        try d.sluice("link", "t", "null")
        usleep(200_000)
        let r = try d.sluice("top", "--once")
        #expect(r.stdout.contains("xruns"))
        let rows = r.stdout.split(separator: "\n").filter { $0.hasPrefix("null ") || $0.hasPrefix("t ") }
        #expect(rows.count == 2)
    }
}
