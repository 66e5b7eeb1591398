import CSluiceShim
import Glibc

/// A CLOCK_MONOTONIC timerfd armed with absolute deadlines. [rt for arm/disarm/read]
public final class TimerFD: Sendable {
    public let fd: Int32

    /// Wraps `timerfd_create(CLOCK_MONOTONIC, TFD_CLOEXEC | TFD_NONBLOCK)`.
    public init() throws(Errno) {
        fd = try retryingOnInterrupt { timerfd_create(CLOCK_MONOTONIC, Int32(TFD_CLOEXEC | TFD_NONBLOCK)) }
    }

    /// [rt] Arms a periodic timer whose first expiry is the absolute time `firstNanos` and then
    /// every `periodNanos`. Ticks are on a fixed grid, so the timer never drifts.
    public func arm(firstNanos: Int64, periodNanos: Int64) {
        var spec = itimerspec(
            it_interval: timespec(tv_sec: Int(periodNanos / 1_000_000_000), tv_nsec: Int(periodNanos % 1_000_000_000)),
            it_value: timespec(tv_sec: Int(firstNanos / 1_000_000_000), tv_nsec: Int(firstNanos % 1_000_000_000)))
        _ = timerfd_settime(fd, Int32(TFD_TIMER_ABSTIME), &spec, nil)
    }

    /// [rt] Stops the timer.
    public func disarm() {
        var spec = itimerspec()
        _ = timerfd_settime(fd, 0, &spec, nil)
    }

    /// [rt] Reads the number of expirations since the last read; 0 if none (non-blocking).
    @inline(__always)
    public func expirations() -> UInt64 {
        var value: UInt64 = 0
        let n = read(fd, &value, 8)
        return n == 8 ? value : 0
    }

    deinit { close(fd) }
}
