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

/// A single-producer single-consumer ring of float samples, for moving audio between the RT
/// thread and a helper thread (file I/O). [rt on both ends]
public final class SampleRing: @unchecked Sendable {
    // @unchecked: one writer thread, one reader thread; indices published with release/acquire.
    @usableFromInline let storage: UnsafeMutablePointer<Float>
    public let capacity: Int
    @usableFromInline let readIndex = ManagedAtomic<Int>(0)
    @usableFromInline let writeIndex = ManagedAtomic<Int>(0)

    public init(capacity: Int) {
        self.capacity = capacity
        // Left uninitialized (Float is trivial; a slot is read only after it was written), so
        // an idle ring costs address space, not resident memory.
        storage = .allocate(capacity: capacity)
    }

    /// [rt] Samples that can be read now.
    @inlinable public var readableCount: Int { writeIndex.load(ordering: .acquiring) - readIndex.load(ordering: .relaxed) }
    /// [rt] Samples that can be written now.
    @inlinable public var writableCount: Int { capacity - (writeIndex.load(ordering: .relaxed) - readIndex.load(ordering: .acquiring)) }

    /// [rt] Writes up to `count` samples; returns how many were written.
    @inlinable @discardableResult
    public func write(_ source: UnsafePointer<Float>, count: Int) -> Int {
        produce(count: count) { destination, offset, length in destination.update(from: source + offset, count: length) }
    }

    /// [rt] Reads up to `count` samples; returns how many were read.
    @inlinable @discardableResult
    public func read(into destination: UnsafeMutablePointer<Float>, count: Int) -> Int {
        consume(count: count) { source, offset, length in (destination + offset).update(from: source, count: length) }
    }

    /// [rt] Writes up to `count` samples in place: `body(destination, offset, length)` fills
    /// each contiguous free region (at most two) with the samples `offset..<offset+length` of
    /// what is being written. Returns how many were written. With a capacity and counts that
    /// are multiples of a frame, every region holds whole frames.
    @inlinable @discardableResult
    public func produce(count: Int, _ body: (UnsafeMutablePointer<Float>, Int, Int) -> Void) -> Int {
        let w = writeIndex.load(ordering: .relaxed)
        let r = readIndex.load(ordering: .acquiring)
        let n = min(count, capacity - (w - r))
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
    public func consume(count: Int, _ body: (UnsafePointer<Float>, Int, Int) -> Void) -> Int {
        let r = readIndex.load(ordering: .relaxed)
        let w = writeIndex.load(ordering: .acquiring)
        let n = min(count, w - r)
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

    deinit { storage.deallocate() }
}
