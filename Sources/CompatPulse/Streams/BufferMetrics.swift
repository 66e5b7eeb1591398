/// Buffer attributes of a pulse stream, in bytes of the client's format, negotiated the way
/// PulseAudio 16.1 does (Docs/pulse-compat.md): INVALID (0xFFFFFFFF) fields get defaults, the
/// rest are clamped, and `adjust_latency` splits the requested latency between the server's
/// buffer and the client's queue.
public struct PlaybackMetrics: Sendable, Equatable {
    public var maxLength: UInt32
    public var targetLength: UInt32
    public var prebuffer: UInt32
    public var minimumRequest: UInt32
    /// The latency the server plays at, in microseconds (the "configured sink latency").
    public var configuredLatencyMicros: UInt64

    public init(maxLength: UInt32, targetLength: UInt32, prebuffer: UInt32, minimumRequest: UInt32, configuredLatencyMicros: UInt64) {
        self.maxLength = maxLength
        self.targetLength = targetLength
        self.prebuffer = prebuffer
        self.minimumRequest = minimumRequest
        self.configuredLatencyMicros = configuredLatencyMicros
    }

    public static let invalid: UInt32 = 0xFFFF_FFFF
    static let maxLengthLimit: UInt32 = 4 * 1024 * 1024

    /// Negotiates from the client's request. `frameSize` and `bytesPerSecond` describe the
    /// client's format; `minimumLatencyMicros` is what the graph can do at best (one quantum).
    public static func negotiate(maxLength: UInt32, targetLength: UInt32, prebuffer: UInt32, minimumRequest: UInt32,
                                 adjustLatency: Bool, earlyRequests: Bool,
                                 frameSize: Int, bytesPerSecond: Int, minimumLatencyMicros: UInt64) -> PlaybackMetrics {
        let fs = UInt64(max(frameSize, 1))
        let bps = UInt64(max(bytesPerSecond, 1))
        func frames(_ b: UInt64) -> UInt64 { max(b / fs, 1) * fs }
        func bytes(micros: UInt64) -> UInt64 { frames(micros * bps / 1_000_000) }
        func micros(bytes b: UInt64) -> UInt64 { b * 1_000_000 / bps }

        var maxl = UInt64(maxLength == invalid || maxLength > maxLengthLimit ? maxLengthLimit : maxLength)
        maxl = frames(maxl)
        var tlength = targetLength == invalid || targetLength == 0 ? bytes(micros: 2_000_000) : frames(UInt64(targetLength))
        tlength = min(tlength, maxl)
        var minreq = minimumRequest == invalid || minimumRequest == 0 ? min(bytes(micros: 20_000), frames(tlength / 4)) : frames(UInt64(minimumRequest))
        minreq = max(min(minreq, tlength / 2 > 0 ? frames(tlength / 2) : fs), fs)

        // What the server buffers: the rest of tlength stays with the client.
        var latency: UInt64
        if earlyRequests {
            latency = minreq
        } else if adjustLatency {
            latency = tlength > 2 * minreq ? (tlength - 2 * minreq) / 2 : fs
        } else {
            latency = tlength > 2 * minreq ? tlength - 2 * minreq : fs
        }
        // The graph's floor, rounded up to whole frames so it is never undercut.
        let floor = (minimumLatencyMicros * bps + 999_999) / 1_000_000
        latency = max(frames(latency), (floor + fs - 1) / fs * fs)
        if adjustLatency || earlyRequests {
            tlength = min(max(tlength, latency + 2 * minreq), maxl)
            if adjustLatency { tlength = min(latency + 2 * minreq, maxl) }
        }
        var prebuf = prebuffer == invalid ? tlength + fs - minreq : frames(UInt64(prebuffer))
        prebuf = min(prebuf, tlength)
        if prebuffer != invalid && prebuffer == 0 { prebuf = 0 }
        return PlaybackMetrics(maxLength: UInt32(maxl), targetLength: UInt32(tlength), prebuffer: UInt32(prebuf),
                               minimumRequest: UInt32(minreq), configuredLatencyMicros: micros(bytes: latency))
    }
}

/// Buffer attributes of a pulse record stream.
public struct RecordMetrics: Sendable, Equatable {
    public var maxLength: UInt32
    public var fragmentSize: UInt32
    public var configuredLatencyMicros: UInt64

    public init(maxLength: UInt32, fragmentSize: UInt32, configuredLatencyMicros: UInt64) {
        self.maxLength = maxLength
        self.fragmentSize = fragmentSize
        self.configuredLatencyMicros = configuredLatencyMicros
    }

    public static func negotiate(maxLength: UInt32, fragmentSize: UInt32, adjustLatency: Bool, earlyRequests: Bool,
                                 frameSize: Int, bytesPerSecond: Int, minimumLatencyMicros: UInt64) -> RecordMetrics {
        let fs = UInt64(max(frameSize, 1)), bps = UInt64(max(bytesPerSecond, 1))
        func frames(_ b: UInt64) -> UInt64 { max(b / fs, 1) * fs }
        var maxl = UInt64(maxLength == PlaybackMetrics.invalid || maxLength > PlaybackMetrics.maxLengthLimit ? PlaybackMetrics.maxLengthLimit : maxLength)
        maxl = frames(maxl)
        var frag = fragmentSize == PlaybackMetrics.invalid || fragmentSize == 0 ? frames(2 * bps) : frames(UInt64(fragmentSize))
        frag = min(frag, maxl)
        let latency: UInt64 = adjustLatency || earlyRequests ? max(frag * 1_000_000 / bps, minimumLatencyMicros) : 0
        return RecordMetrics(maxLength: UInt32(maxl), fragmentSize: UInt32(frag), configuredLatencyMicros: latency)
    }
}
