import CAsound
import Glibc

/// Why an ALSA device could not be opened or set up. Each case names the device (the PCM name
/// as the user wrote it) and carries libasound's negative error code.
public enum AlsaError: Error, Equatable, CustomStringConvertible {
    /// Another program (or another Sluice node) has the device open: EBUSY.
    case busy(device: String)
    /// No such PCM name, card or device: ENOENT, ENODEV, ENXIO.
    case notFound(device: String, code: Int32)
    /// Opening failed for another reason (permissions, a broken plugin definition, ...).
    case openFailed(device: String, code: Int32)
    /// The configuration text given to `open(name:configText:)` did not parse.
    case invalidConfiguration(code: Int32)
    /// The device cannot do what the graph needs (`what` says which parameter and what it offers).
    case unsupported(device: String, what: String)
    /// A setup call failed (`step` names it).
    case setupFailed(device: String, step: String, code: Int32)

    public var description: String {
        switch self {
        case .busy(let device):
            "ALSA device '\(device)' is busy: another program holds it; stop that program (`fuser -v /dev/snd/*` shows which), or choose another device"
        case let .notFound(device, code):
            "ALSA device '\(device)' does not exist (\(Self.text(code))); `aplay -L` and `aplay -l` list the PCM names and cards this system has"
        case let .openFailed(device, code):
            "ALSA device '\(device)' could not be opened: \(Self.text(code)); check its permissions (group 'audio') and its definition in the ALSA configuration"
        case .invalidConfiguration(let code):
            "the ALSA configuration text does not parse (\(Self.text(code))); check its braces and quoting against alsa.conf syntax"
        case let .unsupported(device, what):
            "ALSA device '\(device)' cannot be used as configured: \(what)"
        case let .setupFailed(device, step, code):
            "ALSA device '\(device)' could not be set up: \(step) failed with \(Self.text(code)); the device may have been unplugged"
        }
    }

    /// libasound's text for a negative error code, with the number.
    public static func text(_ code: Int32) -> String {
        "\(String(cString: snd_strerror(code))) (\(code))"
    }

    /// The error for a failed `snd_pcm_open` on `device`.
    static func forOpen(device: String, code: Int32) -> AlsaError {
        switch -code {
        case EBUSY: .busy(device: device)
        case ENOENT, ENODEV, ENXIO: .notFound(device: device, code: code)
        default: .openFailed(device: device, code: code)
        }
    }
}
