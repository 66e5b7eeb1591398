import Atomics
import Graph
import SluiceSystem

/// A pulse record stream (source output) as a graph node: the RT thread queues what reaches
/// its inputs in a ring; the control thread converts it to the client's format and sends it.
public final class RecordStreamNode: AudioNode, @unchecked Sendable {
    // @unchecked: shared state is atomic or the SPSC ring (RT writes, control reads); `scratch`
    // and `lastSignalFrames` are RT-only.
    public let ring: SampleRing
    public let channelCount: Int
    public let volume: StreamVolume
    public let corked = ManagedAtomic<Bool>(false)
    /// Frames the RT thread has queued since the stream was created.
    public let framesCaptured = ManagedAtomic<Int>(0)
    /// Frames dropped because the client did not keep up (the ring was full).
    public let overflowFrames = ManagedAtomic<Int>(0)
    public let signalEveryFrames = ManagedAtomic<Int>(1024)
    let progress: EventFD
    var scratch: UnsafeMutablePointer<Float>?
    var lastSignalFrames = 0

    /// The client takes its data in large fragments (parec's default 2 s): receiving it up to a
    /// batch of deferred cycles late changes nothing it can see. Fixed at creation.
    let deferrable: Bool

    public init(name: String, channels: [String], ringFrames: Int, progress: EventFD, deferrable: Bool = false) {
        self.deferrable = deferrable
        channelCount = channels.count
        ring = SampleRing(capacity: ringFrames * channels.count)
        volume = StreamVolume(channels: channels.count)
        self.progress = progress
        super.init(name: name, typeName: "pulse-record", inputPortNames: channels.map { "in_\($0)" }, outputPortNames: [])
    }

    public override func prepare(format: GraphFormat, waker: EventFD) throws(GraphError) {
        scratch = .allocate(capacity: format.quantum * channelCount)
    }

    deinit { scratch?.deallocate() }

    /// [rt] See RecordStreamNode+RT.swift.
    public override func process(_ context: ProcessContext) -> ProcessStatus { capture(context) }
    /// [rt] A recording stream keeps the driver running.
    public override func wantsCycles(linkedInputCount: Int) -> Bool { !corked.load(ordering: .relaxed) }
    public override var toleratesDeferredCycles: Bool { deferrable }

    public override var properties: [(String, String)] {
        [("protocol", "pulse"), ("captured_frames", String(framesCaptured.load(ordering: .relaxed))),
         ("overflow_frames", String(overflowFrames.load(ordering: .relaxed))),
         ("corked", corked.load(ordering: .relaxed) ? "true" : "false")]
    }
}
