import SluiceSystem

/// Who a pool belongs to. A pool is never shared across domains.
public enum SecurityDomain: Sendable, Hashable, CustomStringConvertible {
    case daemon
    case client(id: UInt32)
    public var description: String {
        switch self {
        case .daemon: "daemon"
        case .client(let id): "client-\(id)"
        }
    }
}

/// Introspection of one pool.
public struct PoolInfo: Sendable, Equatable {
    public let id: Int
    public let domain: SecurityDomain
    public let purpose: String
    public let byteCount: Int
    public let seals: MemFDSeals
    /// "start-end" as /proc/PID/maps names the mapping.
    public let mapping: String
    public let slotCount: Int
    public let slotsInUse: Int

    public init(id: Int, domain: SecurityDomain, purpose: String, byteCount: Int, seals: MemFDSeals, mapping: String, slotCount: Int, slotsInUse: Int) {
        self.id = id
        self.domain = domain
        self.purpose = purpose
        self.byteCount = byteCount
        self.seals = seals
        self.mapping = mapping
        self.slotCount = slotCount
        self.slotsInUse = slotsInUse
    }
}

/// A sealed memfd carved into fixed slots of `slotByteCount` (a multiple of 64, so every
/// slot is 64-byte aligned). [control] Allocation and release run on the control thread only.
public final class MemoryPool {
    public let id: Int
    public let domain: SecurityDomain
    public let purpose: String
    public let slotByteCount: Int
    public let slotCount: Int
    let mapping: SharedMapping
    private var freeSlots: [Int]

    static let alignment = 64

    /// Creates, sizes and seals the memfd, maps it and closes the fd.
    public init(id: Int, domain: SecurityDomain, purpose: String, slotByteCount: Int, slotCount: Int) throws(Errno) {
        precondition(slotByteCount > 0 && slotCount > 0)
        let aligned = (slotByteCount + Self.alignment - 1) / Self.alignment * Self.alignment
        let memfd = try SealedMemFD.create(name: "sluice-\(domain)-\(purpose)-\(id)", byteCount: aligned * slotCount)
        self.mapping = try memfd.map()
        self.id = id
        self.domain = domain
        self.purpose = purpose
        self.slotByteCount = aligned
        self.slotCount = slotCount
        self.freeSlots = Array((0..<slotCount).reversed())
    }

    public var hasFreeSlot: Bool { !freeSlots.isEmpty }

    /// A zeroed slot, or nil when the pool is full.
    func allocateSlot() -> UnsafeMutableRawPointer? {
        guard let index = freeSlots.popLast() else { return nil }
        let p = mapping.base + index * slotByteCount
        p.initializeMemory(as: UInt8.self, repeating: 0, count: slotByteCount)
        return p
    }

    func release(_ pointer: UnsafeMutableRawPointer) {
        let offset = pointer - mapping.base
        precondition(offset >= 0 && offset % slotByteCount == 0 && offset / slotByteCount < slotCount, "bug: slot not from this pool")
        freeSlots.append(offset / slotByteCount)
    }

    public var info: PoolInfo {
        PoolInfo(id: id, domain: domain, purpose: purpose, byteCount: mapping.byteCount, seals: mapping.seals,
                 mapping: mapping.procMapName, slotCount: slotCount, slotsInUse: slotCount - freeSlots.count)
    }
}

/// One port buffer: a slot of a pool, returned to it when the last plan using it is released
/// (on the control thread: plans are only ever released there).
public final class PortBuffer: @unchecked Sendable {
    // @unchecked: `pointer` is immutable; the samples are written by the RT thread only while a
    // plan that holds this buffer is current, and the pool is touched only by the control thread.
    public let pointer: UnsafeMutablePointer<Float>
    public let frameCount: Int
    private let pool: MemoryPool

    init(pool: MemoryPool, raw: UnsafeMutableRawPointer, frameCount: Int) {
        self.pool = pool
        self.pointer = raw.bindMemory(to: Float.self, capacity: frameCount)
        self.frameCount = frameCount
    }

    deinit { pool.release(UnsafeMutableRawPointer(pointer)) }
}

/// The daemon-domain pools holding port buffers; grows by whole sealed pools. [control]
public final class BufferAllocator {
    public let frameCount: Int
    public let domain: SecurityDomain
    private(set) var pools: [MemoryPool] = []
    private let slotsPerPool: Int
    private let nextPoolID: () -> Int

    public init(domain: SecurityDomain, frameCount: Int, slotsPerPool: Int = 64, nextPoolID: @escaping () -> Int) {
        self.domain = domain
        self.frameCount = frameCount
        self.slotsPerPool = slotsPerPool
        self.nextPoolID = nextPoolID
    }

    /// A zeroed buffer of `frameCount` floats, 64-byte aligned, from a sealed pool.
    public func allocate() throws(GraphError) -> PortBuffer {
        for pool in pools where pool.hasFreeSlot {
            if let raw = pool.allocateSlot() { return PortBuffer(pool: pool, raw: raw, frameCount: frameCount) }
        }
        let pool: MemoryPool
        do {
            pool = try MemoryPool(id: nextPoolID(), domain: domain, purpose: "buffers",
                                  slotByteCount: GraphFormat.byteCount(frameCount: frameCount), slotCount: slotsPerPool)
        } catch {
            throw .resourceFailure(what: "create a sealed memfd pool", errno: error)
        }
        pools.append(pool)
        guard let raw = pool.allocateSlot() else { preconditionFailure("a new pool has free slots") }
        return PortBuffer(pool: pool, raw: raw, frameCount: frameCount)
    }

    public var poolInfos: [PoolInfo] { pools.map(\.info) }
}
