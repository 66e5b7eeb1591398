/// A single-threaded epoll loop dispatching readiness to closures: the daemon's control thread.
/// [control] Every method must be called on the loop's thread. Handlers may register and
/// unregister fds (including their own) while being dispatched.
public final class EventLoop {
    public typealias Handler = (IOEvents) -> Void
    /// Identifies one registration.
    public struct Token: Hashable, Sendable { let raw: UInt64 }

    private let epoll: Epoll
    private var handlers: [UInt64: (fd: Int32, handler: Handler)] = [:]
    private var nextToken: UInt64 = 1
    private var isStopping = false
    private let events = EpollEventBuffer(capacity: 128)

    public init() throws(Errno) {
        epoll = try Epoll()
    }

    /// Watches `fd` for `events` and calls `handler` when it is ready. The caller keeps owning the fd
    /// and must unregister before closing it.
    @discardableResult
    public func register(_ fd: Int32, events: IOEvents, _ handler: @escaping Handler) throws(Errno) -> Token {
        let token = nextToken
        nextToken += 1
        try epoll.add(fd, events: events, token: token)
        handlers[token] = (fd, handler)
        return Token(raw: token)
    }

    /// Changes the events watched for a registration.
    public func modify(_ token: Token, events: IOEvents) {
        guard let entry = handlers[token.raw] else { return }
        try? epoll.modify(entry.fd, events: events, token: token.raw)
    }

    /// Stops watching; safe to call twice and from inside a handler.
    public func unregister(_ token: Token) {
        guard let entry = handlers.removeValue(forKey: token.raw) else { return }
        epoll.remove(entry.fd)
    }

    /// Runs until `stop()`; sleeps in epoll_wait with no timeout when nothing happens.
    public func run() {
        while !isStopping {
            let n = epoll.wait(into: events, timeoutMillis: -1)
            for i in 0..<n {
                // Looked up per event: an earlier handler may have unregistered this one.
                if let entry = handlers[events.token(at: i)] { entry.handler(events.events(at: i)) }
                if isStopping { break }
            }
        }
    }

    /// Makes `run` return after the current dispatch.
    public func stop() { isStopping = true }

    /// Number of registrations (for introspection and tests).
    public var registrationCount: Int { handlers.count }
}
