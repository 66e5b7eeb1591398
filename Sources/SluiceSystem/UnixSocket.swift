import CSluiceShim
import Glibc

/// Credentials of a connected peer (SO_PEERCRED).
public struct PeerCredentials: Sendable, Equatable {
    public let pid: Int32
    public let uid: UInt32
    public let gid: UInt32
}

/// Stream unix sockets: a listener bound to a path, accepted and connected sockets.
/// Sockets are CLOEXEC; accepted ones are non-blocking. The fd is closed when released.
public final class UnixSocket: Sendable {
    public let fd: Int32

    public init(adopting fd: Int32) { self.fd = fd }

    /// Binds and listens at `path`, replacing a stale socket file (one nobody answers on).
    /// Throws EADDRINUSE when another process is listening there. [control]
    public static func listen(path: String, backlog: Int32 = 128, mode: mode_t = 0o600) throws(Errno) -> UnixSocket {
        let fd = try retryingOnInterrupt { socket(AF_UNIX, Int32(SOCK_STREAM.rawValue) | Int32(SOCK_CLOEXEC.rawValue) | Int32(SOCK_NONBLOCK.rawValue), 0) }
        let sock = UnixSocket(adopting: fd)
        var addr = try makeAddress(path)
        if (try? UnixSocket.connect(path: path)) != nil { throw Errno(rawValue: EADDRINUSE) }
        unlink(path)
        _ = try retryingOnInterrupt {
            withUnsafePointer(to: &addr) { p in
                p.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(fd, $0, socklen_t(MemoryLayout<sockaddr_un>.size)) }
            }
        }
        chmod(path, mode)
        _ = try retryingOnInterrupt { Glibc.listen(fd, backlog) }
        return sock
    }

    /// Connects to the socket at `path` (blocking). [control]
    public static func connect(path: String) throws(Errno) -> UnixSocket {
        let fd = try retryingOnInterrupt { socket(AF_UNIX, Int32(SOCK_STREAM.rawValue) | Int32(SOCK_CLOEXEC.rawValue), 0) }
        let sock = UnixSocket(adopting: fd)
        var addr = try makeAddress(path)
        _ = try retryingOnInterrupt {
            withUnsafePointer(to: &addr) { p in
                p.withMemoryRebound(to: sockaddr.self, capacity: 1) { Glibc.connect(fd, $0, socklen_t(MemoryLayout<sockaddr_un>.size)) }
            }
        }
        return sock
    }

    private static func makeAddress(_ path: String) throws(Errno) -> sockaddr_un {
        var addr = sockaddr_un()
        addr.sun_family = sa_family_t(AF_UNIX)
        let bytes = Array(path.utf8)
        let capacity = MemoryLayout.size(ofValue: addr.sun_path)
        guard bytes.count < capacity else { throw Errno(rawValue: ENAMETOOLONG) }
        withUnsafeMutableBytes(of: &addr.sun_path) { raw in
            for (i, b) in bytes.enumerated() { raw[i] = b }
            raw[bytes.count] = 0
        }
        return addr
    }

    /// Accepts one pending connection, non-blocking and CLOEXEC; nil when none is pending.
    public func accept() throws(Errno) -> UnixSocket? {
        let fd = sluice_accept4(self.fd)
        if fd < 0 {
            let err = Errno.current
            if err == .wouldBlock || err == .interrupted || err.rawValue == ECONNABORTED { return nil }
            throw err
        }
        return UnixSocket(adopting: fd)
    }

    /// The peer's pid, uid and gid as the kernel recorded them at connect time.
    public func peerCredentials() throws(Errno) -> PeerCredentials {
        var pid: pid_t = 0, uid: uid_t = 0, gid: gid_t = 0
        _ = try retryingOnInterrupt { sluice_peercred(fd, &pid, &uid, &gid) }
        return PeerCredentials(pid: pid, uid: uid, gid: gid)
    }

    /// Reads up to `count` bytes. Returns nil on EAGAIN, an empty array at end of stream.
    public func read(upTo count: Int) throws(Errno) -> [UInt8]? {
        var buffer = [UInt8](repeating: 0, count: count)
        let n = buffer.withUnsafeMutableBytes { Glibc.read(fd, $0.baseAddress, count) }
        if n < 0 {
            let err = Errno.current
            if err == .wouldBlock || err == .interrupted { return nil }
            throw err
        }
        buffer.removeSubrange(n...)
        return buffer
    }

    /// Reads up to `count` bytes and any fds passed with them (SCM_RIGHTS, received CLOEXEC).
    /// Returns nil on EAGAIN, empty bytes at end of stream. More than `maxFDs` fds, or fds the
    /// kernel had to drop, throw EPROTO: every received fd is closed in that case. [control]
    public func receive(upTo count: Int, maxFDs: Int = 4) throws(Errno) -> (bytes: [UInt8], fds: [Int32])? {
        var buffer = [UInt8](repeating: 0, count: count)
        var fds = [Int32](repeating: -1, count: max(maxFDs, 1))
        var nfds: Int32 = 0, truncated: Int32 = 0
        let n = buffer.withUnsafeMutableBytes { raw in
            fds.withUnsafeMutableBufferPointer { sluice_recv_fds(fd, $0.baseAddress, Int32(maxFDs), &nfds, raw.baseAddress, count, &truncated) }
        }
        if n < 0 {
            let err = Errno.current
            if err == .wouldBlock || err == .interrupted { return nil }
            throw err
        }
        let received = Array(fds[0..<Int(nfds)])
        if truncated != 0 {
            for f in received { Glibc.close(f) }
            throw Errno(rawValue: EPROTO)
        }
        buffer.removeSubrange(n...)
        return (buffer, received)
    }

    /// Sends `bytes` with `fds` attached (SCM_RIGHTS) in one sendmsg; returns bytes written
    /// (0 on EAGAIN: nothing was sent, the fds were not passed). [control]
    public func send(_ bytes: UnsafeRawBufferPointer, fds: [Int32]) throws(Errno) -> Int {
        let n = fds.withUnsafeBufferPointer { sluice_send_fds(fd, $0.baseAddress, Int32(fds.count), bytes.baseAddress, bytes.count) }
        if n < 0 {
            let err = Errno.current
            if err == .wouldBlock || err == .interrupted { return 0 }
            throw err
        }
        return n
    }

    /// Writes as much of `bytes` as the socket takes now; returns the count written (0 on EAGAIN).
    public func write(_ bytes: UnsafeRawBufferPointer) throws(Errno) -> Int {
        let n = Glibc.send(fd, bytes.baseAddress, bytes.count, Int32(MSG_NOSIGNAL))
        if n < 0 {
            let err = Errno.current
            if err == .wouldBlock || err == .interrupted { return 0 }
            throw err
        }
        return n
    }

    /// Writes all of `bytes`, blocking (for a blocking socket such as a CLI's). [control]
    public func writeAll(_ bytes: [UInt8]) throws(Errno) {
        var offset = 0
        while offset < bytes.count {
            let n = bytes.withUnsafeBytes { raw in Glibc.send(fd, raw.baseAddress! + offset, raw.count - offset, Int32(MSG_NOSIGNAL)) }
            if n < 0 {
                let err = Errno.current
                if err == .interrupted { continue }
                throw err
            }
            offset += n
        }
    }

    deinit { close(fd) }
}
