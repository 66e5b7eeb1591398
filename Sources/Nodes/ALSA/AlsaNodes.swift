import Graph
import SluiceSystem

/// A sound card's playback PCM as a graph sink: one input port per graph channel, and monitor
/// outputs (what it plays) so the pulse side can offer its monitor source. With `isDriver` it
/// comes with an `AlsaDriver` the daemon offers to the engine; otherwise it follows whatever
/// drives, stretching its input with an adaptive resampler to match its own clock.
public final class AlsaSinkNode: AudioNode, @unchecked Sendable {
    // @unchecked: AudioNode's contract; the device is handed over through the plan.
    public let device: AlsaDevice
    /// The driver made from this device, when it was asked to drive.
    public let driver: AlsaDriver?

    public init(name: String, channels: [String], device: AlsaDevice, isDriver: Bool, driverPriority: Int = 100) throws(AlsaError) {
        self.device = device
        driver = isDriver ? try AlsaDriver(device: device, priority: driverPriority) : nil
        super.init(name: name, typeName: "alsa-sink", inputPortNames: channels.map { "in_\($0)" },
                   outputPortNames: channels.map { "monitor_\($0)" })
    }

    public override func prepare(format: GraphFormat, waker: EventFD) throws(GraphError) {
        do { try device.configure(format: format, channelCount: inputPortNames.count, adaptive: driver == nil) } catch {
            throw .nodeSetupFailed(node: name, reason: error.description)
        }
    }

    /// [rt]
    /// [rt] Xruns already reported as overruns.
    private var reportedXruns = 0

    /// An xrun since the last cycle (found here or by the driver) is reported as the node's
    /// overrun, so `sluice top` and the node's stats count it.
    public override func process(_ context: ProcessContext) -> ProcessStatus {
        device.play({ context.input($0) }, graphChannels: context.inputCount, frames: context.frameCount, now: monotonicNanos())
        for c in 0..<min(context.inputCount, context.outputCount) {
            context.output(c).update(from: context.input(c), count: context.frameCount)
        }
        let xruns = device.xruns
        defer { reportedXruns = xruns }
        return xruns == reportedXruns ? .ok : .overrun
    }

    /// [rt] Runs while something plays into it, then for the idle time (the card keeps playing
    /// silence, so a new stream starts without a click), then suspends.
    public override func wantsCycles(linkedInputCount: Int) -> Bool { device.wantsCycles(linked: linkedInputCount > 0) }

    /// The card's period: its buffer holds only a few of them.
    public override var maximumQuantum: Int? { device.quantum > 0 ? device.quantum : nil }

    /// [any] What the card has queued, by its last `snd_pcm_delay`.
    public override var externalLatencyNanos: Int64 { device.nanos(frames: device.delayFrames) }

    public override var ports: [DevicePort] { device.ports }

    public override var properties: [(String, String)] {
        device.properties + [("role", driver == nil ? "follower" : "driver")]
            + (driver == nil ? [("resample_ppm", String((device.resampleRatioPPM * 100).rounded() / 100))] : [])
    }

    public override func shutDown() { device.pcm.close() }
}

/// A sound card's capture PCM as a graph source: one output port per graph channel.
public final class AlsaSourceNode: AudioNode, @unchecked Sendable {
    public let device: AlsaDevice
    /// Resample to follow the driving clock (a card other than the driver's); false for a card
    /// that shares the driver's clock (its own capture side).
    public let follows: Bool

    public init(name: String, channels: [String], device: AlsaDevice, follows: Bool = true) {
        self.device = device
        self.follows = follows
        super.init(name: name, typeName: "alsa-source", inputPortNames: [], outputPortNames: channels.map { "capture_\($0)" })
    }

    public override func prepare(format: GraphFormat, waker: EventFD) throws(GraphError) {
        do { try device.configure(format: format, channelCount: outputPortNames.count, adaptive: follows) } catch {
            throw .nodeSetupFailed(node: name, reason: error.description)
        }
    }

    /// [rt]
    /// [rt] Xruns already reported as overruns.
    private var reportedXruns = 0

    public override func process(_ context: ProcessContext) -> ProcessStatus {
        device.capture({ context.output($0) }, graphChannels: context.outputCount, frames: context.frameCount, now: monotonicNanos())
        let xruns = device.xruns
        defer { reportedXruns = xruns }
        return xruns == reportedXruns ? .ok : .overrun
    }

    public override var maximumQuantum: Int? { device.quantum > 0 ? device.quantum : nil }

    /// [any] What waits in the card to be read, at the last cycle.
    public override var externalLatencyNanos: Int64 { device.nanos(frames: device.fillFrames) }

    public override var ports: [DevicePort] { device.ports }

    public override var properties: [(String, String)] { device.properties }

    public override func shutDown() { device.pcm.close() }
}
