import CSluiceShim
import Glibc
import SluiceSystem
import Testing

/// The inode behind `fd`, or nil when the fd is closed. Parallel tests may reuse a closed fd's
/// number at any moment, so "closed" means "no longer refers to that inode".
func inode(of fd: Int32) -> UInt? {
    var st = stat()
    return fstat(fd, &st) == 0 ? UInt(st.st_ino) : nil
}

@Suite("system wrappers, on real fds")
struct SystemTests {
    @Test("a created memfd is sealed against shrink, grow and further seals before it is returned")
    func createdMemfdIsSealed() throws {
        let m = try SealedMemFD.create(name: "test", byteCount: 4096)
        #expect(m.seals.isSuperset(of: .fixedSize))
        #expect(ftruncate(m.fd, 8192) == -1 && errno == EPERM)
        #expect(sluice_add_seals(m.fd, SLUICE_F_SEAL_WRITE) == -1 && errno == EPERM)
        let map = try m.map()
        map.base.storeBytes(of: 42, as: UInt8.self)
        #expect(map.base.load(as: UInt8.self) == 42)
        #expect(map.byteCount == 4096)
    }

    @Test("mapping consumes the memfd: its fd is closed right after mmap")
    func mapClosesFD() throws {
        let m = try SealedMemFD.create(name: "test", byteCount: 4096)
        let fd = m.fd
        let ino = inode(of: fd)
        _ = try m.map()
        #expect(ino != nil && inode(of: fd) != ino)
    }

    @Test("a peer's memfd that allows sealing is sealed by us on adoption; the peer can no longer truncate it")
    func adoptPeerSeals() throws {
        let peer = sluice_memfd_create("peer", UInt32(SLUICE_MFD_CLOEXEC | SLUICE_MFD_ALLOW_SEALING))
        #expect(ftruncate(peer, 65536) == 0)
        let ours = dup(peer)
        let adopted = try SealedMemFD.adoptPeer(fd: ours, expectedByteCount: 65536)
        #expect(adopted.seals.isSuperset(of: [.shrink, .grow]))
        #expect(ftruncate(peer, 0) == -1 && errno == EPERM)
        close(peer)
        _ = try adopted.map()
    }

    @Test("a peer's memfd that forbids sealing is refused with EPERM and its fd closed")
    func adoptPeerRefusesUnsealable() throws {
        let peer = sluice_memfd_create("peer", UInt32(SLUICE_MFD_CLOEXEC))
        #expect(ftruncate(peer, 4096) == 0)
        let ours = dup(peer)
        let ino = inode(of: ours)
        #expect(throws: Errno.permissionDenied) { _ = try SealedMemFD.adoptPeer(fd: ours, expectedByteCount: nil) }
        #expect(ino != nil && inode(of: ours) != ino)
        close(peer)
    }

    @Test("an eventfd counts signals and drains to zero")
    func eventFD() throws {
        let e = try EventFD()
        #expect(e.drain() == 0)
        e.signal(); e.signal()
        #expect(e.drain() == 2)
    }

    @Test("an absolute periodic timer reports every tick that passed, including missed ones")
    func timerCountsTicks() throws {
        let t = try TimerFD()
        t.arm(firstNanos: monotonicNanos(), periodNanos: 1_000_000)
        usleep(20_500)
        let n = t.expirations()
        #expect(n >= 15 && n <= 40)
        t.disarm()
        usleep(3000)
        _ = t.expirations()
        usleep(3000)
        #expect(t.expirations() == 0)
    }

    @Test("a unix socket pair passes peer credentials and data")
    func unixSockets() throws {
        let path = "/tmp/sluice-sock-\(getpid())"
        let l = try UnixSocket.listen(path: path)
        defer { unlink(path) }
        let c = try UnixSocket.connect(path: path)
        var accepted: UnixSocket?
        for _ in 0..<100 where accepted == nil { accepted = try l.accept(); if accepted == nil { usleep(1000) } }
        let s = try #require(accepted)
        let cred = try s.peerCredentials()
        #expect(cred.pid == getpid() && cred.uid == getuid())
        try c.writeAll([1, 2, 3])
        usleep(1000)
        #expect(try s.read(upTo: 16) == [1, 2, 3])
        #expect(throws: Errno(rawValue: EADDRINUSE)) { _ = try UnixSocket.listen(path: path) }
    }

    @Test("a thread asks for SCHED_FIFO and reports what it got")
    func realtimeThread() throws {
        let t = RealtimeThread()
        try t.start(name: "t", priority: 10) {}
        t.join()
        if getuid() == 0 { #expect(t.policy == .fifo(priority: 10)) } else { #expect(t.policy == .other) }
    }
}
