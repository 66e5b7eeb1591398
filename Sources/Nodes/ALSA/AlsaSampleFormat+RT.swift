extension AlsaSampleFormat {
    /// [rt] Interleaves `frameCount` frames, from frame `sourceOffset` of each of the
    /// `channelCount` channel pointers, into `destination` in this format. Integer formats clip
    /// at full scale and round to nearest; float is copied bit for bit. No allocation.
    func interleave(_ channels: UnsafePointer<UnsafePointer<Float>>, channelCount: Int, sourceOffset: Int,
                    frameCount: Int, into destination: UnsafeMutableRawPointer) {
        let stride = channelCount * bytesPerSample
        switch self {
        case .float32:
            for c in 0..<channelCount {
                let src = channels[c] + sourceOffset
                for i in 0..<frameCount {
                    destination.storeBytes(of: src[i].bitPattern.littleEndian, toByteOffset: i * stride + c * 4, as: UInt32.self)
                }
            }
        case .s32:
            for c in 0..<channelCount {
                let src = channels[c] + sourceOffset
                for i in 0..<frameCount {
                    let v = Int32(truncatingIfNeeded: Self.quantize(src[i], bits: 32))
                    destination.storeBytes(of: v.littleEndian, toByteOffset: i * stride + c * 4, as: Int32.self)
                }
            }
        case .s24:
            for c in 0..<channelCount {
                let src = channels[c] + sourceOffset
                for i in 0..<frameCount {
                    let v = Int32(truncatingIfNeeded: Self.quantize(src[i], bits: 24))
                    destination.storeBytes(of: v.littleEndian, toByteOffset: i * stride + c * 4, as: Int32.self)
                }
            }
        case .s24Packed:
            for c in 0..<channelCount {
                let src = channels[c] + sourceOffset
                for i in 0..<frameCount {
                    let v = UInt32(bitPattern: Int32(truncatingIfNeeded: Self.quantize(src[i], bits: 24)))
                    let at = i * stride + c * 3
                    destination.storeBytes(of: UInt8(truncatingIfNeeded: v), toByteOffset: at, as: UInt8.self)
                    destination.storeBytes(of: UInt8(truncatingIfNeeded: v >> 8), toByteOffset: at + 1, as: UInt8.self)
                    destination.storeBytes(of: UInt8(truncatingIfNeeded: v >> 16), toByteOffset: at + 2, as: UInt8.self)
                }
            }
        case .s16:
            for c in 0..<channelCount {
                let src = channels[c] + sourceOffset
                for i in 0..<frameCount {
                    let v = Int16(truncatingIfNeeded: Self.quantize(src[i], bits: 16))
                    destination.storeBytes(of: v.littleEndian, toByteOffset: i * stride + c * 2, as: Int16.self)
                }
            }
        }
    }

    /// [rt] The reverse of `interleave`: `frameCount` frames of `source` (this format,
    /// `channelCount` channels) into each channel pointer from frame `destinationOffset`.
    func deinterleave(_ source: UnsafeRawPointer, channelCount: Int, frameCount: Int,
                      into channels: UnsafePointer<UnsafeMutablePointer<Float>>, destinationOffset: Int) {
        let stride = channelCount * bytesPerSample
        switch self {
        case .float32:
            for c in 0..<channelCount {
                let dst = channels[c] + destinationOffset
                for i in 0..<frameCount {
                    dst[i] = Float(bitPattern: UInt32(littleEndian: source.loadUnaligned(fromByteOffset: i * stride + c * 4, as: UInt32.self)))
                }
            }
        case .s32:
            for c in 0..<channelCount {
                let dst = channels[c] + destinationOffset
                for i in 0..<frameCount {
                    let v = Int32(littleEndian: source.loadUnaligned(fromByteOffset: i * stride + c * 4, as: Int32.self))
                    dst[i] = Float(Double(v) / 2_147_483_648)
                }
            }
        case .s24:
            for c in 0..<channelCount {
                let dst = channels[c] + destinationOffset
                for i in 0..<frameCount {
                    // 24 significant bits in the low three bytes; sign-extend from bit 23.
                    let raw = Int32(littleEndian: source.loadUnaligned(fromByteOffset: i * stride + c * 4, as: Int32.self))
                    dst[i] = Float((raw << 8) >> 8) / 8_388_608
                }
            }
        case .s24Packed:
            for c in 0..<channelCount {
                let dst = channels[c] + destinationOffset
                for i in 0..<frameCount {
                    let at = i * stride + c * 3
                    let b0 = UInt32(source.load(fromByteOffset: at, as: UInt8.self))
                    let b1 = UInt32(source.load(fromByteOffset: at + 1, as: UInt8.self))
                    let b2 = UInt32(source.load(fromByteOffset: at + 2, as: UInt8.self))
                    let v = Int32(bitPattern: (b0 << 8) | (b1 << 16) | (b2 << 24)) >> 8
                    dst[i] = Float(v) / 8_388_608
                }
            }
        case .s16:
            for c in 0..<channelCount {
                let dst = channels[c] + destinationOffset
                for i in 0..<frameCount {
                    let v = Int16(littleEndian: source.loadUnaligned(fromByteOffset: i * stride + c * 2, as: Int16.self))
                    dst[i] = Float(v) / 32_768
                }
            }
        }
    }

    /// [rt] `sample` scaled to a `bits`-bit signed integer: ±1.0 is full scale, rounded to
    /// nearest, clipped to the integer range (so +1.0 becomes the largest positive value).
    @inline(__always)
    static func quantize(_ sample: Float, bits: Int) -> Int64 {
        let full = Double(Int64(1) << (bits - 1))
        let scaled = (Double(sample) * full).rounded()
        // NaN compares false both ways and would trap in Int64(_:): it becomes silence.
        guard scaled == scaled else { return 0 }
        return Int64(min(max(scaled, -full), full - 1))
    }
}
