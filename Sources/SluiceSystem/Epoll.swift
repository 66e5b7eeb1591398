import CSluiceShim
import Glibc

/// Readiness events of one fd.
public struct IOEvents: OptionSet, Sendable {
    public let rawValue: UInt32
    public init(rawValue: UInt32) { self.rawValue = rawValue }
    public static let readable = IOEvents(rawValue: EPOLLIN.rawValue)
    public static let writable = IOEvents(rawValue: EPOLLOUT.rawValue)
    public static let hangup = IOEvents(rawValue: EPOLLHUP.rawValue | EPOLLRDHUP.rawValue)
    public static let error = IOEvents(rawValue: EPOLLERR.rawValue)
}

/// An epoll instance. Registration is keyed by a caller-chosen 64-bit token. [any]
public final class Epoll: Sendable {
    public let fd: Int32

    public init() throws(Errno) {
        fd = try retryingOnInterrupt { epoll_create1(Int32(EPOLL_CLOEXEC)) }
    }

    /// Wraps `epoll_ctl(EPOLL_CTL_ADD)`.
    public func add(_ watched: Int32, events: IOEvents, token: UInt64) throws(Errno) {
        var ev = epoll_event()
        ev.events = events.rawValue
        ev.data.u64 = token
        _ = try retryingOnInterrupt { epoll_ctl(fd, EPOLL_CTL_ADD, watched, &ev) }
    }

    /// Wraps `epoll_ctl(EPOLL_CTL_MOD)`.
    public func modify(_ watched: Int32, events: IOEvents, token: UInt64) throws(Errno) {
        var ev = epoll_event()
        ev.events = events.rawValue
        ev.data.u64 = token
        _ = try retryingOnInterrupt { epoll_ctl(fd, EPOLL_CTL_MOD, watched, &ev) }
    }

    /// Wraps `epoll_ctl(EPOLL_CTL_DEL)`; ignores an fd that is not registered.
    public func remove(_ watched: Int32) {
        var ev = epoll_event()
        _ = epoll_ctl(fd, EPOLL_CTL_DEL, watched, &ev)
    }

    /// Waits up to `timeoutMillis` (-1: forever) and fills `events` (preallocated by the caller).
    /// Returns how many entries are valid; 0 on timeout or EINTR. [rt: no allocation]
    public func wait(into events: EpollEventBuffer, timeoutMillis: Int32) -> Int {
        let n = epoll_wait(fd, events.storage.baseAddress, Int32(events.storage.count), timeoutMillis)
        return n < 0 ? 0 : Int(n)
    }

    deinit { close(fd) }
}

/// Preallocated space for the events one `Epoll.wait` returns.
public final class EpollEventBuffer: @unchecked Sendable {
    // @unchecked: used by one thread at a time (the thread that waits).
    let storage: UnsafeMutableBufferPointer<epoll_event>

    public init(capacity: Int) {
        storage = .allocate(capacity: capacity)
        storage.initialize(repeating: epoll_event())
    }

    /// [rt] The token registered for entry `index`.
    @inline(__always) public func token(at index: Int) -> UInt64 { storage[index].data.u64 }
    /// [rt] The readiness of entry `index`.
    @inline(__always) public func events(at index: Int) -> IOEvents { IOEvents(rawValue: storage[index].events) }

    deinit { storage.deallocate() }
}
