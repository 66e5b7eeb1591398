// What several test targets share: the RT-thread allocation harness, the clocked fake card's
// build, a seeded generator. A plain target (not a test target) so each can import it.
import Atomics
import CAllocCounter
import Foundation
import Graph
import SluiceSystem

/// Runs `warmUp` cycles of `core` on a realtime thread (SCHED_FIFO `priority`; 0: normal), then
/// `cycles` more while counting that thread's allocations (the per-thread malloc interposer);
/// `meanwhile` runs again and again on the calling thread until the RT thread is done — the
/// control side's work during the run. Returns the allocations counted and the cycles run.
public func realtimeAllocations(core: RealtimeCore, warmUp: Int, cycles: Int, priority: Int32 = 0,
                                meanwhile: () throws -> Void = {}) throws -> (allocations: UInt64, cycles: Int) {
    let allocations = ManagedAtomic<UInt64>(.max)
    let ran = ManagedAtomic<Int>(0)
    let done = ManagedAtomic<Bool>(false)
    let rt = RealtimeThread()
    try rt.start(name: "test-rt", priority: priority) {
        _ = core.run(cycleLimit: warmUp)
        let before = sluice_thread_alloc_count()
        let n = core.run(cycleLimit: cycles)
        allocations.store(sluice_thread_alloc_count() - before, ordering: .relaxed)
        ran.store(n, ordering: .relaxed)
        done.store(true, ordering: .releasing)
    }
    defer { rt.join() }
    while !done.load(ordering: .acquiring) { try meanwhile() }
    return (allocations.load(ordering: .relaxed), ran.load(ordering: .relaxed))
}

/// The clocked fake card (Tests/AlsaTests/Fixtures/fakecard/sluicefake.c), an ALSA PCM and
/// control plugin: `make test` builds it and names it in SLUICE_FAKECARD_LIB; a bare
/// `swift test` compiles it here, once per run.
public let fakeCardLibrary: String = {
    if let path = ProcessInfo.processInfo.environment["SLUICE_FAKECARD_LIB"], FileManager.default.fileExists(atPath: path) {
        return path
    }
    let source = URL(fileURLWithPath: #filePath).deletingLastPathComponent()
        .appendingPathComponent("../AlsaTests/Fixtures/fakecard/sluicefake.c").standardized.path
    let dir = FileManager.default.temporaryDirectory.appendingPathComponent("sluice-fakecard-\(getpid())")
    try? FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
    let out = dir.appendingPathComponent("libasound_module_pcm_sluicefake.so").path
    let p = Process()
    p.executableURL = URL(fileURLWithPath: "/usr/bin/cc")
    p.arguments = ["-shared", "-fPIC", "-DPIC", "-O2", "-Wall", "-o", out, source, "-lasound"]
    try? p.run()
    p.waitUntilExit()
    precondition(p.terminationStatus == 0, "could not build the fake card from \(source)")
    return out
}()

/// A small deterministic generator (SplitMix64), so seeded fuzz and mutation tests reproduce.
public struct SplitMix64 {
    public var state: UInt64
    public init(seed: UInt64) { state = seed }
    public mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }
}
