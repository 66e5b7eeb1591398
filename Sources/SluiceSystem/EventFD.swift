import CSluiceShim
import Glibc

/// A non-blocking eventfd: the RT thread's way to wake a control loop, and back. [any]
public final class EventFD: Sendable {
    public let fd: Int32

    /// Wraps `eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK)`.
    public init() throws(Errno) {
        fd = try retryingOnInterrupt { eventfd(0, Int32(EFD_CLOEXEC | EFD_NONBLOCK)) }
    }

    /// [rt] Adds one to the counter. Non-blocking; a saturated counter (EAGAIN) already wakes the reader.
    @inline(__always)
    public func signal() {
        var one: UInt64 = 1
        _ = write(fd, &one, 8)
    }

    /// Reads and resets the counter; 0 when nothing was signalled. [any]
    @discardableResult
    public func drain() -> UInt64 {
        var value: UInt64 = 0
        let n = read(fd, &value, 8)
        return n == 8 ? value : 0
    }

    deinit { close(fd) }
}
