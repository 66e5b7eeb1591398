import CSluiceShim
import Glibc

/// Delivers signals through an fd instead of handlers. [control]
/// The signals are blocked in the calling thread first; create it before starting any thread so
/// that every thread inherits the mask and only this fd sees them.
public final class SignalFD {
    public let fd: Int32

    /// Wraps `pthread_sigmask(SIG_BLOCK)` and `signalfd(SFD_CLOEXEC | SFD_NONBLOCK)`.
    public init(signals: [Int32]) throws(Errno) {
        var mask = sigset_t()
        sigemptyset(&mask)
        for s in signals { sigaddset(&mask, s) }
        pthread_sigmask(SIG_BLOCK, &mask, nil)
        fd = try retryingOnInterrupt { signalfd(-1, &mask, Int32(SFD_CLOEXEC | SFD_NONBLOCK)) }
    }

    /// The signals received since the last call.
    public func pendingSignals() -> [Int32] {
        var out: [Int32] = []
        var info = signalfd_siginfo()
        while read(fd, &info, MemoryLayout<signalfd_siginfo>.size) == MemoryLayout<signalfd_siginfo>.size {
            out.append(Int32(info.ssi_signo))
        }
        return out
    }

    deinit { close(fd) }
}

/// Writes a line to stderr without stdio (safe from any thread). [control]
public func writeToStandardError(_ text: String) {
    var bytes = Array(text.utf8)
    var offset = 0
    while offset < bytes.count {
        let n = bytes.withUnsafeMutableBytes { write(2, $0.baseAddress! + offset, $0.count - offset) }
        if n <= 0 { return }
        offset += n
    }
}
