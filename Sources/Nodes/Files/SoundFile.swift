import CSndfile
import Graph

/// A libsndfile handle, closed on release. [control or helper thread; never RT]
final class SoundFile: @unchecked Sendable {
    // @unchecked: used by exactly one helper thread at a time after the control thread opened it.
    private(set) var handle: OpaquePointer?
    let channels: Int
    let sampleRate: Int
    let frameCount: Int64

    private init(handle: OpaquePointer, info: SF_INFO) {
        self.handle = handle
        self.channels = Int(info.channels)
        self.sampleRate = Int(info.samplerate)
        self.frameCount = Int64(info.frames)
    }

    /// Opens `path` for writing a WAV file; `subformat` is an SF_FORMAT_* subtype.
    static func create(path: String, sampleRate: Int, channels: Int, subformat: Int32, node: String) throws(GraphError) -> SoundFile {
        var info = SF_INFO()
        info.samplerate = Int32(sampleRate)
        info.channels = Int32(channels)
        info.format = Int32(SF_FORMAT_WAV) | subformat
        guard let h = sf_open(path, Int32(SFM_WRITE), &info) else {
            throw .nodeSetupFailed(node: node, reason: "cannot write '\(path)': \(String(cString: sf_strerror(nil)))")
        }
        return SoundFile(handle: h, info: info)
    }

    /// Opens any file libsndfile reads.
    static func open(path: String, node: String) throws(GraphError) -> SoundFile {
        var info = SF_INFO()
        guard let h = sf_open(path, Int32(SFM_READ), &info) else {
            throw .nodeSetupFailed(node: node, reason: "cannot read '\(path)': \(String(cString: sf_strerror(nil)))")
        }
        return SoundFile(handle: h, info: info)
    }

    func write(_ samples: UnsafePointer<Float>, frames: Int) -> Int {
        guard let handle else { return 0 }
        return Int(sf_writef_float(handle, samples, sf_count_t(frames)))
    }

    func read(into samples: UnsafeMutablePointer<Float>, frames: Int) -> Int {
        guard let handle else { return 0 }
        return Int(sf_readf_float(handle, samples, sf_count_t(frames)))
    }

    func rewind() { if let handle { sf_seek(handle, 0, SEEK_SET) } }

    func close() {
        if let h = handle { sf_close(h) }
        handle = nil
    }

    deinit { close() }
}
