import Graph
import SluiceSystem

/// A sound card as the graph's clock. It wakes on its own timer, not on period interrupts:
/// each wake-up measures the device's fill, feeds the rate estimator (a DLL), and arms the next
/// wake-up for when the card will have played down to its target fill, by the card's estimated
/// rate. So the graph runs at the card's true rate, and a late wake-up is absorbed by the
/// half-cycle of slack in the target.
///
/// `start`, `stop` and `takeTick` run on the RT thread only (see `Driver`).
public final class AlsaDriver: Driver, @unchecked Sendable {
    // @unchecked: RT-side state is touched by the RT thread only (Driver's contract).
    public let device: AlsaDevice
    private let timer: TimerFD
    // RT-only.
    private var frames = 1024
    private var nominalPeriodNanos: Int64 = 21_333_333
    private var scheduledNanos: Int64 = 0

    /// `priority` above the timer's (10) and below freewheel's (1000): a card drives when present.
    public init(device: AlsaDevice, priority: Int = 100) throws(AlsaError) {
        self.device = device
        do { timer = try TimerFD() } catch {
            throw .setupFailed(device: device.pcm.name, step: "creating the driver's timer", code: -error.rawValue)
        }
        super.init(name: "alsa:\(device.pcm.name)", priority: priority)
    }

    public override var pollDescriptor: Int32 { timer.fd }
    public override var kind: String { "alsa" }

    public override func start(nowNanos: Int64, periodNanos: Int64) {
        let rate = Double(device.configuration?.sampleRate ?? 48_000)
        frames = max(1, Int((Double(periodNanos) * rate / 1e9).rounded()))
        nominalPeriodNanos = max(1000, Int64(Double(periodNanos) / device.clockScale))
        device.isDriven = true
        if !device.isStarted { _ = device.startStream(frames: frames, now: nowNanos) }
        scheduledNanos = nowNanos
        timer.arm(firstNanos: nowNanos, periodNanos: 0)
    }

    public override func stop() {
        device.stopStream()
        device.isDriven = false
        timer.disarm()
    }

    public override func takeTick(nowNanos: Int64) -> DriverTick? {
        guard timer.expirations() > 0 else { return nil }
        let due = scheduledNanos
        var t = nowNanos
        var fill = device.measureFill(now: &t)
        if fill < 0 {
            if device.recover(Int32(fill), frames: frames, now: t) {
                fill = device.measureFill(now: &t)
            }
        } else if !device.isStarted, device.state != .gone {
            _ = device.startStream(frames: frames, now: t)
            fill = device.measureFill(now: &t)
        }
        guard fill >= 0, device.isStarted else {
            // Gone or still suspended: keep the graph ticking at the nominal rate until the
            // control side removes the device or it comes back.
            scheduledNanos = t + nominalPeriodNanos
            timer.arm(firstNanos: scheduledNanos, periodNanos: 0)
            return DriverTick(dueNanos: due, deadlineNanos: scheduledNanos, missedTicks: 0)
        }
        // After this cycle the fill is `fill + frames`; wake when it has drained to the target.
        let rate = device.estimator.rate * device.clockScale      // frames per system second
        let drain = max(fill + frames - device.targetFill(frames: frames), frames / 4)
        scheduledNanos = t + Int64(Double(drain) / rate * 1e9)
        timer.arm(firstNanos: scheduledNanos, periodNanos: 0)
        // The cycle must be done before the card plays what is queued now.
        let deadline = t + Int64(Double(max(fill, 0)) / rate * 1e9)
        return DriverTick(dueNanos: min(due, t), deadlineNanos: deadline, missedTicks: 0)
    }
}
