import Atomics

/// A bounded single-producer single-consumer ring of trivial values. [rt on both ends]
///
/// Storage is preallocated; push and pop never allocate, lock or block.
public final class SPSCRing<Element>: @unchecked Sendable {
    // @unchecked: exactly one thread pushes and one thread pops (the type can't express it);
    // slots are published with a release store of `tail` and consumed after an acquire load.
    @usableFromInline let storage: UnsafeMutablePointer<Element>
    @usableFromInline let mask: Int
    @usableFromInline let head = ManagedAtomic<Int>(0)   // next slot to pop (consumer-owned)
    @usableFromInline let tail = ManagedAtomic<Int>(0)   // next slot to push (producer-owned)

    /// `capacity` is rounded up to a power of two.
    public init(capacity: Int) {
        var c = 1
        while c < max(capacity, 2) { c <<= 1 }
        storage = .allocate(capacity: c)
        mask = c - 1
    }

    /// [rt] Appends `value`; false when full.
    @inlinable @discardableResult
    public func push(_ value: Element) -> Bool {
        let t = tail.load(ordering: .relaxed)
        let h = head.load(ordering: .acquiring)
        if t - h > mask { return false }
        (storage + (t & mask)).initialize(to: value)
        tail.store(t + 1, ordering: .releasing)
        return true
    }

    /// [rt] Removes the oldest value; nil when empty.
    @inlinable
    public func pop() -> Element? {
        let h = head.load(ordering: .relaxed)
        let t = tail.load(ordering: .acquiring)
        if h == t { return nil }
        let value = (storage + (h & mask)).move()
        head.store(h + 1, ordering: .releasing)
        return value
    }

    /// [rt] True when a push would fail (exact for the producer).
    @inlinable
    public var isFull: Bool { tail.load(ordering: .relaxed) - head.load(ordering: .acquiring) > mask }

    deinit {
        while pop() != nil {}
        storage.deallocate()
    }
}

/// A single-producer single-consumer ring of float samples.
public typealias SampleRing = Ring<Float>

/// A single-producer single-consumer ring of samples (float, or a client's s16), for moving
/// audio between the RT thread and another thread (file I/O, a pulse client's stream). [rt on
/// both ends]
///
/// The writer may also take back what it wrote and the reader has not reached (`rewind`), to
/// overwrite it — pulse seeks and flushes — without ever touching samples the reader may be
/// reading: see `rewind(to:)`.
public final class Ring<Element: BitwiseCopyable>: @unchecked Sendable {
    // @unchecked: one writer thread, one reader thread; indices published with release/acquire,
    // and sequentially consistent where `rewind` needs a store-load fence against the reader.
    @usableFromInline let storage: UnsafeMutablePointer<Element>
    public let capacity: Int
    @usableFromInline let readIndex = ManagedAtomic<Int>(0)
    @usableFromInline let writeIndex = ManagedAtomic<Int>(0)
    /// The end of what the reader is reading or has read (it claims before it reads).
    @usableFromInline let claimIndex = ManagedAtomic<Int>(0)

    public init(capacity: Int) {
        self.capacity = capacity
        // Left uninitialized (Float is trivial; a slot is read only after it was written), so
        // an idle ring costs address space, not resident memory.
        storage = .allocate(capacity: capacity)
    }

    /// [rt] Samples that can be read now.
    @inlinable public var readableCount: Int { max(writeIndex.load(ordering: .acquiring) - readIndex.load(ordering: .relaxed), 0) }
    /// [rt] Samples that can be written now.
    @inlinable public var writableCount: Int { capacity - max(writeIndex.load(ordering: .relaxed) - readIndex.load(ordering: .acquiring), 0) }
    /// Samples written since the ring was made (the writer's position), less what was rewound.
    @inlinable public var writePosition: Int { writeIndex.load(ordering: .relaxed) }
    /// Samples read since the ring was made (the reader's position).
    @inlinable public var readPosition: Int { readIndex.load(ordering: .acquiring) }

    /// [rt] Writes up to `count` samples; returns how many were written.
    @inlinable @discardableResult
    public func write(_ source: UnsafePointer<Element>, count: Int) -> Int {
        produce(count: count) { destination, offset, length in destination.update(from: source + offset, count: length) }
    }

    /// [rt] Reads up to `count` samples; returns how many were read.
    @inlinable @discardableResult
    public func read(into destination: UnsafeMutablePointer<Element>, count: Int) -> Int {
        consume(count: count) { source, offset, length in (destination + offset).update(from: source, count: length) }
    }

    /// [rt] Writes up to `count` samples in place: `body(destination, offset, length)` fills
    /// each contiguous free region (at most two) with the samples `offset..<offset+length` of
    /// what is being written. Returns how many were written. With a capacity and counts that
    /// are multiples of a frame, every region holds whole frames.
    @inlinable @discardableResult
    public func produce(count: Int, _ body: (UnsafeMutablePointer<Element>, Int, Int) -> Void) -> Int {
        var w = writeIndex.load(ordering: .relaxed)
        let r = readIndex.load(ordering: .acquiring)
        if w < r { w = r }      // a rewind raced with the reader, which went past: nothing to keep
        let n = max(min(count, capacity - (w - r)), 0)
        var i = 0
        var pos = w % capacity
        while i < n {
            let chunk = min(n - i, capacity - pos)
            body(storage + pos, i, chunk)
            i += chunk
            pos = 0
        }
        writeIndex.store(w + n, ordering: .releasing)
        return n
    }

    /// [rt] Reads up to `count` samples in place: `body(source, offset, length)` sees each
    /// contiguous readable region (at most two), `offset` counting from the first sample read.
    /// Returns how many were read (and released to the writer).
    @inlinable @discardableResult
    public func consume(count: Int, _ body: (UnsafePointer<Element>, Int, Int) -> Void) -> Int {
        let r = readIndex.load(ordering: .relaxed)
        var n = max(min(count, writeIndex.load(ordering: .acquiring) - r), 0)
        guard n > 0 else { return 0 }
        // Claim the samples about to be read, then look at the write index again: a writer's
        // `rewind` either sees the claim or is seen here (see `rewind`).
        claimIndex.store(r + n, ordering: .sequentiallyConsistent)
        n = max(min(n, writeIndex.load(ordering: .sequentiallyConsistent) - r), 0)
        var i = 0
        var pos = r % capacity
        while i < n {
            let chunk = min(n - i, capacity - pos)
            body(UnsafePointer(storage + pos), i, chunk)
            i += chunk
            pos = 0
        }
        readIndex.store(r + n, ordering: .releasing)
        return n
    }

    /// [writer] Takes back what was written from `position` on (an absolute sample index, as
    /// `writePosition`), so that the next `produce` overwrites it — but never a sample the reader
    /// has read or is reading: the position actually set is no earlier than that, and no later
    /// than the current write position. Returns it; `restore(to:)` puts back what the caller did
    /// not overwrite.
    ///
    /// Why it is safe: the reader claims what it is about to read, then reads the write index
    /// again; the writer publishes the shorter ring, then reads the claim (both store-load pairs
    /// sequentially consistent). Either the writer sees the claim and stays past it, or the
    /// reader sees the shorter ring and reads no further than its end.
    public func rewind(to position: Int) -> Int {
        let end = writeIndex.load(ordering: .relaxed)
        var target = min(position, end)
        while target < end {
            writeIndex.store(target, ordering: .sequentiallyConsistent)
            let taken = max(claimIndex.load(ordering: .sequentiallyConsistent), readIndex.load(ordering: .acquiring))
            if taken <= target { return target }
            // The reader has or may be reading past the target: hand those samples back (they
            // were not overwritten) and check again.
            target = min(taken, end)
        }
        writeIndex.store(end, ordering: .sequentiallyConsistent)
        return end
    }

    /// [rt] Writes up to `count` zero samples (silence, for float and signed integer samples).
    @inlinable @discardableResult
    public func produceZeros(count: Int) -> Int {
        produce(count: count) { destination, _, length in
            UnsafeMutableRawPointer(destination).initializeMemory(as: UInt8.self, repeating: 0, count: length * MemoryLayout<Element>.stride)
        }
    }

    /// [writer] After a `rewind`: moves the write position forward to `position` (no further
    /// than where it was before the rewind), exposing again the samples not overwritten.
    public func restore(to position: Int) {
        let w = writeIndex.load(ordering: .relaxed)
        if position > w { writeIndex.store(position, ordering: .releasing) }
    }

    deinit { storage.deallocate() }
}

/// What the writer of a pulse stream's ring needs whatever its sample type: positions, rewinds,
/// silence. [writer]
public protocol RewindableRing: AnyObject {
    var capacity: Int { get }
    var writePosition: Int { get }
    var readPosition: Int { get }
    var readableCount: Int { get }
    func rewind(to position: Int) -> Int
    func restore(to position: Int)
    @discardableResult func produceZeros(count: Int) -> Int
}

extension Ring: RewindableRing {}
