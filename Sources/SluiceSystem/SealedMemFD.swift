import CSluiceShim
import Glibc

/// Seals a memfd can carry (`F_SEAL_*`).
public struct MemFDSeals: OptionSet, Sendable, Hashable, CustomStringConvertible {
    public let rawValue: Int32
    public init(rawValue: Int32) { self.rawValue = rawValue }
    public static let seal = MemFDSeals(rawValue: SLUICE_F_SEAL_SEAL)
    public static let shrink = MemFDSeals(rawValue: SLUICE_F_SEAL_SHRINK)
    public static let grow = MemFDSeals(rawValue: SLUICE_F_SEAL_GROW)
    public static let write = MemFDSeals(rawValue: SLUICE_F_SEAL_WRITE)
    public static let futureWrite = MemFDSeals(rawValue: SLUICE_F_SEAL_FUTURE_WRITE)
    public static let exec = MemFDSeals(rawValue: SLUICE_F_SEAL_EXEC)
    /// What every pool of ours carries: its size can never change again.
    public static let fixedSize: MemFDSeals = [.shrink, .grow, .seal]

    /// Names as in fcntl(2), e.g. `["seal", "shrink", "grow"]`.
    public var names: [String] {
        var out: [String] = []
        if contains(.seal) { out.append("seal") }
        if contains(.shrink) { out.append("shrink") }
        if contains(.grow) { out.append("grow") }
        if contains(.write) { out.append("write") }
        if contains(.futureWrite) { out.append("future-write") }
        if contains(.exec) { out.append("exec") }
        return out
    }
    public var description: String { names.joined(separator: "|") }
}

/// Reads the seals of any fd (`fcntl(F_GET_SEALS)`). [control]
/// Throws EINVAL for an fd that is not a memfd.
public func memfdSeals(of fd: Int32) throws(Errno) -> MemFDSeals {
    MemFDSeals(rawValue: try retryingOnInterrupt { sluice_get_seals(fd) })
}

/// A memfd whose size can no longer change: created, sized and sealed against
/// shrink, grow and further sealing before anyone else can see it. [control]
///
/// Non-copyable so that the fd has exactly one owner; `map()` consumes it and closes
/// the fd right after `mmap`, so "fd closed as soon as mapped" is enforced by the compiler.
public struct SealedMemFD: ~Copyable {
    public let byteCount: Int
    public let seals: MemFDSeals
    /// The raw fd, for passing to a peer over SCM_RIGHTS before mapping.
    public let fd: Int32

    /// Wraps `memfd_create(MFD_CLOEXEC | MFD_ALLOW_SEALING)`, `ftruncate`, `F_ADD_SEALS`.
    /// Throws the errno of the failing step (EMFILE, ENOMEM, ...).
    public static func create(name: String, byteCount: Int) throws(Errno) -> SealedMemFD {
        precondition(byteCount > 0, "a pool must have a size")
        let fd = try retryingOnInterrupt { sluice_memfd_create(name, UInt32(SLUICE_MFD_CLOEXEC | SLUICE_MFD_ALLOW_SEALING)) }
        do throws(Errno) {
            _ = try retryingOnInterrupt { ftruncate(fd, off_t(byteCount)) }
            _ = try retryingOnInterrupt { sluice_add_seals(fd, MemFDSeals.fixedSize.rawValue) }
            let got = try memfdSeals(of: fd)
            return SealedMemFD(byteCount: byteCount, seals: got, fd: fd)
        } catch {
            Glibc.close(fd)
            throw error
        }
    }

    /// Creates a pool to share with one peer: sized, mapped read-write here, then sealed against
    /// shrink, grow and further seals, plus `extraSeals` (e.g. `.futureWrite` so the peer can only
    /// map it read-only — libpulse maps imported pools read-write, so the pulse server can't).
    /// Returns our mapping and the fd to pass to the peer; the caller closes the fd right after
    /// sending it. [control]
    public static func createExported(name: String, byteCount: Int, extraSeals: MemFDSeals = []) throws(Errno) -> (mapping: SharedMapping, fd: Int32) {
        let fd = try retryingOnInterrupt { sluice_memfd_create(name, UInt32(SLUICE_MFD_CLOEXEC | SLUICE_MFD_ALLOW_SEALING)) }
        do throws(Errno) {
            _ = try retryingOnInterrupt { ftruncate(fd, off_t(byteCount)) }
            let base = mmap(nil, byteCount, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0)
            guard let base, base != MAP_FAILED else { throw Errno.current }
            // FUTURE_WRITE (if asked) keeps our existing writable mapping working and refuses any new one.
            let wanted: MemFDSeals = MemFDSeals.fixedSize.union(extraSeals)
            if sluice_add_seals(fd, wanted.rawValue) != 0 {
                let e = Errno.current
                munmap(base, byteCount)
                throw e
            }
            let got = try memfdSeals(of: fd)
            return (SharedMapping(base: base, byteCount: byteCount, seals: got), fd)
        } catch {
            Glibc.close(fd)
            throw error
        }
    }

    /// Adopts a memfd received from a peer: adds our own shrink/grow seals (so the peer can
    /// never truncate it under a mapping of ours, which would raise SIGBUS), checks them with
    /// `F_GET_SEALS`, and checks its size. Closes the fd on failure. [control]
    /// Throws EPERM when the peer did not allow sealing; the caller then must not map it.
    public static func adoptPeer(fd: Int32, expectedByteCount: Int?) throws(Errno) -> SealedMemFD {
        do throws(Errno) {
            var current = try memfdSeals(of: fd)
            let wanted: MemFDSeals = [.shrink, .grow]
            if !current.isSuperset(of: wanted) {
                _ = try retryingOnInterrupt { sluice_add_seals(fd, wanted.rawValue) }
                current = try memfdSeals(of: fd)
            }
            guard current.isSuperset(of: wanted) else { throw Errno.permissionDenied }
            var st = stat()
            _ = try retryingOnInterrupt { fstat(fd, &st) }
            let size = Int(st.st_size)
            if let expectedByteCount, expectedByteCount > size { throw Errno.invalidArgument }
            guard size > 0 else { throw Errno.invalidArgument }
            return SealedMemFD(byteCount: size, seals: current, fd: fd)
        } catch {
            Glibc.close(fd)
            throw error
        }
    }

    /// Maps the whole memfd shared (read-write, or read-only for a peer's pool we only read)
    /// and closes the fd. [control]
    public consuming func map(readOnly: Bool = false) throws(Errno) -> SharedMapping {
        let base = mmap(nil, byteCount, readOnly ? PROT_READ : PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0)
        let err = Errno.current
        Glibc.close(fd)
        let count = byteCount, sealed = seals
        discard self
        guard let base, base != MAP_FAILED else { throw err }
        return SharedMapping(base: base, byteCount: count, seals: sealed)
    }

    /// Closes the fd without mapping.
    public consuming func close() {
        Glibc.close(fd)
        discard self
    }

    deinit { Glibc.close(fd) }
}

/// A shared mapping of a sealed memfd; unmapped when released. [control]
/// The fd is already closed: the only handle on the memory is this mapping.
public final class SharedMapping: @unchecked Sendable {
    // @unchecked: base/byteCount are immutable; the memory's users coordinate access
    // (the pool hands out disjoint slices; see BufferPool).
    public let base: UnsafeMutableRawPointer
    public let byteCount: Int
    public let seals: MemFDSeals

    init(base: UnsafeMutableRawPointer, byteCount: Int, seals: MemFDSeals) {
        self.base = base
        self.byteCount = byteCount
        self.seals = seals
    }

    /// The address range as /proc/PID/maps and /proc/PID/map_files name it ("start-end", hex).
    public var procMapName: String {
        let start = UInt(bitPattern: base)
        return String(start, radix: 16) + "-" + String(start + UInt(byteCount), radix: 16)
    }

    deinit { munmap(base, byteCount) }
}
