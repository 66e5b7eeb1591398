/// A connector or signal path of a device — a sound card's headphone jack, its speakers, its
/// microphone input — as pulse clients show them ("ports"). [any]
public struct DevicePort: Sendable, Equatable {
    /// Whether something is plugged in, by the device's jack detection (pulse's numbering).
    public enum Availability: UInt32, Sendable { case unknown = 0, no = 1, yes = 2 }
    /// What kind of connector (pulse's `pa_device_port_type` numbering).
    public enum Kind: UInt32, Sendable { case unknown = 0, speaker = 2, headphones = 3, line = 4, mic = 5, headset = 6, hdmi = 10, analog = 22 }

    public var name: String
    public var description: String
    /// Higher is preferred when choosing the active port.
    public var priority: UInt32
    public var availability: Availability
    public var kind: Kind

    public init(name: String, description: String, priority: UInt32, availability: Availability, kind: Kind) {
        self.name = name
        self.description = description
        self.priority = priority
        self.availability = availability
        self.kind = kind
    }

    /// The port a device uses: the highest priority one not known to be unplugged, as
    /// PulseAudio chooses.
    public static func active(among ports: [DevicePort]) -> DevicePort? {
        let candidates = ports.filter { $0.availability != .no }
        return (candidates.isEmpty ? ports : candidates).max { $0.priority < $1.priority }
    }
}
