import CAsound
import Glibc

/// A sound card the kernel knows, with what it can play and record. [control]
public struct AlsaCard: Sendable, Equatable {
    public var index: Int
    /// The card's id (`PCH`, `USB`, ...): stable across reboots, unlike the index.
    public var id: String
    public var name: String
    public var longName: String
    /// PCM device numbers with a playback and with a capture stream.
    public var playbackDevices: [Int]
    public var captureDevices: [Int]

    /// The PCM name Sluice opens for device `device`: through ALSA's `plughw`, so any rate,
    /// format and channel count the graph asks for is accepted (converted by ALSA where the
    /// hardware cannot), addressed by the card's id.
    public func pcmName(device: Int) -> String { "plughw:CARD=\(id),DEV=\(device)" }

    /// Properties the pulse side reports (alsa.card, alsa.card_name, device.description …).
    public var properties: [(String, String)] {
        [("alsa.card", String(index)), ("alsa.card_id", id), ("alsa.card_name", name), ("alsa.long_card_name", longName)]
    }
}

/// Enumerates the cards through the control interface (`snd_card_next`, `snd_ctl_card_info`,
/// `snd_ctl_pcm_next_device`). [control]
public enum AlsaDiscovery {
    /// The card with this index, if the kernel has it.
    public static func card(index: Int) -> AlsaCard? { cards().first { $0.index == index } }

    public static func cards() -> [AlsaCard] {
        _ = sluice_alsa_silence_errors()
        var result: [AlsaCard] = []
        var index: Int32 = -1
        while snd_card_next(&index) == 0 && index >= 0 {
            var ctl: OpaquePointer?
            guard snd_ctl_open(&ctl, "hw:\(index)", 0) >= 0, let ctl else { continue }
            defer { snd_ctl_close(ctl) }
            var info: OpaquePointer?
            guard snd_ctl_card_info_malloc(&info) >= 0, let info else { continue }
            defer { snd_ctl_card_info_free(info) }
            guard snd_ctl_card_info(ctl, info) >= 0 else { continue }
            var card = AlsaCard(index: Int(index), id: String(cString: snd_ctl_card_info_get_id(info)),
                                name: String(cString: snd_ctl_card_info_get_name(info)),
                                longName: String(cString: snd_ctl_card_info_get_longname(info)),
                                playbackDevices: [], captureDevices: [])
            var pcmInfo: OpaquePointer?
            guard snd_pcm_info_malloc(&pcmInfo) >= 0, let pcmInfo else { continue }
            defer { snd_pcm_info_free(pcmInfo) }
            var device: Int32 = -1
            while snd_ctl_pcm_next_device(ctl, &device) == 0 && device >= 0 {
                for (stream, isPlayback) in [(SND_PCM_STREAM_PLAYBACK, true), (SND_PCM_STREAM_CAPTURE, false)] {
                    snd_pcm_info_set_device(pcmInfo, UInt32(device))
                    snd_pcm_info_set_subdevice(pcmInfo, 0)
                    snd_pcm_info_set_stream(pcmInfo, stream)
                    if snd_ctl_pcm_info(ctl, pcmInfo) >= 0 {
                        if isPlayback { card.playbackDevices.append(Int(device)) } else { card.captureDevices.append(Int(device)) }
                    }
                }
            }
            result.append(card)
        }
        return result
    }
}
