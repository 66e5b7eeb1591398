import CompatPulse
import Testing

/// Expected values are PulseAudio 16.1's, from the captures (48 kHz s16 stereo: 192,000 B/s).
@Suite("buffer attribute negotiation")
struct BufferMetricsTests {
    let inv = PlaybackMetrics.invalid

    @Test("pacat's defaults get a 2 s target, 20 ms requests and the captured prebuf")
    func playbackDefaults() {
        let m = PlaybackMetrics.negotiate(maxLength: inv, targetLength: inv, prebuffer: inv, minimumRequest: inv,
                                          adjustLatency: false, earlyRequests: false, frameSize: 4, bytesPerSecond: 192_000,
                                          minimumLatencyMicros: 0)
        #expect(m == PlaybackMetrics(maxLength: 4_194_304, targetLength: 384_000, prebuffer: 380_164, minimumRequest: 3840,
                                     configuredLatencyMicros: 1_960_000))
    }

    @Test("pacat --latency-msec=50 (tlength 9600, adjust_latency) gets the captured 7200/2400/4804 and 12.5 ms")
    func playbackLatency50() {
        let m = PlaybackMetrics.negotiate(maxLength: inv, targetLength: 9600, prebuffer: inv, minimumRequest: inv,
                                          adjustLatency: true, earlyRequests: false, frameSize: 4, bytesPerSecond: 192_000,
                                          minimumLatencyMicros: 0)
        #expect(m == PlaybackMetrics(maxLength: 4_194_304, targetLength: 7200, prebuffer: 4804, minimumRequest: 2400,
                                     configuredLatencyMicros: 12_500))
    }

    @Test("the server latency never goes below what the graph can do")
    func graphFloor() {
        let m = PlaybackMetrics.negotiate(maxLength: inv, targetLength: 1920, prebuffer: inv, minimumRequest: inv,
                                          adjustLatency: true, earlyRequests: false, frameSize: 4, bytesPerSecond: 192_000,
                                          minimumLatencyMicros: 5333)
        #expect(m.configuredLatencyMicros >= 5333)
        #expect(m.targetLength % 4 == 0 && m.minimumRequest % 4 == 0 && m.prebuffer <= m.targetLength)
    }

    @Test("parec's defaults get a 2 s fragment; --latency-msec=50 gets 9600 bytes and 50 ms")
    func record() {
        #expect(RecordMetrics.negotiate(maxLength: inv, fragmentSize: inv, adjustLatency: false, earlyRequests: false,
                                        frameSize: 4, bytesPerSecond: 192_000, minimumLatencyMicros: 0)
                == RecordMetrics(maxLength: 4_194_304, fragmentSize: 384_000, configuredLatencyMicros: 0))
        #expect(RecordMetrics.negotiate(maxLength: inv, fragmentSize: 9600, adjustLatency: true, earlyRequests: false,
                                        frameSize: 4, bytesPerSecond: 192_000, minimumLatencyMicros: 0)
                == RecordMetrics(maxLength: 4_194_304, fragmentSize: 9600, configuredLatencyMicros: 50_000))
    }
}
