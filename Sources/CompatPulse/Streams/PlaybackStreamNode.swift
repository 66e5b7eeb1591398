import Atomics
import Graph
import SluiceSystem

/// A pulse playback stream (sink input) as a graph node: the control thread converts what the
/// client sends to float at the graph rate and queues it in a ring; the RT thread plays from it.
/// A client that sends s16 in the graph's layout and rate (the common case) has its bytes queued
/// as they are, in `rawRing`, and the RT thread converts as it plays: half the bytes to write and
/// to read back.
public final class PlaybackStreamNode: AudioNode, @unchecked Sendable {
    // @unchecked: shared state is atomic or the SPSC ring (control writes, RT reads); `scratch`,
    // `lastSignalFrames`, `lastSignalTarget` and `wasPlaying` are RT-only.
    public let ring: SampleRing
    /// The client's s16 samples, when the stream queues them unconverted; then `ring` is unused.
    public let rawRing: Ring<Int16>?
    public let channelCount: Int
    public let volume: StreamVolume
    /// The client corked the stream.
    public let corked = ManagedAtomic<Bool>(false)
    /// Prebuffering is over: the RT thread plays.
    public let started = ManagedAtomic<Bool>(false)
    /// Frames the RT thread has taken from the ring since the stream was created.
    public let framesPlayed = ManagedAtomic<Int>(0)
    /// Set by the RT thread when the ring ran dry while playing; cleared by the control side.
    public let underran = ManagedAtomic<Bool>(false)
    /// Frames of silence the RT thread played because the ring was empty.
    public let underrunFrames = ManagedAtomic<Int>(0)
    /// The RT thread signals `progress` once `framesPlayed` reaches this (the control side sets
    /// it to where the client's next request falls due)...
    public let signalAtFrames = ManagedAtomic<Int>(Int.max)
    /// ... and at the latest after consuming this many frames since its last signal.
    public let signalEveryFrames = ManagedAtomic<Int>(1024)
    let progress: EventFD
    var scratch: UnsafeMutablePointer<Float>?
    var lastSignalFrames = 0
    var lastSignalTarget = Int.max
    var wasPlaying = false

    public init(name: String, channels: [String], ringFrames: Int, progress: EventFD, rawS16: Bool = false) {
        channelCount = channels.count
        ring = SampleRing(capacity: rawS16 ? channels.count : ringFrames * channels.count)
        rawRing = rawS16 ? Ring<Int16>(capacity: ringFrames * channels.count) : nil
        volume = StreamVolume(channels: channels.count)
        self.progress = progress
        super.init(name: name, typeName: "pulse-playback", inputPortNames: [], outputPortNames: channels.map { "out_\($0)" })
    }

    public override func prepare(format: GraphFormat, waker: EventFD) throws(GraphError) {
        scratch = .allocate(capacity: format.quantum * channelCount)
    }

    deinit { scratch?.deallocate() }

    /// The ring the control side writes: `rawRing` or `ring`. [control]
    public var writerRing: any RewindableRing { rawRing ?? ring }
    /// Samples queued and not yet played. [any]
    public var queuedSamples: Int { rawRing?.readableCount ?? ring.readableCount }

    /// [rt] See PlaybackStreamNode+RT.swift.
    public override func process(_ context: ProcessContext) -> ProcessStatus { play(context) }
    /// It adds straight into the sink's mix when it is one of several streams there.
    public override var canAccumulateOutputs: Bool { true }
    /// What it does per cycle depends on the ring and the flags, not on when the cycle runs: the
    /// control side brings deferred cycles up to date before it changes those (see
    /// `Engine.catchUp`).
    public override var toleratesDeferredCycles: Bool { true }

    /// [rt] A playing stream keeps the driver running.
    public override func wantsCycles(linkedInputCount: Int) -> Bool {
        started.load(ordering: .relaxed) && !corked.load(ordering: .relaxed)
    }

    public override var properties: [(String, String)] {
        [("protocol", "pulse"), ("played_frames", String(framesPlayed.load(ordering: .relaxed))),
         ("queued_frames", String(queuedSamples / max(channelCount, 1))),
         ("underrun_frames", String(underrunFrames.load(ordering: .relaxed))),
         ("corked", corked.load(ordering: .relaxed) ? "true" : "false")]
    }
}
