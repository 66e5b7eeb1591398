/// A delay-locked loop over (device position, system time) pairs: it filters the jitter out of
/// the wake-up times and estimates the device's true rate against the system clock. [rt]
///
/// Second-order loop (position and rate), as in F. Adriaensen, "Using a DLL to filter time"
/// (2005): each measurement's error against the prediction corrects the position by
/// `√2·ω·dt` and the rate by `ω²·dt`, ω = 2π·bandwidth. The bandwidth starts wide so the loop
/// locks within a second, then halves every `narrowEvery` updates down to `finalBandwidth`, so
/// the settled estimate averages the jitter of many minutes-long spans. Pure arithmetic: no
/// allocation, safe on the RT thread.
public struct RateEstimator: Sendable {
    public var initialBandwidth = 2.0
    public var finalBandwidth = 0.02
    public var narrowEvery = 64
    /// Nominal rate, frames per second.
    public private(set) var nominalRate = 48_000.0
    /// Estimated rate, frames per second of system time.
    public private(set) var rate = 48_000.0
    /// Filtered position at `lastSeconds`.
    private var position = 0.0
    private var lastSeconds = 0.0
    private var bandwidth = 2.0
    public private(set) var updates = 0

    public init() {}

    /// Starts over at `nominalRate` from the measurement (`position`, `seconds`).
    public mutating func reset(nominalRate: Double, position: Double, seconds: Double) {
        self.nominalRate = nominalRate
        rate = nominalRate
        self.position = position
        lastSeconds = seconds
        bandwidth = initialBandwidth
        updates = 0
    }

    /// Feeds one measurement: the device had played `position` frames at `seconds`.
    public mutating func update(position measured: Double, seconds: Double) {
        let dt = seconds - lastSeconds
        guard dt > 0 else { return }
        let predicted = position + rate * dt
        let error = measured - predicted
        let omega = 2 * Double.pi * bandwidth
        // Keep the loop stable however long the gap was (a late wake-up, a skipped cycle).
        let a = min(1.0, 2.0.squareRoot() * omega * dt)
        let b = min(omega * omega * dt, 1 / dt)
        position = predicted + a * error
        rate += b * error
        // Never believe more than ±1 %: a card that far off is broken, not drifting.
        rate = min(max(rate, nominalRate * 0.99), nominalRate * 1.01)
        lastSeconds = seconds
        updates += 1
        if updates % narrowEvery == 0 && bandwidth > finalBandwidth {
            bandwidth = max(finalBandwidth, bandwidth / 2)
        }
    }

    /// The estimated rate error, parts per million.
    public var errorPPM: Double { (rate / nominalRate - 1) * 1_000_000 }
}

/// Keeps a follower device's fill level at its target: a PI controller whose output trims the
/// resampling ratio (output frames per graph frame) that the two clocks' rate estimates give.
/// [rt]
///
/// The estimates carry the ±1 % a crystal can be off; this only corrects the phase, so it is
/// tuned slow (a time constant of about 500 cycles, critically damped: ki = kp²/4) and the
/// ratio does not wobble audibly with the jitter of each fill reading.
public struct FillController: Sendable {
    public var kp = 0.004
    public var ki = 0.000004
    /// Weight of each new fill reading in the smoothed error (a one-pole low-pass).
    public var smoothing = 0.05
    private var integral = 0.0
    private var smoothedError = 0.0
    private var primed = false
    public private(set) var ratio = 1.0

    public init() {}

    public mutating func reset() {
        integral = 0
        smoothedError = 0
        primed = false
        ratio = 1
    }

    /// After measuring `fill` frames queued against `target`, before a cycle of `quantum`
    /// frames: the ratio to resample that cycle with.
    public mutating func update(fill: Double, target: Double, quantum: Double) -> Double {
        let reading = fill - target               // frames too many
        smoothedError = primed ? smoothedError + smoothing * (reading - smoothedError) : reading
        primed = true
        let error = smoothedError
        integral += ki * error
        integral = min(max(integral, -0.01 * quantum), 0.01 * quantum)
        let correction = kp * error + integral    // frames to give less this cycle
        ratio = min(max(1 - correction / quantum, 0.99), 1.01)
        return ratio
    }
}
