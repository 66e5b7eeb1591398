import Glibc
import Graph
import SluiceSystem

/// A pool a client registered with REGISTER_MEMFD_SHMID: sealed by us on receipt and mapped
/// read-only, or — when the client did not allow sealing — never mapped and read with pread, so
/// a client truncating its pool can never raise SIGBUS in the daemon. [control]
enum ImportedPool {
    case mapped(SharedMapping)
    case unsealable(fd: Int32, byteCount: Int)

    static let maxByteCount = 64 * 1024 * 1024

    /// Adopts `fd` (ownership passes in: it is closed once mapped, or kept for pread).
    static func adopt(fd: Int32) throws(Errno) -> ImportedPool {
        var st = stat()
        guard fstat(fd, &st) == 0 else { let e = Errno.current; close(fd); throw e }
        let size = Int(st.st_size)
        guard size > 0, size <= maxByteCount else { close(fd); throw Errno(rawValue: EFBIG) }
        guard (try? memfdSeals(of: fd)) != nil else { close(fd); throw Errno(rawValue: EINVAL) }   // not a memfd
        // adoptPeer closes the fd it is given whatever happens; keep a duplicate in case the
        // client forbade sealing (EPERM), which we then serve with pread.
        let spare = dup(fd)
        guard spare >= 0 else { let e = Errno.current; close(fd); throw e }
        do {
            let sealed = try SealedMemFD.adoptPeer(fd: fd, expectedByteCount: nil)
            close(spare)
            return .mapped(try sealed.map(readOnly: true))
        } catch {
            if error == .permissionDenied { return .unsealable(fd: spare, byteCount: size) }
            close(spare)
            throw error
        }
    }

    /// Copies `length` bytes at `offset`, or nil when they are not inside the pool (checked
    /// every time: a client can shrink an unsealable pool at any moment).
    func read(offset: Int, length: Int) -> [UInt8]? {
        guard offset >= 0, length >= 0 else { return nil }
        switch self {
        case .mapped(let m):
            guard offset <= m.byteCount, length <= m.byteCount - offset else { return nil }
            return Array(UnsafeRawBufferPointer(start: m.base + offset, count: length))
        case .unsealable(let fd, _):
            var out = [UInt8](repeating: 0, count: length)
            let n = out.withUnsafeMutableBytes { pread(fd, $0.baseAddress, length, off_t(offset)) }
            return n == length ? out : nil
        }
    }

    /// Calls `body` with the `length` bytes at `offset` — a view into the sealed read-only
    /// mapping, or a pread copy for an unsealable pool. False (body not called) when they are not
    /// inside the pool.
    func withBytes(offset: Int, length: Int, _ body: (UnsafeRawBufferPointer) -> Void) -> Bool {
        guard offset >= 0, length >= 0 else { return false }
        switch self {
        case .mapped(let m):
            guard offset <= m.byteCount, length <= m.byteCount - offset else { return false }
            body(UnsafeRawBufferPointer(start: m.base + offset, count: length))
            return true
        case .unsealable:
            guard let copy = read(offset: offset, length: length) else { return false }
            copy.withUnsafeBytes(body)
            return true
        }
    }

    var byteCount: Int {
        switch self {
        case .mapped(let m): m.byteCount
        case .unsealable(_, let n): n
        }
    }

    func release() {
        if case .unsealable(let fd, _) = self { close(fd) }
    }
}

/// The pool the server writes record data into for one client: created for that client alone,
/// sealed (shrink, grow, future-write, seal) and never shared. Fixed slots of 64 KiB. [control]
final class ExportPool {
    static let slotSize = 65_536
    static let slotCount = 16
    let mapping: SharedMapping
    let shmID: UInt32
    private var free: [Int] = Array((0..<slotCount).reversed())
    private var inUse: [UInt32: Int] = [:]
    private var nextBlockID: UInt32 = 1

    init(mapping: SharedMapping, shmID: UInt32) {
        self.mapping = mapping
        self.shmID = shmID
    }

    /// Copies `bytes` (≤ slotSize) into a free slot; returns (block id, offset), or nil when every
    /// slot is still held by the client.
    func export(_ bytes: ArraySlice<UInt8>) -> (blockID: UInt32, offset: Int)? {
        guard bytes.count <= Self.slotSize, let slot = free.popLast() else { return nil }
        let offset = slot * Self.slotSize
        bytes.withUnsafeBytes { (mapping.base + offset).copyMemory(from: $0.baseAddress!, byteCount: $0.count) }
        let id = nextBlockID
        nextBlockID &+= 1
        inUse[id] = slot
        return (id, offset)
    }

    /// The client released a block (SHMRELEASE). Unknown ids are ignored.
    func release(blockID: UInt32) {
        if let slot = inUse.removeValue(forKey: blockID) { free.append(slot) }
    }

    var slotsInUse: Int { inUse.count }
}
