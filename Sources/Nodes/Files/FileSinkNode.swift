import Atomics
import CSndfile
import Glibc
import Graph
import SluiceSystem

/// Records what is linked to it into a WAV file (libsndfile). The RT thread only copies into
/// a ring; a helper thread writes the file. Recording starts when something is linked and stops
/// after `frames` frames (0: until removed); the file is complete when `state` is `closed`.
public final class FileSinkNode: AudioNode, @unchecked Sendable {
    // @unchecked: atomics below are shared; `scratch`/`writtenFrames` are RT-only; the ring is
    // SPSC (RT writes, the writer thread reads).
    public enum SampleFormat: String, Sendable { case float, s16, s24 }
    let path: String
    let sampleFormat: SampleFormat
    let frameLimit: Int
    let channelCount: Int
    var ring: SampleRing?
    var scratch: UnsafeMutablePointer<Float>?
    var writtenFrames = 0
    let finished = ManagedAtomic<Bool>(false)
    let closed = ManagedAtomic<Bool>(false)
    let stopWriter = ManagedAtomic<Bool>(false)
    let framesRecorded = ManagedAtomic<Int>(0)
    let overrunCount = ManagedAtomic<Int>(0)
    let recording = ManagedAtomic<Bool>(false)
    private var writer: RealtimeThread?
    private var quantum = 0

    public init(name: String, channels: [String], path: String, sampleFormat: SampleFormat, frameLimit: Int) {
        self.path = path
        self.sampleFormat = sampleFormat
        self.frameLimit = frameLimit
        self.channelCount = channels.count
        super.init(name: name, typeName: "file-sink", inputPortNames: channels.map { "in_\($0)" }, outputPortNames: [])
    }

    public override func prepare(format: GraphFormat, waker: EventFD) throws(GraphError) {
        let subformat: Int32 = switch sampleFormat {
        case .float: Int32(SF_FORMAT_FLOAT)
        case .s16: Int32(SF_FORMAT_PCM_16)
        case .s24: Int32(SF_FORMAT_PCM_24)
        }
        let file = try SoundFile.create(path: path, sampleRate: format.sampleRate, channels: channelCount, subformat: subformat, node: name)
        quantum = format.quantum
        let ring = SampleRing(capacity: format.sampleRate * channelCount * 2)
        self.ring = ring
        scratch = .allocate(capacity: format.quantum * channelCount)
        let thread = RealtimeThread()
        let chunk = 4096
        let channels = channelCount
        let finished = self.finished, closed = self.closed, stop = self.stopWriter
        do {
            try thread.start(name: "sluice-filesink", priority: 0) {
                let buffer = UnsafeMutablePointer<Float>.allocate(capacity: chunk * channels)
                defer { buffer.deallocate() }
                while true {
                    let n = ring.read(into: buffer, count: chunk * channels)
                    if n > 0 {
                        _ = file.write(buffer, frames: n / channels)
                        waker.signal()   // room in the ring: a freewheeling RT thread may go on
                        continue
                    }
                    if finished.load(ordering: .acquiring) || stop.load(ordering: .acquiring) {
                        if ring.readableCount > 0 { continue }
                        file.close()
                        closed.store(true, ordering: .releasing)
                        return
                    }
                    usleep(2000)
                }
            }
        } catch {
            throw .resourceFailure(what: "start the file writer thread", errno: error)
        }
        writer = thread
    }

    deinit {
        stopWriter.store(true, ordering: .releasing)
        writer?.join()
        scratch?.deallocate()
    }

    public override var properties: [(String, String)] {
        let state = closed.load(ordering: .acquiring) ? "closed"
            : finished.load(ordering: .relaxed) ? "finished"
            : recording.load(ordering: .relaxed) ? "recording" : "waiting"
        return [("path", path), ("format", sampleFormat.rawValue), ("frames", String(frameLimit)),
                ("frames_recorded", String(framesRecorded.load(ordering: .relaxed))),
                ("overruns", String(overrunCount.load(ordering: .relaxed))), ("state", state)]
    }

    /// [rt] See `processCycle` in the +RT file.
    public override func process(_ context: ProcessContext) -> ProcessStatus { processCycle(context) }
    /// [rt] See `hasWork` in the +RT file.
    public override func wantsCycles(linkedInputCount: Int) -> Bool { hasWork(linkedInputCount: linkedInputCount) }
    /// [rt] See `canTakeCycle` in the +RT file.
    public override func isReady(frameCount: Int) -> Bool { canTakeCycle(frameCount: frameCount) }
}
