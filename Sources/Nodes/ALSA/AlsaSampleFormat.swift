import CAsound

/// The device sample formats Sluice converts to and from, in order of preference: float needs no
/// conversion, then the widest integers. Little-endian only (the machines Sluice runs on).
public enum AlsaSampleFormat: String, Sendable, CaseIterable {
    case float32 = "FLOAT_LE"
    case s32 = "S32_LE"
    case s24Packed = "S24_3LE"
    case s24 = "S24_LE"
    case s16 = "S16_LE"

    /// libasound's constant for this format.
    var alsaFormat: snd_pcm_format_t {
        switch self {
        case .float32: SND_PCM_FORMAT_FLOAT_LE
        case .s32: SND_PCM_FORMAT_S32_LE
        case .s24Packed: SND_PCM_FORMAT_S24_3LE
        case .s24: SND_PCM_FORMAT_S24_LE
        case .s16: SND_PCM_FORMAT_S16_LE
        }
    }

    /// Bytes one sample occupies in the device buffer.
    public var bytesPerSample: Int {
        switch self {
        case .float32, .s32, .s24: 4
        case .s24Packed: 3
        case .s16: 2
        }
    }

    /// Bytes `frameCount` interleaved frames of `channelCount` channels occupy.
    public func byteCount(frameCount: Int, channelCount: Int) -> Int { frameCount * channelCount * bytesPerSample }
}
