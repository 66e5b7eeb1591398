/// The sample encodings a pulse client may use, by their wire value (`pa_sample_format_t`).
/// [control] Conversion runs on the control thread, when data arrives or leaves; the RT thread
/// only ever sees 32-bit float at the graph rate.
public enum PCMEncoding: UInt8, Sendable, CaseIterable {
    case u8 = 0, alaw = 1, ulaw = 2, s16le = 3, s16be = 4, float32le = 5, float32be = 6
    case s32le = 7, s32be = 8, s24le = 9, s24be = 10, s24_32le = 11, s24_32be = 12

    /// Bytes per sample of one channel.
    public var bytesPerSample: Int {
        switch self {
        case .u8, .alaw, .ulaw: 1
        case .s16le, .s16be: 2
        case .s24le, .s24be: 3
        case .float32le, .float32be, .s32le, .s32be, .s24_32le, .s24_32be: 4
        }
    }

    /// The name `pactl` prints ("s16le", "float32le", ...).
    public var name: String {
        switch self {
        case .u8: "u8"
        case .alaw: "aLaw"
        case .ulaw: "uLaw"
        case .s16le: "s16le"
        case .s16be: "s16be"
        case .float32le: "float32le"
        case .float32be: "float32be"
        case .s32le: "s32le"
        case .s32be: "s32be"
        case .s24le: "s24le"
        case .s24be: "s24be"
        case .s24_32le: "s24-32le"
        case .s24_32be: "s24-32be"
        }
    }

    /// Decodes `count` samples from `bytes` (interleaved, any channel count) into floats in
    /// [-1, 1). `bytes` must hold `count * bytesPerSample` bytes.
    public func decode(_ bytes: UnsafeRawBufferPointer, count: Int, into out: UnsafeMutablePointer<Float>) {
        precondition(bytes.count >= count * bytesPerSample, "bug: caller checks lengths")
        switch self {
        case .u8:
            for i in 0..<count { out[i] = (Float(bytes[i]) - 128) / 128 }
        case .alaw:
            for i in 0..<count { out[i] = Float(G711.alawToLinear(bytes[i])) / 32768 }
        case .ulaw:
            for i in 0..<count { out[i] = Float(G711.ulawToLinear(bytes[i])) / 32768 }
        case .s16le:
            // The common case: one loop without a per-sample branch or overflow check (wrapping
            // offsets: `count` was checked above), which the optimiser vectorises.
            guard let base = bytes.baseAddress else { return }
            for i in 0..<count {
                out[i] = Float(Int16(littleEndian: base.loadUnaligned(fromByteOffset: i &* 2, as: Int16.self))) * (1 / 32768)
            }
        case .s16be:
            guard let base = bytes.baseAddress else { return }
            for i in 0..<count {
                out[i] = Float(Int16(bigEndian: base.loadUnaligned(fromByteOffset: i &* 2, as: Int16.self))) * (1 / 32768)
            }
        case .float32le, .float32be:
            guard let base = bytes.baseAddress else { return }
            let big = self == .float32be
            for i in 0..<count {
                let raw = base.loadUnaligned(fromByteOffset: i &* 4, as: UInt32.self)
                let x = Float(bitPattern: big ? UInt32(bigEndian: raw) : UInt32(littleEndian: raw))
                // A NaN would poison the whole mix (every stream on the sink, the monitor):
                // it becomes silence; infinities and absurd levels are bounded.
                out[i] = x.isNaN ? 0 : min(max(x, -Self.floatLimit), Self.floatLimit)
            }
        case .s32le, .s32be:
            guard let base = bytes.baseAddress else { return }
            let big = self == .s32be
            for i in 0..<count {
                let raw = base.loadUnaligned(fromByteOffset: i &* 4, as: UInt32.self)
                out[i] = Float(Double(Int32(bitPattern: big ? UInt32(bigEndian: raw) : UInt32(littleEndian: raw))) / 2_147_483_648)
            }
        case .s24le, .s24be:
            for i in 0..<count {
                let b0 = UInt32(bytes[i * 3]), b1 = UInt32(bytes[i * 3 + 1]), b2 = UInt32(bytes[i * 3 + 2])
                let u = self == .s24le ? (b0 | b1 << 8 | b2 << 16) : (b2 | b1 << 8 | b0 << 16)
                out[i] = Float(Int32(bitPattern: u << 8) >> 8) / 8_388_608
            }
        case .s24_32le, .s24_32be:
            guard let base = bytes.baseAddress else { return }
            let big = self == .s24_32be
            for i in 0..<count {
                let raw = base.loadUnaligned(fromByteOffset: i &* 4, as: UInt32.self)
                let u = big ? UInt32(bigEndian: raw) : UInt32(littleEndian: raw)
                out[i] = Float(Int32(bitPattern: u << 8) >> 8) / 8_388_608
            }
        }
    }

    /// Encodes `count` floats into this encoding, clamping to the representable range and
    /// rounding to nearest; appends to `out`.
    /// The largest magnitude a float client's sample keeps (64: 36 dB of headroom over full
    /// scale, far beyond any legitimate signal, and finite).
    static let floatLimit: Float = 64

    public func encode(_ samples: UnsafePointer<Float>, count: Int, appendingTo out: inout [UInt8]) {
        out.reserveCapacity(out.count + count * bytesPerSample)
        @inline(__always) func scaled(_ x: Float, _ scale: Double, _ lo: Double, _ hi: Double) -> Int64 {
            let v = (Double(x) * scale).rounded()
            return v.isNaN ? 0 : Int64(min(max(v, lo), hi))    // a client's NaN becomes silence, not a trap
        }
        if self == .s16le && 1.littleEndian == 1 {
            // The common case (parec, the monitor): one pass in Float with no checked conversion
            // (the compiler keeps it scalar; a hand-written SIMD8 version measured slower). Same
            // result as `scaled` (half away from zero): the float
            // is rounded to nearest-even by adding 1.5 × 2²³ (the integer is then in the low bits
            // of the sum), and a tie that went toward zero is moved one step away from it.
            let start = out.count
            out.append(contentsOf: repeatElement(0, count: count * 2))
            out.withUnsafeMutableBytes { raw in
                let dst = (raw.baseAddress! + start).assumingMemoryBound(to: Int16.self)
                let magic: Float = 12_582_912
                for i in 0..<count {
                    var y = samples[i] * 32768                  // exact: a power of two
                    y = y == y ? y : 0                           // NaN
                    y = y > 32767 ? 32767 : (y < -32768 ? -32768 : y)
                    let t = y + magic
                    var r = Int32(bitPattern: t.bitPattern) &- 0x4B40_0000
                    let diff = y - (t - magic)                   // exact: ±0.5 only at a tie
                    r = r &+ (diff == 0.5 && y > 0 ? 1 : 0) &- (diff == -0.5 && y < 0 ? 1 : 0)
                    dst[i] = Int16(truncatingIfNeeded: r)
                }
            }
            return
        }
        switch self {
        case .u8:
            for i in 0..<count { out.append(UInt8(scaled(samples[i], 128, -128, 127) + 128)) }
        case .alaw:
            for i in 0..<count { out.append(G711.linearToAlaw(Int16(scaled(samples[i], 32768, -32768, 32767)))) }
        case .ulaw:
            for i in 0..<count { out.append(G711.linearToUlaw(Int16(scaled(samples[i], 32768, -32768, 32767)))) }
        case .s16le, .s16be:
            for i in 0..<count {
                let v = UInt16(bitPattern: Int16(scaled(samples[i], 32768, -32768, 32767)))
                if self == .s16le { out.append(UInt8(v & 0xFF)); out.append(UInt8(v >> 8)) } else { out.append(UInt8(v >> 8)); out.append(UInt8(v & 0xFF)) }
            }
        case .float32le, .float32be:
            for i in 0..<count { appendWord(samples[i].bitPattern, big: self == .float32be, to: &out) }
        case .s32le, .s32be:
            for i in 0..<count {
                appendWord(UInt32(bitPattern: Int32(scaled(samples[i], 2_147_483_648, -2_147_483_648, 2_147_483_647))), big: self == .s32be, to: &out)
            }
        case .s24le, .s24be:
            for i in 0..<count {
                let v = UInt32(bitPattern: Int32(scaled(samples[i], 8_388_608, -8_388_608, 8_388_607)))
                let b = [UInt8(v & 0xFF), UInt8((v >> 8) & 0xFF), UInt8((v >> 16) & 0xFF)]
                if self == .s24le { out.append(contentsOf: b) } else { out.append(contentsOf: b.reversed()) }
            }
        case .s24_32le, .s24_32be:
            for i in 0..<count {
                let v = UInt32(bitPattern: Int32(scaled(samples[i], 8_388_608, -8_388_608, 8_388_607))) & 0x00FF_FFFF
                appendWord(v, big: self == .s24_32be, to: &out)
            }
        }
    }

    private func appendWord(_ v: UInt32, big: Bool, to out: inout [UInt8]) {
        let w = big ? v.bigEndian : v.littleEndian
        withUnsafeBytes(of: w) { out.append(contentsOf: $0) }
    }
}

/// ITU-T G.711 A-law and µ-law, 16-bit linear.
enum G711 {
    static func alawToLinear(_ a: UInt8) -> Int16 {
        let v = a ^ 0x55
        let sign = v & 0x80
        let exponent = Int((v >> 4) & 0x07)
        var magnitude = Int(v & 0x0F) << 4 + 8
        if exponent != 0 { magnitude = (magnitude + 0x100) << (exponent - 1) }
        return Int16(sign != 0 ? magnitude : -magnitude)
    }

    static func linearToAlaw(_ sample: Int16) -> UInt8 {
        var pcm = Int(sample)
        let mask: UInt8
        if pcm >= 0 { mask = 0xD5 } else { mask = 0x55; pcm = -pcm - 1 }
        pcm = min(pcm, 32767)
        var exponent = 7
        var expMask = 0x4000
        while exponent > 0 && pcm & expMask == 0 { exponent -= 1; expMask >>= 1 }
        let mantissa = (pcm >> (exponent == 0 ? 4 : exponent + 3)) & 0x0F
        return (UInt8(exponent << 4) | UInt8(mantissa)) ^ mask
    }

    static func ulawToLinear(_ u: UInt8) -> Int16 {
        let v = ~u
        let sign = v & 0x80
        let exponent = Int((v >> 4) & 0x07)
        let mantissa = Int(v & 0x0F)
        let magnitude = ((mantissa << 3) + 0x84) << exponent
        return Int16(sign != 0 ? 0x84 - magnitude : magnitude - 0x84)
    }

    static func linearToUlaw(_ sample: Int16) -> UInt8 {
        let bias = 0x84, clip = 32635
        var pcm = Int(sample)
        let sign: UInt8 = pcm < 0 ? 0x80 : 0
        if pcm < 0 { pcm = -pcm }
        pcm = min(pcm, clip) + bias
        var exponent = 7
        var expMask = 0x4000
        while exponent > 0 && pcm & expMask == 0 { exponent -= 1; expMask >>= 1 }
        let mantissa = (pcm >> (exponent + 3)) & 0x0F
        return ~(sign | UInt8(exponent << 4) | UInt8(mantissa))
    }
}
