import CompatPulse
import Foundation
import Testing

@Suite("sample conversion")
struct ConversionTests {
    func decode(_ e: PCMEncoding, _ bytes: [UInt8]) -> [Float] {
        let n = bytes.count / e.bytesPerSample
        var out = [Float](repeating: .nan, count: n)
        bytes.withUnsafeBytes { raw in out.withUnsafeMutableBufferPointer { e.decode(raw, count: n, into: $0.baseAddress!) } }
        return out
    }
    func encode(_ e: PCMEncoding, _ x: [Float]) -> [UInt8] {
        var out: [UInt8] = []
        x.withUnsafeBufferPointer { e.encode($0.baseAddress!, count: x.count, appendingTo: &out) }
        return out
    }

    static let edges: [(PCMEncoding, [UInt8], [Float])] = [
        (.u8, [0x00, 0x80, 0xFF], [-1, 0, Float(127.0 / 128)]),
        (.s16le, [0x00, 0x80, 0x00, 0x00, 0xFF, 0x7F, 0x01, 0x00], [-1, 0, Float(32767.0 / 32768), Float(1.0 / 32768)]),
        (.s16be, [0x80, 0x00, 0x7F, 0xFF], [-1, Float(32767.0 / 32768)]),
        (.s24le, [0x00, 0x00, 0x80, 0xFF, 0xFF, 0x7F], [-1, Float(8_388_607.0 / 8_388_608)]),
        (.s24be, [0x80, 0x00, 0x00, 0x00, 0x00, 0x01], [-1, Float(1.0 / 8_388_608)]),
        (.s24_32le, [0x00, 0x00, 0x80, 0x00, 0x01, 0x00, 0x00, 0x00], [-1, Float(1.0 / 8_388_608)]),
        (.s32be, [0x80, 0x00, 0x00, 0x00, 0x40, 0x00, 0x00, 0x00], [-1, 0.5]),
        (.float32be, [0x3F, 0x00, 0x00, 0x00], [0.5]),
        (.float32le, [0x00, 0x00, 0x00, 0xBF], [-0.5]),
    ]

    @Test("edge values decode to the expected floats", arguments: edges)
    func decodesEdges(encoding: PCMEncoding, bytes: [UInt8], expected: [Float]) {
        #expect(decode(encoding, bytes) == expected)
    }

    @Test("every encoding of 24 bits or less round-trips its full-scale, zero and 1-LSB values exactly",
          arguments: PCMEncoding.allCases.filter { ![.alaw, .ulaw, .s32le, .s32be].contains($0) })
    func roundTrips(encoding: PCMEncoding) {
        var bytes: [UInt8] = []
        for pattern: UInt8 in [0x00, 0x01, 0x7F, 0x80, 0xFE, 0xFF] {
            bytes.append(contentsOf: [UInt8](repeating: pattern, count: encoding.bytesPerSample))
        }
        if encoding == .float32le || encoding == .float32be { bytes = encode(encoding, [0, 0.5, -1, 0.25]) }
        if encoding == .s24_32le || encoding == .s24_32be {   // the top byte is padding
            bytes = encode(encoding, decode(encoding, bytes))
        }
        #expect(encode(encoding, decode(encoding, bytes)) == bytes)
    }

    @Test("32-bit integer samples keep the 24 bits a float carries", arguments: [PCMEncoding.s32le, .s32be])
    func s32Precision(encoding: PCMEncoding) {
        let values: [Int32] = [.min, .max, 0, 1 << 8, -(1 << 8), 123_456_789]
        var bytes: [UInt8] = []
        for v in values { withUnsafeBytes(of: encoding == .s32le ? v.littleEndian : v.bigEndian) { bytes.append(contentsOf: $0) } }
        let back = encode(encoding, decode(encoding, bytes))
        for i in values.indices {
            let b = back[(i * 4)..<(i * 4 + 4)].withUnsafeBytes { $0.loadUnaligned(as: Int32.self) }
            let got = encoding == .s32le ? Int32(littleEndian: b) : Int32(bigEndian: b)
            #expect(abs(Int64(got) - Int64(values[i])) <= 128, "\(values[i]) came back as \(got)")
        }
    }

    @Test("G.711 A-law and µ-law match reference values and round-trip every code")
    func g711() {
        let ulaw: [Float] = [0, 0, -32124, 32124].map { $0 / 32768 }
        let alaw: [Float] = [8, -8, -32256, 32256].map { $0 / 32768 }
        #expect(decode(.ulaw, [0xFF, 0x7F, 0x00, 0x80]) == ulaw)
        #expect(decode(.alaw, [0xD5, 0x55, 0x2A, 0xAA]) == alaw)
        for enc in [PCMEncoding.alaw, .ulaw] {
            let all = (0...255).map { UInt8($0) }.filter { !(enc == .ulaw && $0 == 0x7F) }   // µ-law has two zeros
            #expect(encode(enc, decode(enc, all)) == all)
        }
    }

    @Test("out-of-range floats clamp instead of wrapping")
    func clamps() {
        #expect(encode(.s16le, [2, -2]) == [0xFF, 0x7F, 0x00, 0x80])
        #expect(encode(.u8, [1.5]) == [0xFF])
    }

    @Test("a NaN or infinity from a float client encodes as silence or full scale in every integer format, never a trap",
          arguments: [PCMEncoding.u8, .alaw, .ulaw, .s16le, .s16be, .s24le, .s24be, .s24_32le, .s24_32be, .s32le, .s32be])
    func nanIsSilence(_ encoding: PCMEncoding) {
        let silence = encode(encoding, [0])
        #expect(encode(encoding, [.nan]) == silence)
        #expect(encode(encoding, [.infinity]) == encode(encoding, [1]))
        #expect(encode(encoding, [-.infinity]) == encode(encoding, [-1]))
    }

    @Test("a float client's NaN decodes to silence and its infinities to a bounded level, so one client cannot poison a mix")
    func floatInputIsSanitised() {
        for e in [PCMEncoding.float32le, .float32be] {
            let bytes = encode(e, [.nan, .infinity, -.infinity, 0.5])
            let back = decode(e, bytes)
            #expect(back[0] == 0 && back[1] == 64 && back[2] == -64 && back[3] == 0.5, "\(e): \(back)")
        }
    }

    @Test("s16 rounds half away from zero, exactly at the halfway points, on the fast path as on the general one")
    func s16Rounding() {
        let halves: [Float] = [0.5 / 32768, -0.5 / 32768, 1.5 / 32768, -1.5 / 32768, 0.49999997 / 32768, 32766.5 / 32768]
        let le = encode(.s16le, halves), be = encode(.s16be, halves)
        let expected: [Int16] = [1, -1, 2, -2, 0, 32767]
        for (i, v) in expected.enumerated() {
            let u = UInt16(bitPattern: v)
            #expect(le[2 * i] == UInt8(u & 0xFF) && le[2 * i + 1] == UInt8(u >> 8), "s16le of \(halves[i] * 32768)")
            #expect(be[2 * i] == UInt8(u >> 8) && be[2 * i + 1] == UInt8(u & 0xFF), "s16be of \(halves[i] * 32768)")
        }
    }

    @Test("the vectorised s16le encoder gives what the general one gives for s16be, byte for byte, over 200,000 values from −1.5 to 1.5 and the edges")
    func s16FastPathMatchesGeneral() {
        var rng = SystemRandomNumberGenerator()
        var values: [Float] = (0..<200_000).map { _ in Float.random(in: -1.5...1.5, using: &rng) }
        // Ties, both ends of the range, just past them, and values no client should send.
        values += (-40...40).map { (Float($0) + 0.5) / 32768 }
        values += [1, -1, 32767 / 32768, 32767.5 / 32768, -32768.5 / 32768, 1.0001, -1.0001, 64, -64, 0, -0.0, .nan, -.nan, .infinity, -.infinity]
        let le = encode(.s16le, values), be = encode(.s16be, values)
        var mismatches = 0
        for i in 0..<values.count where le[2 * i] != be[2 * i + 1] || le[2 * i + 1] != be[2 * i] { mismatches += 1 }
        #expect(mismatches == 0, "\(mismatches) of \(values.count) values differ")
    }

    @Test("mono spreads to both stereo channels; stereo to mono averages")
    func remix() {
        let up = ChannelRemix(from: [0], to: [1, 2])
        #expect(up.apply([0.5, -0.25], frames: 2) == [0.5, 0.5, -0.25, -0.25])
        let down = ChannelRemix(from: [1, 2], to: [0])
        #expect(down.apply([1, 0, 0.5, 0.5], frames: 2) == [0.5, 0.5])
        let swap = ChannelRemix(from: [2, 1], to: [1, 2])
        #expect(swap.apply([1, 2], frames: 1) == [2, 1])
        #expect(ChannelRemix(from: [1, 2], to: [1, 2]).isIdentity)
    }

    @Test("a 1 kHz tone resampled from 44.1 kHz to 48 kHz keeps its pitch and level")
    func resamples() throws {
        let r = try #require(Resampler(channels: 1, inputRate: 44_100, outputRate: 48_000))
        let input = (0..<44_100).map { Float(0.5 * sin(2 * Double.pi * 1000 * Double($0) / 44_100)) }
        var out: [Float] = []
        for chunk in stride(from: 0, to: input.count, by: 441) { r.process(Array(input[chunk..<(chunk + 441)]), appendingTo: &out) }
        r.flush(appendingTo: &out)
        #expect(abs(out.count - 48_000) <= 2, "\(out.count) frames for one second")
        let steady = Array(out[2000..<(out.count - 2000)])
        var crossings = 0
        for i in 1..<steady.count where steady[i - 1] < 0 && steady[i] >= 0 { crossings += 1 }
        let hz = Double(crossings) * 48_000 / Double(steady.count)
        #expect(abs(hz - 1000) < 2)
        #expect(abs((steady.map { abs($0) }.max() ?? 0) - 0.5) < 0.01)
        // THD+N: fit a 1 kHz sine and cosine (least squares; they are nearly orthogonal over
        // whole periods) and compare what is left with the tone.
        let periods = Array(steady.prefix(steady.count / 48 * 48))   // whole periods: sin ⟂ cos
        var s = 0.0, c = 0.0
        for (i, v) in periods.enumerated() {
            let w = 2 * Double.pi * 1000 * Double(i) / 48_000
            s += Double(v) * sin(w); c += Double(v) * cos(w)
        }
        s *= 2 / Double(periods.count); c *= 2 / Double(periods.count)
        var residual = 0.0, power = 0.0
        for (i, v) in periods.enumerated() {
            let w = 2 * Double.pi * 1000 * Double(i) / 48_000
            let fit = s * sin(w) + c * cos(w)
            residual += (Double(v) - fit) * (Double(v) - fit); power += fit * fit
        }
        let thdn = 10 * log10(residual / power)
        #expect(thdn < -100, "THD+N \(thdn) dB")
    }
}
