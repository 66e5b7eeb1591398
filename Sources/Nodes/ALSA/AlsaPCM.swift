import CAsound
import Glibc

/// Playback or capture.
public enum AlsaStream: String, Sendable {
    case playback, capture
    var alsaStream: snd_pcm_stream_t { self == .playback ? SND_PCM_STREAM_PLAYBACK : SND_PCM_STREAM_CAPTURE }
}

/// How the device buffer is reached: mapped (convert straight into it) or read/write calls.
public enum AlsaAccess: String, Sendable {
    case mmapInterleaved = "MMAP_INTERLEAVED"
    case readWriteInterleaved = "RW_INTERLEAVED"
}

/// What negotiation settled on.
public struct AlsaConfiguration: Sendable, Equatable {
    public var sampleFormat: AlsaSampleFormat
    public var access: AlsaAccess
    public var sampleRate: Int
    public var channelCount: Int
    public var periodFrames: Int
    public var bufferFrames: Int
}

/// An open libasound PCM (`snd_pcm_t`), always in non-blocking mode. [control] to open,
/// configure and close; the `+RT` extension holds the calls the RT thread makes.
///
/// Threading contract: after `configure` the RT thread is the only caller until the node that
/// owns this PCM has left every plan; then the control side closes it (or `deinit` does).
/// libasound's own per-PCM mutex is therefore never contended.
public final class AlsaPCM: @unchecked Sendable {
    // @unchecked: the contract above — one thread at a time, handed over through a plan.
    /// The PCM name as the caller gave it (`hw:1,0`, `plughw:…`, a name from the config).
    public let name: String
    public let stream: AlsaStream
    /// `snd_pcm_t *`; nil once closed.
    private(set) var handle: OpaquePointer?
    /// The private config tree of `open(name:configText:stream:)`, kept until close because
    /// plugins may refer into it.
    private var configTree: OpaquePointer?
    /// Set by `configure`.
    public private(set) var configuration: AlsaConfiguration?

    private init(name: String, stream: AlsaStream, handle: OpaquePointer, configTree: OpaquePointer?) {
        self.name = name
        self.stream = stream
        self.handle = handle
        self.configTree = configTree
    }

    /// Opens `name` from the system's ALSA configuration (`hw:1,0`, `plughw:CARD=USB,DEV=0`,
    /// `default`, any PCM the user defined), non-blocking. [control]
    /// Throws `AlsaError.busy` when another program holds the device, `.notFound` for an
    /// unknown name.
    public static func open(name: String, stream: AlsaStream) throws(AlsaError) -> AlsaPCM {
        _ = sluice_alsa_silence_errors()
        var pcm: OpaquePointer?
        let err = snd_pcm_open(&pcm, name, stream.alsaStream, SND_PCM_NONBLOCK)
        guard err >= 0, let pcm else { throw AlsaError.forOpen(device: name, code: err) }
        return AlsaPCM(name: name, stream: stream, handle: pcm, configTree: nil)
    }

    /// Opens `name` as defined in `configText` (alsa.conf syntax) and nowhere else: hermetic,
    /// for tests and for devices the daemon's config defines inline. [control]
    ///
    /// ```swift
    /// let pcm = try AlsaPCM.open(name: "out", configText: """
    ///     pcm.out { type file slave.pcm "null" file "/tmp/out.raw" format "raw" }
    ///     pcm.null { type null }
    ///     """, stream: .playback)
    /// ```
    public static func open(name: String, configText: String, stream: AlsaStream) throws(AlsaError) -> AlsaPCM {
        _ = sluice_alsa_silence_errors()
        var tree: OpaquePointer?
        let parsed = sluice_alsa_config_from_string(configText, &tree)
        guard parsed >= 0, let tree else { throw .invalidConfiguration(code: parsed) }
        var pcm: OpaquePointer?
        let err = snd_pcm_open_lconf(&pcm, name, stream.alsaStream, SND_PCM_NONBLOCK, tree)
        guard err >= 0, let pcm else {
            snd_config_delete(tree)
            throw AlsaError.forOpen(device: name, code: err)
        }
        return AlsaPCM(name: name, stream: stream, handle: pcm, configTree: tree)
    }

    /// The sound card this PCM ends on (`snd_pcm_info_get_card`), or nil for a PCM with no
    /// card behind it (null, file, ioplug plugins). [control]
    public var cardIndex: Int? {
        guard let handle else { return nil }
        var info: OpaquePointer?
        guard snd_pcm_info_malloc(&info) >= 0, let info else { return nil }
        defer { snd_pcm_info_free(info) }
        guard snd_pcm_info(handle, info) >= 0 else { return nil }
        let card = snd_pcm_info_get_card(info)
        return card >= 0 ? Int(card) : nil
    }

    /// libasound's name for the PCM's plugin type ("HW", "FILE", "IOPLUG", ...). [control]
    public var typeName: String {
        guard let handle else { return "closed" }
        return String(cString: snd_pcm_type_name(snd_pcm_type(handle)))
    }

    /// Negotiates and applies hardware and software parameters, then prepares the PCM. [control]
    ///
    /// Prefers `sampleRate` exactly (no device-side resampling is asked for; a plug PCM may still
    /// convert), FLOAT_LE then S32_LE, S24_3LE, S24_LE, S16_LE; mmap interleaved access where the
    /// PCM offers it, else read/write interleaved; `channelCount` or the nearest the device has;
    /// a period of `periodFrames` and a buffer of `periodFrames × (1 + headroomPeriods)`.
    /// The device starts only when told (start threshold = boundary), so nothing plays before
    /// Sluice has filled the buffer to its target. Timestamps are CLOCK_MONOTONIC.
    /// Throws `AlsaError.unsupported` naming what the device offers instead.
    @discardableResult
    public func configure(sampleRate: Int, channelCount: Int, periodFrames: Int, headroomPeriods: Int) throws(AlsaError) -> AlsaConfiguration {
        guard let pcm = handle else { throw .setupFailed(device: name, step: "configure (PCM already closed)", code: -EBADF) }
        guard let hw = sluice_alsa_hw_params_new() else { throw .setupFailed(device: name, step: "allocating hw params", code: -ENOMEM) }
        defer { snd_pcm_hw_params_free(hw) }
        func check(_ err: Int32, _ step: String) throws(AlsaError) {
            if err < 0 { throw .setupFailed(device: name, step: step, code: err) }
        }
        try check(snd_pcm_hw_params_any(pcm, hw), "snd_pcm_hw_params_any")

        let access: AlsaAccess
        if snd_pcm_hw_params_test_access(pcm, hw, SND_PCM_ACCESS_MMAP_INTERLEAVED) == 0 {
            access = .mmapInterleaved
            try check(snd_pcm_hw_params_set_access(pcm, hw, SND_PCM_ACCESS_MMAP_INTERLEAVED), "setting mmap access")
        } else if snd_pcm_hw_params_test_access(pcm, hw, SND_PCM_ACCESS_RW_INTERLEAVED) == 0 {
            access = .readWriteInterleaved
            try check(snd_pcm_hw_params_set_access(pcm, hw, SND_PCM_ACCESS_RW_INTERLEAVED), "setting read/write access")
        } else {
            throw .unsupported(device: name, what: "it offers no interleaved access (mmap or read/write); use the plughw: form of the device")
        }

        guard let format = AlsaSampleFormat.allCases.first(where: { snd_pcm_hw_params_test_format(pcm, hw, $0.alsaFormat) == 0 }) else {
            throw .unsupported(device: name, what: "none of the sample formats \(AlsaSampleFormat.allCases.map(\.rawValue).joined(separator: ", ")) is offered; use the plughw: form of the device")
        }
        try check(snd_pcm_hw_params_set_format(pcm, hw, format.alsaFormat), "setting format \(format.rawValue)")

        var channels = UInt32(channelCount)
        try check(snd_pcm_hw_params_set_channels_near(pcm, hw, &channels), "setting \(channelCount) channels")

        if snd_pcm_hw_params_test_rate(pcm, hw, UInt32(sampleRate), 0) != 0 {
            var low: UInt32 = 0, high: UInt32 = 0, dir: Int32 = 0
            _ = snd_pcm_hw_params_get_rate_min(hw, &low, &dir)
            _ = snd_pcm_hw_params_get_rate_max(hw, &high, &dir)
            throw .unsupported(device: name, what: "it cannot run at the graph's \(sampleRate) Hz (it offers \(low)…\(high) Hz); set the graph rate to one it offers, or use the plughw: form to let ALSA convert")
        }
        try check(snd_pcm_hw_params_set_rate(pcm, hw, UInt32(sampleRate), 0), "setting \(sampleRate) Hz")

        var period = snd_pcm_uframes_t(periodFrames)
        var dir: Int32 = 0
        try check(snd_pcm_hw_params_set_period_size_near(pcm, hw, &period, &dir), "setting a period of \(periodFrames) frames")
        var buffer = snd_pcm_uframes_t(periodFrames * (1 + max(headroomPeriods, 1)))
        try check(snd_pcm_hw_params_set_buffer_size_near(pcm, hw, &buffer), "setting a buffer of \(buffer) frames")
        try check(snd_pcm_hw_params(pcm, hw), "applying the hw params")
        _ = snd_pcm_hw_params_get_period_size(hw, &period, &dir)
        _ = snd_pcm_hw_params_get_buffer_size(hw, &buffer)
        _ = snd_pcm_hw_params_get_channels(hw, &channels)
        guard Int(buffer) >= 2 * periodFrames else {
            throw .unsupported(device: name, what: "its buffer holds only \(buffer) frames, less than two cycles of \(periodFrames); choose a smaller quantum")
        }

        guard let sw = sluice_alsa_sw_params_new() else { throw .setupFailed(device: name, step: "allocating sw params", code: -ENOMEM) }
        defer { snd_pcm_sw_params_free(sw) }
        try check(snd_pcm_sw_params_current(pcm, sw), "snd_pcm_sw_params_current")
        var boundary: snd_pcm_uframes_t = 0
        try check(snd_pcm_sw_params_get_boundary(sw, &boundary), "reading the boundary")
        try check(snd_pcm_sw_params_set_start_threshold(pcm, sw, boundary), "setting the start threshold")
        try check(snd_pcm_sw_params_set_stop_threshold(pcm, sw, buffer), "setting the stop threshold")
        try check(snd_pcm_sw_params_set_avail_min(pcm, sw, period), "setting avail_min")
        try check(snd_pcm_sw_params_set_tstamp_mode(pcm, sw, SND_PCM_TSTAMP_ENABLE), "enabling timestamps")
        // Not every plugin knows timestamp types; monotonic is only a preference.
        _ = snd_pcm_sw_params_set_tstamp_type(pcm, sw, SND_PCM_TSTAMP_TYPE_MONOTONIC)
        try check(snd_pcm_sw_params(pcm, sw), "applying the sw params")
        try check(snd_pcm_prepare(pcm), "snd_pcm_prepare")

        let result = AlsaConfiguration(sampleFormat: format, access: access, sampleRate: sampleRate,
                                       channelCount: Int(channels), periodFrames: Int(period), bufferFrames: Int(buffer))
        configuration = result
        return result
    }

    /// Closes the PCM (stops it first). [control] Only after the RT thread has let go.
    public func close() {
        if let handle {
            _ = snd_pcm_drop(handle)
            _ = snd_pcm_close(handle)
        }
        handle = nil
        if let configTree { snd_config_delete(configTree) }
        configTree = nil
    }

    deinit { close() }
}
