import Atomics
import CAsound
import Glibc
import Graph
import SluiceSystem

/// What an ALSA device is doing, as the control side sees it.
public enum AlsaDeviceState: Int, Sendable, CustomStringConvertible {
    /// Configured, not playing or recording (before the first cycle, after an idle stop or an xrun).
    case prepared = 0
    case running = 1
    /// Stopped after the idle time with nothing linked (or suspended by the system); the next
    /// stream starts it again.
    case suspended = 2
    /// The device went away (unplugged, driver unloaded): every call failed with ENODEV or the
    /// like. The node stays in the graph, silent, until the daemon removes it.
    case gone = 3

    public var description: String {
        switch self {
        case .prepared: "prepared"
        case .running: "running"
        case .suspended: "suspended"
        case .gone: "gone"
        }
    }
}

/// One opened and configured ALSA PCM as the graph uses it: the PCM, the conversion buffers,
/// the fill target, and the counters the control side reads. A device node owns one; an
/// `AlsaDriver` made from that node shares it (both run on the one RT thread).
///
/// Threading contract: `configure` and `deinit` run on the control thread, before the first and
/// after the last plan holding the node; everything in `AlsaDevice+RT.swift` runs on the RT
/// thread only. Values the control side reads are atomics (relaxed: each is a self-contained
/// counter or reading, published for display).
public final class AlsaDevice: @unchecked Sendable {
    // @unchecked: the contract above. RT-only vars are marked so; pointers are allocated in
    // `configure` and freed in `deinit`, never while a plan can reach the device.
    public let pcm: AlsaPCM
    public let headroomPeriods: Int
    /// Device seconds per system second: 1 for a real card. The clocked fake card of the tests
    /// can run its clock faster than real time; the estimator and the driver's timer scale by it.
    public let clockScale: Double
    /// Stop (drop) the stream after this long with nothing linked; the next stream restarts it.
    public let suspendAfterNanos: Int64
    /// Set by `configure`.
    public private(set) var configuration: AlsaConfiguration?
    /// Frames per graph cycle the device was configured for (its period), set by `configure`.
    public private(set) var quantum = 0
    /// Fill level (frames queued, playback; frames waiting to be read, capture) a cycle of the
    /// configured quantum aims at: what `+RT` steers to, shown in introspection.
    public var targetFillFrames: Int {
        pcm.stream == .playback ? targetFill(frames: quantum) : quantum + quantum / 2
    }

    // Buffers for `+RT` (allocated in `configure`).
    var scratch: UnsafeMutableRawPointer?
    var silence: UnsafeMutablePointer<Float>?
    var discard: UnsafeMutablePointer<Float>?
    var playbackTable: UnsafeMutablePointer<UnsafePointer<Float>>?
    var captureTable: UnsafeMutablePointer<UnsafeMutablePointer<Float>>?
    /// Follower playback only: the adaptive resampler and its output, one buffer per channel.
    var resampler: AdaptiveResampler?
    var resampledTable: UnsafeMutablePointer<UnsafeMutablePointer<Float>>?
    /// Capture follower only: device frames waiting for the resampler, one buffer per channel.
    var staging: UnsafeMutablePointer<UnsafeMutablePointer<Float>>?
    var stagingCapacity = 0
    var stagingCount = 0
    /// Fractional input frames carried between cycles.
    var inputCarry = 0.0

    // Shared with the control side.
    let stateCode = ManagedAtomic<Int>(AlsaDeviceState.prepared.rawValue)
    let xrunCount = ManagedAtomic<Int>(0)
    let suspendCount = ManagedAtomic<Int>(0)
    let resumeCount = ManagedAtomic<Int>(0)
    let delayFrameCount = ManagedAtomic<Int>(0)
    let transferredFrames = ManagedAtomic<Int>(0)
    let droppedFrames = ManagedAtomic<Int>(0)
    let lastErrorCode = ManagedAtomic<Int32>(0)
    let lastXrunNanos = ManagedAtomic<Int64>(0)
    let lastRecoveryNanos = ManagedAtomic<Int64>(0)
    /// The estimated rate error against the system clock, ppm (Double bits).
    let rateErrorBits = ManagedAtomic<UInt64>(0)
    let rateUpdates = ManagedAtomic<Int>(0)
    /// The last measured fill, and the extremes since the stream last started (follower test).
    let fillFrameCount = ManagedAtomic<Int>(0)
    let fillMinimum = ManagedAtomic<Int>(Int.max)
    let fillMaximum = ManagedAtomic<Int>(Int.min)
    /// Follower playback: output frames per graph frame, as ppm from 1 (Double bits).
    let ratioBits = ManagedAtomic<UInt64>(0)
    /// Signalled (non-blocking eventfd write) when the device has an xrun or goes away, so a
    /// control loop can react without polling. [any]
    public let statusChanged: EventFD

    // RT-only.
    /// An `AlsaDriver` on this device is started: it prefills and starts the stream itself.
    var isDriven = false
    /// The stream runs (started, not dropped).
    var isStarted = false
    /// Frames handed to (playback) or taken from (capture) the device since it last started.
    var framesSinceStart = 0
    /// System time the stream last started, and the last time a cycle reached the node.
    var startedNanos: Int64 = 0
    var lastCycleNanos: Int64 = 0
    /// The last time something was linked to the node (suspend-on-idle).
    var lastActiveNanos: Int64 = 0
    var isSuspendedForIdle = false
    /// Capture: a cycle and a half had gathered before the first read (see `capture`).
    var capturePrimed = false
    var estimator = RateEstimator()
    var fillControl = FillController()
    /// Follower playback: the graph's rate against the system clock, and frames it gave.
    var graphEstimator = RateEstimator()
    var graphFrames = 0

    /// The card behind the PCM (found when the device is made), for the pulse side's proplist.
    public let card: AlsaCard?
    /// The control device whose elements tell the ports: `controlName` as given, else the
    /// card's (`hw:N`); nil for a PCM with neither (a plugin with no card behind it).
    public let controlName: String?

    public init(pcm: AlsaPCM, headroomPeriods: Int, clockScale: Double = 1, suspendAfterNanos: Int64 = 5_000_000_000,
                controlName: String? = nil) throws(AlsaError) {
        self.pcm = pcm
        self.headroomPeriods = headroomPeriods
        self.clockScale = clockScale
        self.suspendAfterNanos = suspendAfterNanos
        card = pcm.cardIndex.flatMap { AlsaDiscovery.card(index: $0) }
        self.controlName = controlName ?? card.map { "hw:\($0.index)" }
        do { statusChanged = try EventFD() } catch {
            throw .setupFailed(device: pcm.name, step: "creating the status eventfd", code: -error.rawValue)
        }
    }

    /// Negotiates the PCM for the graph format and allocates every buffer the RT side needs:
    /// a conversion buffer of one device buffer, silence, and the channel tables. [control]
    func configure(format: GraphFormat, channelCount: Int, adaptive: Bool = false) throws(AlsaError) {
        let config = try pcm.configure(sampleRate: format.sampleRate, channelCount: channelCount,
                                       periodFrames: format.defaultQuantum, headroomPeriods: headroomPeriods)
        freeBuffers()
        configuration = config
        quantum = format.defaultQuantum
        let q = format.defaultQuantum
        let maxFrames = max(config.bufferFrames, q)
        scratch = UnsafeMutableRawPointer.allocate(
            byteCount: config.sampleFormat.byteCount(frameCount: maxFrames, channelCount: config.channelCount), alignment: 64)
        let zeros = UnsafeMutablePointer<Float>.allocate(capacity: maxFrames)
        zeros.initialize(repeating: 0, count: maxFrames)
        silence = zeros
        let sink = UnsafeMutablePointer<Float>.allocate(capacity: maxFrames)
        sink.initialize(repeating: 0, count: maxFrames)
        discard = sink
        let table = UnsafeMutablePointer<UnsafePointer<Float>>.allocate(capacity: config.channelCount)
        table.initialize(repeating: UnsafePointer(zeros), count: config.channelCount)
        playbackTable = table
        let capture = UnsafeMutablePointer<UnsafeMutablePointer<Float>>.allocate(capacity: config.channelCount)
        capture.initialize(repeating: sink, count: config.channelCount)
        captureTable = capture
        if adaptive && pcm.stream == .capture {
            // Capture follower: device frames gather in `staging` before the resampler.
            guard let r = AdaptiveResampler(channels: config.channelCount, maximumFrames: 2 * q) else {
                throw .setupFailed(device: pcm.name, step: "creating the adaptive resampler", code: -ENOMEM)
            }
            resampler = r
            stagingCapacity = 4 * q
            staging = Self.allocateChannels(config.channelCount, frames: stagingCapacity)
        }
        if adaptive && pcm.stream == .playback {
            guard let r = AdaptiveResampler(channels: config.channelCount, maximumFrames: q) else {
                throw .setupFailed(device: pcm.name, step: "creating the adaptive resampler", code: -ENOMEM)
            }
            resampler = r
            resampledTable = Self.allocateChannels(config.channelCount, frames: r.outputCapacity)
        }
        stateCode.store(AlsaDeviceState.prepared.rawValue, ordering: .relaxed)
    }

    private func freeBuffers() {
        scratch?.deallocate()
        silence?.deallocate()
        discard?.deallocate()
        playbackTable?.deallocate()
        captureTable?.deallocate()
        let channels = configuration?.channelCount ?? 0
        Self.freeChannels(resampledTable, channels)
        Self.freeChannels(staging, channels)
        resampledTable = nil
        staging = nil
        resampler = nil
        scratch = nil; silence = nil; discard = nil; playbackTable = nil; captureTable = nil
    }

    /// One zeroed buffer of `frames` floats per channel, and the table pointing at them.
    private static func allocateChannels(_ count: Int, frames: Int) -> UnsafeMutablePointer<UnsafeMutablePointer<Float>> {
        let table = UnsafeMutablePointer<UnsafeMutablePointer<Float>>.allocate(capacity: count)
        for c in 0..<count {
            let b = UnsafeMutablePointer<Float>.allocate(capacity: frames)
            b.initialize(repeating: 0, count: frames)
            table[c] = b
        }
        return table
    }

    private static func freeChannels(_ table: UnsafeMutablePointer<UnsafeMutablePointer<Float>>?, _ count: Int) {
        guard let table else { return }
        for c in 0..<count { table[c].deallocate() }
        table.deallocate()
    }

    deinit {
        pcm.close()
        freeBuffers()
    }

    // MARK: Control-side readings

    /// [any] The device's state.
    public var state: AlsaDeviceState { AlsaDeviceState(rawValue: stateCode.load(ordering: .relaxed)) ?? .gone }
    /// [any] Xruns (underruns for playback, overruns for capture) recovered so far.
    public var xruns: Int { xrunCount.load(ordering: .relaxed) }
    /// [any] The last `snd_pcm_delay`: frames between the graph and the device's converter,
    /// to add to the latency a client is told.
    public var delayFrames: Int { delayFrameCount.load(ordering: .relaxed) }
    /// [any] Frames written to (playback) or read from (capture) the device.
    public var framesTransferred: Int { transferredFrames.load(ordering: .relaxed) }
    /// [any] Frames a cycle could not hand over (buffer full, or nothing captured yet).
    public var framesDropped: Int { droppedFrames.load(ordering: .relaxed) }
    /// [any] When the last xrun was seen and when the stream ran again (CLOCK_MONOTONIC ns).
    public var lastXrunAt: Int64 { lastXrunNanos.load(ordering: .relaxed) }
    public var lastRecoveryAt: Int64 { lastRecoveryNanos.load(ordering: .relaxed) }
    /// [any] How long `frames` last at the device's rate.
    public func nanos(frames: Int) -> Int64 {
        Int64(frames) * 1_000_000_000 / Int64(max(configuration?.sampleRate ?? 48_000, 1))
    }

    /// [any] Times the stream was stopped after the idle time, and restarted after one.
    public var suspends: Int { suspendCount.load(ordering: .relaxed) }
    public var resumes: Int { resumeCount.load(ordering: .relaxed) }
    /// [any] The estimated clock error against the system clock, ppm, and how many
    /// measurements the estimate rests on (0: none yet).
    public var rateErrorPPM: Double { Double(bitPattern: rateErrorBits.load(ordering: .relaxed)) }
    public var rateMeasurements: Int { rateUpdates.load(ordering: .relaxed) }
    /// [any] The last measured fill (frames queued), and its extremes since the last start.
    public var fillFrames: Int { fillFrameCount.load(ordering: .relaxed) }
    public var fillRange: ClosedRange<Int>? {
        let lo = fillMinimum.load(ordering: .relaxed), hi = fillMaximum.load(ordering: .relaxed)
        return lo <= hi ? lo...hi : nil
    }
    /// [any] Follower playback: how far the adaptive resampler stretches, ppm.
    public var resampleRatioPPM: Double { Double(bitPattern: ratioBits.load(ordering: .relaxed)) }
    /// [any] Forgets the fill extremes (a test's settling period is over; a stream restarts).
    public func resetFillRange() {
        fillMinimum.store(Int.max, ordering: .relaxed)
        fillMaximum.store(Int.min, ordering: .relaxed)
    }
    /// [any] The last negative error libasound returned (0: none).
    public var lastError: Int32 { lastErrorCode.load(ordering: .relaxed) }

    /// [control] Introspection shared by the sink and source nodes.
    /// The ports of this device's side of the card, read from its controls (jack states change
    /// as things are plugged in; read again when the last reading is over 200 ms old, so one
    /// `pactl list` opens the control device once); one generic port when there are none. [control]
    public var ports: [DevicePort] {
        let now = monotonicNanos()
        if let cached = portsCache, now - cached.at < 200_000_000 { return cached.ports }
        let playback = pcm.stream == .playback
        let ports = (controlName.flatMap { AlsaControls(name: $0) } ?? AlsaControls.none).ports(playback: playback)
        portsCache = (now, ports)
        return ports
    }
    /// [control]
    private var portsCache: (at: Int64, ports: [DevicePort])?

    /// The card's controls changed (a jack): the next `ports` reads them again. [control]
    public func forgetPorts() { portsCache = nil }

    /// PulseAudio's profile naming for this device's channel count ("analog-stereo", …).
    public var profile: (name: String, description: String) {
        let channels = configuration?.channelCount ?? 2
        let side = pcm.stream == .playback ? "Output" : "Input"
        switch channels {
        case 1: return ("analog-mono", "Analog Mono")
        case 2: return ("analog-stereo", "Analog Stereo")
        case 4: return ("analog-surround-40", "Analog Surround 4.0")
        case 6: return ("analog-surround-51", "Analog Surround 5.1")
        case 8: return ("analog-surround-71", "Analog Surround 7.1")
        default: return ("multichannel-\(side.lowercased())", "Multichannel \(side)")
        }
    }

    var properties: [(String, String)] {
        var result: [(String, String)] = [("device", pcm.name), ("pcm_type", pcm.typeName), ("state", state.description)]
        result += card?.properties ?? []
        if let controlName { result.append(("ctl", controlName)) }
        let ports = self.ports
        result.append(("ports", ports.map { "\($0.name):\($0.availability)" }.joined(separator: ",")))
        if let active = DevicePort.active(among: ports) { result.append(("active_port", active.name)) }
        result += [("profile", profile.name)]
        if let c = configuration {
            result += [("format", c.sampleFormat.rawValue), ("access", c.access.rawValue), ("rate", String(c.sampleRate)),
                       ("device_channels", String(c.channelCount)), ("period_frames", String(c.periodFrames)),
                       ("buffer_frames", String(c.bufferFrames)), ("target_fill_frames", String(targetFillFrames))]
        }
        result += [("xruns", String(xruns)), ("delay_frames", String(delayFrames)), ("fill_frames", String(fillFrames)),
                   ("rate_error_ppm", String((rateErrorPPM * 100).rounded() / 100)), ("suspends", String(suspends)),
                   ("frames", String(framesTransferred)), ("dropped_frames", String(framesDropped))]
        if lastError != 0 { result.append(("last_error", AlsaError.text(lastError))) }
        return result
    }
}
