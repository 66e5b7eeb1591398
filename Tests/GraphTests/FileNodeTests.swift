import Atomics
import Glibc
import Graph
import Nodes
import Testing

@Suite("file nodes (libsndfile)", .serialized)
struct FileNodeTests {
    @Test("what the file sink writes, the file source plays back sample for sample")
    func roundTrip() throws {
        let path = "/tmp/sluice-filenode-\(getpid()).wav"
        defer { unlink(path) }
        let format = GraphFormat(sampleRate: 48_000, quantum: 128, channelNames: ["MONO"])
        // Render 4800 frames of a sine into a float WAV.
        do {
            let e = try Engine(format: format, driver: FreewheelDriver())
            let sine = SineNode(name: "s", channels: ["MONO"])
            try sine.setParameter("freq", to: "440")
            try e.add(sine)
            let sink = FileSinkNode(name: "f", channels: ["MONO"], path: path, sampleFormat: .float, frameLimit: 4800)
            try e.add(sink)
            try e.link(node: "s", to: "f")
            var ran = 0
            while ran < 100 { let n = e.runCycles(10); ran += 10; if n == 0 { break } }
            var waited = 0
            while sink.properties.first(where: { $0.0 == "state" })?.1 != "closed" && waited < 2000 { usleep(1000); waited += 1 }
            #expect(sink.properties.first(where: { $0.0 == "state" })?.1 == "closed")
            #expect(sink.properties.first(where: { $0.0 == "frames_recorded" })?.1 == "4800")
        }
        // Play it back through a file source into a probe.
        let e = try Engine(format: format, driver: FreewheelDriver())
        let source = FileSourceNode(name: "src", channels: ["MONO"], path: path)
        try e.add(source)
        let probe = ProbeNode(name: "p", capacity: 5120)
        try e.add(probe)
        try e.link(node: "src", to: "p")
        _ = e.runCycles(40)   // 5120 frames: the file, then silence
        let played = probe.recorded
        #expect(played.count == 5120)
        for i in 0..<4800 {
            let expected = Float(0.5 * sin(2 * Double.pi * 440 * Double(i) / 48_000))
            if abs(played[i] - expected) > 1e-5 { Issue.record("sample \(i): \(played[i]) vs \(expected)"); break }
        }
        #expect(played[4800...].allSatisfy { $0 == 0 })
        #expect(source.properties.first(where: { $0.0 == "state" })?.1 == "ended")
    }

    @Test("a file source refuses a file at another rate, naming both rates and a fix")
    func rateMismatch() throws {
        let path = "/tmp/sluice-filenode-rate-\(getpid()).wav"
        defer { unlink(path) }
        do {
            let e = try Engine(format: GraphFormat(sampleRate: 44_100, quantum: 128, channelNames: ["MONO"]), driver: FreewheelDriver())
            try e.add(FileSinkNode(name: "f", channels: ["MONO"], path: path, sampleFormat: .s16, frameLimit: 128))
        }
        let e = try Engine(format: GraphFormat(sampleRate: 48_000, quantum: 128, channelNames: ["MONO"]), driver: FreewheelDriver())
        do {
            try e.add(FileSourceNode(name: "src", channels: ["MONO"], path: path))
            Issue.record("expected an error")
        } catch {
            #expect(error.description.contains("44100 Hz") && error.description.contains("48000 Hz") && error.description.contains("sox"))
        }
    }

    @Test("a file sink that cannot create its file says which file and why")
    func unwritable() throws {
        let e = try Engine(format: GraphFormat(), driver: FreewheelDriver())
        do {
            try e.add(FileSinkNode(name: "f", channels: ["FL"], path: "/nonexistent-dir/x.wav", sampleFormat: .float, frameLimit: 0))
            Issue.record("expected an error")
        } catch {
            #expect(error.description.contains("/nonexistent-dir/x.wav") && error.description.contains("'f'"))
        }
    }
}
