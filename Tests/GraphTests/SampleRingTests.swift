import Foundation
import Testing
import Graph

@Suite("SampleRing")
struct SampleRingTests {
    @Test("produce and consume hand over whole regions across the wrap, and a full ring refuses more")
    func wrap() {
        let ring = SampleRing(capacity: 8)
        var source: [Float] = [1, 2, 3, 4, 5, 6]
        #expect(source.withUnsafeBufferPointer { ring.write($0.baseAddress!, count: 6) } == 6)
        var out = [Float](repeating: 0, count: 8)
        #expect(out.withUnsafeMutableBufferPointer { ring.read(into: $0.baseAddress!, count: 4) } == 4)
        source = [7, 8, 9, 10, 11, 12, 13]
        #expect(source.withUnsafeBufferPointer { ring.write($0.baseAddress!, count: 7) } == 6)
        #expect(ring.readableCount == 8 && ring.writableCount == 0)
        #expect(out.withUnsafeMutableBufferPointer { ring.read(into: $0.baseAddress!, count: 8) } == 8)
        #expect(out == [5, 6, 7, 8, 9, 10, 11, 12])
    }

    @Test("a rewind overwrites what the reader has not reached, restore brings back the rest, and nothing already read is taken back")
    func rewindAndRestore() {
        let ring = SampleRing(capacity: 16)
        let source: [Float] = (0..<10).map(Float.init)
        source.withUnsafeBufferPointer { _ = ring.write($0.baseAddress!, count: 10) }
        var out = [Float](repeating: 0, count: 16)
        #expect(out.withUnsafeMutableBufferPointer { ring.read(into: $0.baseAddress!, count: 3) } == 3)
        // Back to 2: samples 0–2 were read, so the ring keeps them and starts at 3.
        #expect(ring.rewind(to: 2) == 3)
        ring.restore(to: 10)
        // Back to 5, overwrite two samples, restore the end: 5 and 6 are new, 7–9 the old ones.
        #expect(ring.rewind(to: 5) == 5)
        let new: [Float] = [-5, -6]
        new.withUnsafeBufferPointer { _ = ring.write($0.baseAddress!, count: 2) }
        ring.restore(to: 10)
        #expect(ring.writePosition == 10)
        #expect(out.withUnsafeMutableBufferPointer { ring.read(into: $0.baseAddress!, count: 16) } == 7)
        #expect(Array(out[0..<7]) == [3, 4, -5, -6, 7, 8, 9])
        // Nothing to read: a rewind goes no further back than the reader.
        #expect(ring.rewind(to: 0) == 10)
    }

    /// The reader checks, inside `consume`, that no sample changes while it holds it; the writer
    /// rewinds as close to the reader as it can and overwrites, as fast as it can. Every sample
    /// carries its position (negated once overwritten), so a slot read out of turn shows too.
    /// Both run on their own threads (not the test pool's), until the reader has read 50,000 times
    /// (reads that found something).
    @Test("under a racing reader, a rewind never touches samples being read and every sample read is the one for its position")
    func rewindRace() {
        let ring = SampleRing(capacity: 4096)
        let state = RaceState()
        let reader = Thread {
            var position = 0, changed = 0, misplaced = 0, rewritten = 0, reads = 0
            var before = [Float](repeating: 0, count: 64)
            while !state.stopped || ring.readableCount > 0 {
                let n = ring.consume(count: 64) { source, offset, length in
                    for i in 0..<length { before[i] = source[i] }
                    for _ in 0..<50 { _ = source[length / 2] }           // hold the samples a while
                    for i in 0..<length {
                        if source[i] != before[i] { changed += 1 }
                        if abs(before[i]) != Float(position + offset + i) { misplaced += 1 }
                        if before[i] < 0 { rewritten += 1 }
                    }
                }
                guard n > 0 else { continue }
                position += n
                reads += 1
                if reads % 100 == 0 { state.update(reads: reads) }
            }
            state.finish(reads: reads, changed: changed, misplaced: misplaced, rewritten: rewritten)
        }
        reader.start()
        var block = [Float](repeating: 0, count: 256)
        let deadline = Date().addingTimeInterval(30)
        while state.reads < 50_000 && Date() < deadline {
            // Append up to 256 samples carrying their positions.
            let w = ring.writePosition
            let room = min(ring.writableCount, 256)
            for i in 0..<room { block[i] = Float(w + i) }
            block.withUnsafeBufferPointer { _ = ring.write($0.baseAddress!, count: room) }
            // Then take back as much as possible and overwrite it with negated positions.
            let top = ring.writePosition
            let start = ring.rewind(to: ring.readPosition)
            let count = min(top - start, 256)
            for i in 0..<count { block[i] = -Float(start + i) }
            block.withUnsafeBufferPointer { _ = ring.write($0.baseAddress!, count: count) }
            ring.restore(to: top)
        }
        state.stop()
        let result = state.waitForResult()
        #expect(result.reads >= 50_000)
        #expect(result.changed == 0, "samples changed under the reader: \(result.changed)")
        #expect(result.misplaced == 0, "samples read out of turn: \(result.misplaced)")
        #expect(result.rewritten > 0, "the writer never got to overwrite anything: the test proves nothing")
    }
}

/// What the race test's threads share.
final class RaceState: @unchecked Sendable {
    private let condition = NSCondition()
    private var _stopped = false, _reads = 0
    private var result: (reads: Int, changed: Int, misplaced: Int, rewritten: Int)?
    var stopped: Bool { condition.lock(); defer { condition.unlock() }; return _stopped }
    var reads: Int { condition.lock(); defer { condition.unlock() }; return _reads }
    func stop() { condition.lock(); _stopped = true; condition.unlock() }
    func update(reads: Int) { condition.lock(); _reads = reads; condition.unlock() }
    func finish(reads: Int, changed: Int, misplaced: Int, rewritten: Int) {
        condition.lock()
        result = (reads, changed, misplaced, rewritten)
        condition.broadcast()
        condition.unlock()
    }
    func waitForResult() -> (reads: Int, changed: Int, misplaced: Int, rewritten: Int) {
        condition.lock()
        defer { condition.unlock() }
        while result == nil { condition.wait() }
        return result!
    }
}
