import Glibc

/// A failed system call's error number, with a readable description.
public struct Errno: Error, RawRepresentable, Hashable, Sendable, CustomStringConvertible {
    public let rawValue: Int32
    public init(rawValue: Int32) { self.rawValue = rawValue }
    /// The calling thread's current `errno`.
    public static var current: Errno { Errno(rawValue: errno) }
    public static var interrupted: Errno { Errno(rawValue: EINTR) }
    public static var wouldBlock: Errno { Errno(rawValue: EAGAIN) }
    public static var permissionDenied: Errno { Errno(rawValue: EPERM) }
    public static var notFound: Errno { Errno(rawValue: ENOENT) }
    public static var invalidArgument: Errno { Errno(rawValue: EINVAL) }
    public var description: String { "\(String(cString: strerror(rawValue))) (errno \(rawValue))" }
}

/// Calls `body` until it stops failing with EINTR and returns its result. [any]
/// Reads errno immediately after the call. Throws the errno of any other failure.
/// An EBADF or EFAULT can only mean a bug in Sluice (we passed a closed fd or a bad
/// pointer), never bad input, so it traps instead of being thrown.
@inline(__always)
public func retryingOnInterrupt<R: BinaryInteger>(_ body: () -> R) throws(Errno) -> R {
    while true {
        let result = body()
        if result != -1 { return result }
        let err = Errno.current
        if err == .interrupted { continue }
        precondition(err.rawValue != EBADF && err.rawValue != EFAULT, "bug: \(err) from a Sluice-owned fd")
        throw err
    }
}
