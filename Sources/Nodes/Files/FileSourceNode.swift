import Atomics
import Glibc
import Graph
import SluiceSystem

/// Plays a sound file (any format libsndfile reads) at the graph rate. A helper thread reads
/// the file into a ring; the RT thread only copies out of it. Mono files feed every channel.
/// `loop` replays from the start; otherwise the outputs fall silent at the end.
public final class FileSourceNode: AudioNode, @unchecked Sendable {
    // @unchecked: atomics are shared; `scratch` is RT-only; the ring is SPSC (reader thread
    // writes, RT reads).
    let path: String
    let channelCount: Int
    let looping = ManagedAtomic<Bool>(false)
    let endOfFile = ManagedAtomic<Bool>(false)
    let stopReader = ManagedAtomic<Bool>(false)
    let underruns = ManagedAtomic<Int>(0)
    let framesPlayed = ManagedAtomic<Int>(0)
    var ring: SampleRing?
    var scratch: UnsafeMutablePointer<Float>?
    private var reader: RealtimeThread?
    private var fileFrames: Int64 = 0

    public init(name: String, channels: [String], path: String) {
        self.path = path
        self.channelCount = channels.count
        super.init(name: name, typeName: "file-source", inputPortNames: [], outputPortNames: channels.map { "out_\($0)" })
    }

    public override var parameters: [NodeParameter] {
        [NodeParameter(name: "loop", value: looping.load(ordering: .relaxed) ? "true" : "false", help: "replay from the start at the end")]
    }

    public override func setParameter(_ name: String, to value: String) throws(GraphError) {
        switch name {
        case "loop": looping.store(try ParameterParse.boolean(value, node: self.name, parameter: name), ordering: .relaxed)
        default: try super.setParameter(name, to: value)
        }
    }

    public override func prepare(format: GraphFormat, waker: EventFD) throws(GraphError) {
        let file = try SoundFile.open(path: path, node: name)
        guard file.sampleRate == format.sampleRate else {
            throw .nodeSetupFailed(node: name, reason: "'\(path)' is at \(file.sampleRate) Hz and the graph at \(format.sampleRate) Hz; convert it first (e.g. `sox in.wav -r \(format.sampleRate) out.wav`)")
        }
        fileFrames = file.frameCount
        let channels = channelCount, fileChannels = file.channels
        let ring = SampleRing(capacity: format.sampleRate * channels)
        self.ring = ring
        scratch = .allocate(capacity: format.quantum * channels)
        let chunk = 2048
        let eof = endOfFile, stop = stopReader, looping = self.looping
        let thread = RealtimeThread()
        do {
            try thread.start(name: "sluice-filesrc", priority: 0) {
                let fileBuffer = UnsafeMutablePointer<Float>.allocate(capacity: chunk * fileChannels)
                let out = UnsafeMutablePointer<Float>.allocate(capacity: chunk * channels)
                defer { fileBuffer.deallocate(); out.deallocate() }
                while !stop.load(ordering: .acquiring) {
                    if ring.writableCount < chunk * channels { usleep(2000); continue }
                    var n = file.read(into: fileBuffer, frames: chunk)
                    if n == 0 {
                        if looping.load(ordering: .relaxed) { file.rewind(); n = file.read(into: fileBuffer, frames: chunk) }
                        if n == 0 { eof.store(true, ordering: .releasing); waker.signal(); return }
                    }
                    for f in 0..<n {
                        for c in 0..<channels {
                            // Mono feeds every channel; extra file channels are dropped.
                            out[f * channels + c] = fileBuffer[f * fileChannels + (fileChannels == 1 ? 0 : min(c, fileChannels - 1))]
                        }
                    }
                    ring.write(out, count: n * channels)
                    waker.signal()
                }
            }
        } catch {
            throw .resourceFailure(what: "start the file reader thread", errno: error)
        }
        reader = thread
    }

    deinit {
        stopReader.store(true, ordering: .releasing)
        reader?.join()
        scratch?.deallocate()
    }

    public override var properties: [(String, String)] {
        [("path", path), ("file_frames", String(fileFrames)), ("frames_played", String(framesPlayed.load(ordering: .relaxed))),
         ("underruns", String(underruns.load(ordering: .relaxed))),
         ("state", endOfFile.load(ordering: .relaxed) && (ring?.readableCount ?? 0) == 0 ? "ended" : "playing")]
    }

    /// [rt] See `processCycle` in the +RT file.
    public override func process(_ context: ProcessContext) -> ProcessStatus { processCycle(context) }
    /// [rt] See `canTakeCycle` in the +RT file.
    public override func isReady(frameCount: Int) -> Bool { canTakeCycle(frameCount: frameCount) }
}
