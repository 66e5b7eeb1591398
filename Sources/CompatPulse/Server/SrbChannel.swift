import Atomics
import PulseWire
import Glibc
import SluiceSystem

/// The srbchannel (protocol ≥ 30): a pair of single-producer/single-consumer byte rings in one
/// shared block, through which the client and the server exchange their pstream frames instead
/// of the socket, with two eventfds as wake-up semaphores. Layout, handshake and semaphore rules:
/// pulse-native-protocol.md §10.4 and Docs/pulse-compat.md.
///
/// Security: the block is a memfd created for this one client (sealed against shrink and grow,
/// so neither side can make the other's mapping fault), and everything in it is the client's to
/// scribble on. We therefore keep the geometry (capacity, ring offsets) and our ring indices in
/// private memory, never re-read them from the block, and check every shared counter we load:
/// a count outside 0...capacity is a protocol violation. Bytes read from the ring go through the
/// same bounds-checked frame parser as bytes from the socket. Reading is bounded per wake-up so
/// a client that writes without pause cannot monopolise the control thread. [control]
final class SrbChannel {
    static let byteCount = 65_536
    /// 44 header bytes rounded up to pointer size (both peers are 64-bit processes on this host).
    static let headerSize = 48
    /// At most this much is taken from the receive ring per wake-up (then we yield to others).
    static let maxReadPerWakeup = 256 * 1024

    let mapping: SharedMapping
    let shmID: UInt32
    /// Blocks in SHMRELEASE are identified by id; ours never collides with record-pool ids (≥ 1).
    static let blockID: UInt32 = 0
    /// The client posts here when it wrote to our receive ring, or freed space in a full send ring.
    let readSemaphore: EventFD
    /// We post here when we wrote to the send ring, or freed space in a full receive ring.
    let writeSemaphore: EventFD
    let capacity: Int
    private let receiveRing: UnsafeMutableRawPointer
    private let sendRing: UnsafeMutableRawPointer
    private var readIndex = 0
    private var writeIndex = 0

    // Shared counters (offsets from the block start). The client owns the other ends.
    private let receiveCount: UnsafeAtomic<Int32>     // 0: bytes queued in the receive ring
    private let sendCount: UnsafeAtomic<Int32>        // 4: bytes queued in the send ring
    private let readWaiting: UnsafeAtomic<Int32>      // 8: our read semaphore
    private let readSignalled: UnsafeAtomic<Int32>    // 12
    private let readInPipe: UnsafeAtomic<Int32>       // 16
    private let writeWaiting: UnsafeAtomic<Int32>     // 20: the client's read semaphore
    private let writeSignalled: UnsafeAtomic<Int32>   // 24
    private let writeInPipe: UnsafeAtomic<Int32>      // 28

    /// Creates the block for `clientIndex`. Returns it with the memfd to hand to the client once
    /// (the caller passes it with REGISTER_MEMFD_SHMID, which closes it).
    static func create(clientIndex: UInt32) throws(Errno) -> (channel: SrbChannel, memfd: Int32) {
        let (mapping, fd) = try SealedMemFD.createExported(name: "sluice-client-\(clientIndex)-srbchannel", byteCount: byteCount)
        do {
            let channel = try SrbChannel(mapping: mapping)
            return (channel, fd)
        } catch {
            close(fd)
            throw error
        }
    }

    private init(mapping: SharedMapping) throws(Errno) {
        self.mapping = mapping
        shmID = UInt32.random(in: 1...UInt32.max)
        readSemaphore = try EventFD()
        writeSemaphore = try EventFD()
        let base = mapping.base
        capacity = (Self.byteCount - Self.headerSize) / 2
        receiveRing = base + Self.headerSize
        sendRing = base + Self.headerSize + capacity
        func atomic(_ offset: Int) -> UnsafeAtomic<Int32> {
            UnsafeAtomic(at: (base + offset).assumingMemoryBound(to: Int32.AtomicRepresentation.self))
        }
        receiveCount = atomic(0)
        sendCount = atomic(4)
        readWaiting = atomic(8)
        readSignalled = atomic(12)
        readInPipe = atomic(16)
        writeWaiting = atomic(20)
        writeSignalled = atomic(24)
        writeInPipe = atomic(28)
        // The header the client reads once: capacity and the two ring offsets (native endian).
        base.storeBytes(of: Int32(capacity), toByteOffset: 32, as: Int32.self)
        base.storeBytes(of: Int32(Self.headerSize), toByteOffset: 36, as: Int32.self)
        base.storeBytes(of: Int32(Self.headerSize + capacity), toByteOffset: 40, as: Int32.self)
        // We poll our read semaphore all the time, so the client must always write the eventfd
        // when it signals: we are permanently "waiting".
        readWaiting.store(1, ordering: .releasing)
    }

    /// Why a ring operation gave up on the client.
    struct Violation: Error, CustomStringConvertible {
        let description: String
    }

    /// Takes what the client queued into `input` (at most `maxReadPerWakeup` bytes). Returns
    /// true when bytes remain (the caller comes back later; we re-arm our own semaphore).
    func read(into input: inout [UInt8]) throws(Violation) -> Bool {
        // Acknowledge the wake-up before looking at the ring: a post that comes after this
        // point sets `signalled` again and writes the eventfd, so nothing is missed.
        let drained = readSemaphore.drain()
        if drained > 0 { readInPipe.wrappingDecrement(by: Int32(truncatingIfNeeded: drained), ordering: .relaxed) }
        _ = readSignalled.compareExchange(expected: 1, desired: 0, ordering: .acquiringAndReleasing)
        var taken = 0
        while taken < Self.maxReadPerWakeup {
            let queued = Int(receiveCount.load(ordering: .acquiring))
            guard queued >= 0, queued <= capacity else { throw Violation(description: "srbchannel count \(queued) outside 0...\(capacity)") }
            if queued == 0 { return false }
            let chunk = min(queued, capacity - readIndex)
            input.append(contentsOf: UnsafeRawBufferPointer(start: receiveRing + readIndex, count: chunk))
            let before = Int(receiveCount.loadThenWrappingDecrement(by: Int32(chunk), ordering: .acquiringAndReleasing))
            readIndex = (readIndex + chunk) % capacity
            taken += chunk
            if before >= capacity { post() }   // the ring was full: the client may wait for space
        }
        readSemaphore.signal()   // more is queued: come back on the next loop iteration
        return true
    }

    /// Copies as much of `bytes` as fits into the send ring and wakes the client. Returns the
    /// number of bytes taken.
    func write(_ bytes: UnsafeRawBufferPointer) throws(Violation) -> Int {
        var written = 0
        while written < bytes.count {
            let queued = Int(sendCount.load(ordering: .acquiring))
            guard queued >= 0, queued <= capacity else { throw Violation(description: "srbchannel count \(queued) outside 0...\(capacity)") }
            let n = min(capacity - writeIndex, capacity - queued, bytes.count - written)
            if n == 0 { break }
            (sendRing + writeIndex).copyMemory(from: bytes.baseAddress! + written, byteCount: n)
            sendCount.wrappingIncrement(by: Int32(n), ordering: .releasing)
            writeIndex = (writeIndex + n) % capacity
            written += n
        }
        if written > 0 { post() }
        return written
    }

    /// Posts the client's read semaphore: sets `signalled` and writes the eventfd only when it
    /// was clear and the client is waiting, as the client's side expects.
    private func post() {
        guard writeSignalled.compareExchange(expected: 0, desired: 1, ordering: .acquiringAndReleasing).exchanged else { return }
        if writeWaiting.load(ordering: .acquiring) != 0 {
            writeInPipe.wrappingIncrement(by: 1, ordering: .releasing)
            writeSemaphore.signal()
        }
    }

    /// The block's reference frame that follows ENABLE_SRBCHANNEL: channel 0, offset 0, flags
    /// SHMDATA | MEMFD_BLOCK | SHMWRITABLE, payload (block id, shm id, index, length).
    var referenceFrame: [UInt8] {
        var out: [UInt8] = []
        FrameHeader(length: 16, channel: 0, offset: 0, flags: 0xA080_0000).encode(into: &out)
        for v in [Self.blockID, shmID, 0, UInt32(Self.byteCount)] {
            out += [UInt8(v >> 24), UInt8((v >> 16) & 0xFF), UInt8((v >> 8) & 0xFF), UInt8(v & 0xFF)]
        }
        return out
    }
}
