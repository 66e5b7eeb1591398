import CAsound
import Glibc
import Graph

/// A sound card's control elements (`snd_ctl_elem_list`) and what they say about its ports:
/// which outputs and inputs it has (`Headphone Playback Switch`, `Mic Capture Volume`, …) and
/// whether something is plugged into them (`Headphone Jack`, `Mic Jack`, …). [control]
public struct AlsaControls: Sendable {
    public struct Element: Sendable, Equatable {
        public var name: String
        /// A jack's state (or a boolean's first value); nil when not a readable boolean.
        public var on: Bool?
        public init(name: String, on: Bool?) {
            self.name = name
            self.on = on
        }
    }

    /// The control device (`hw:0`, or one a user's ALSA configuration defines).
    public let name: String
    public let elements: [Element]

    /// No controls at all (a PCM with no control device).
    static let none = AlsaControls(name: "", elements: [])

    /// Controls given directly (tests).
    public init(name: String, elements: [Element]) {
        self.name = name
        self.elements = elements
    }

    /// Reads every element of control device `name` (from the system's ALSA configuration, or
    /// from `configText` when given: tests); nil when it cannot be opened.
    public init?(name: String, configText: String? = nil) {
        _ = sluice_alsa_silence_errors()
        var handle: OpaquePointer?
        var tree: OpaquePointer?
        if let configText {
            guard sluice_alsa_config_from_string(configText, &tree) >= 0, let tree else { return nil }
            guard snd_ctl_open_lconf(&handle, name, Int32(SND_CTL_NONBLOCK), tree) >= 0 else { snd_config_delete(tree); return nil }
        } else {
            guard snd_ctl_open(&handle, name, Int32(SND_CTL_NONBLOCK)) >= 0 else { return nil }
        }
        guard let ctl = handle else { return nil }
        defer {
            snd_ctl_close(ctl)
            if let tree { snd_config_delete(tree) }
        }
        var list: OpaquePointer?, id: OpaquePointer?, value: OpaquePointer?, info: OpaquePointer?
        guard snd_ctl_elem_list_malloc(&list) >= 0, let list else { return nil }
        defer { snd_ctl_elem_list_free(list) }
        guard snd_ctl_elem_id_malloc(&id) >= 0, let id else { return nil }
        defer { snd_ctl_elem_id_free(id) }
        guard snd_ctl_elem_value_malloc(&value) >= 0, let value else { return nil }
        defer { snd_ctl_elem_value_free(value) }
        guard snd_ctl_elem_info_malloc(&info) >= 0, let info else { return nil }
        defer { snd_ctl_elem_info_free(info) }
        guard snd_ctl_elem_list(ctl, list) >= 0 else { return nil }
        let count = snd_ctl_elem_list_get_count(list)
        guard count > 0, snd_ctl_elem_list_alloc_space(list, count) >= 0 else {
            self.name = name
            elements = []
            return
        }
        defer { snd_ctl_elem_list_free_space(list) }
        guard snd_ctl_elem_list(ctl, list) >= 0 else { return nil }
        var found: [Element] = []
        for i in 0..<snd_ctl_elem_list_get_used(list) {
            snd_ctl_elem_list_get_id(list, i, id)
            let elementName = String(cString: snd_ctl_elem_id_get_name(id))
            var on: Bool?
            snd_ctl_elem_info_set_id(info, id)
            if snd_ctl_elem_info(ctl, info) >= 0, snd_ctl_elem_info_get_type(info) == SND_CTL_ELEM_TYPE_BOOLEAN,
               snd_ctl_elem_info_is_readable(info) != 0 {
                snd_ctl_elem_value_set_id(value, id)
                if snd_ctl_elem_read(ctl, value) >= 0 { on = snd_ctl_elem_value_get_boolean(value, 0) != 0 }
            }
            found.append(Element(name: elementName, on: on))
        }
        self.name = name
        elements = found
    }

    /// What PulseAudio's ALSA mixer paths call the common connectors: the element name's stem,
    /// the port, its description, priority and kind. Elements are matched as `<stem> Playback
    /// …` / `<stem> Capture …` (or `<stem> Boost …` for inputs), jacks as `<stem> Jack`.
    static let outputs: [(stem: String, port: String, description: String, priority: UInt32, kind: DevicePort.Kind)] = [
        ("Speaker", "analog-output-speaker", "Speakers", 10_000, .speaker),
        ("Headphone", "analog-output-headphones", "Headphones", 9_900, .headphones),
        ("Line Out", "analog-output-lineout", "Line Out", 9_000, .line),
    ]
    static let inputs: [(stem: String, port: String, description: String, priority: UInt32, kind: DevicePort.Kind)] = [
        ("Internal Mic", "analog-input-internal-mic", "Internal Microphone", 8_900, .mic),
        ("Headset Mic", "analog-input-headset-mic", "Headset Microphone", 8_800, .headset),
        ("Mic", "analog-input-mic", "Microphone", 8_700, .mic),
        ("Line", "analog-input-linein", "Line In", 8_100, .line),
    ]

    /// Built-in connectors that PulseAudio's mixer paths mark unavailable while the external
    /// one next to them is plugged in (speakers go quiet when headphones are in).
    static let silencedBy: [String: [String]] = ["Speaker": ["Headphone"], "Internal Mic": ["Mic", "Headset Mic"]]

    /// The ports of the card's playback (`playback: true`) or capture side. A connector is a
    /// port when the card has a control for it; a jack of the same stem says whether it is
    /// plugged in. A card with none of these gets one generic analog port, as PulseAudio's does.
    public func ports(playback: Bool) -> [DevicePort] {
        let table = playback ? Self.outputs : Self.inputs
        let verbs = playback ? [" Playback Switch", " Playback Volume"] : [" Capture Switch", " Capture Volume", " Boost Volume"]
        func jackElement(_ stem: String) -> Element? { elements.first { $0.name == stem + " Jack" || $0.name == stem + " Phantom Jack" } }
        var result: [DevicePort] = []
        for entry in table {
            let jack = jackElement(entry.stem)
            let control = elements.contains { e in verbs.contains { e.name == entry.stem + $0 } }
            guard control || jack != nil else { continue }
            var availability: DevicePort.Availability = jack?.on.map { $0 ? .yes : .no } ?? .unknown
            if availability != .yes, (Self.silencedBy[entry.stem] ?? []).contains(where: { jackElement($0)?.on == true }) {
                availability = .no
            }
            result.append(DevicePort(name: entry.port, description: entry.description, priority: entry.priority,
                                     availability: availability, kind: entry.kind))
        }
        if result.isEmpty {
            result.append(playback
                ? DevicePort(name: "analog-output", description: "Analog Output", priority: 9_900, availability: .unknown, kind: .analog)
                : DevicePort(name: "analog-input", description: "Analog Input", priority: 9_900, availability: .unknown, kind: .analog))
        }
        return result
    }
}

/// Watches a control device for elements that change (a jack plugged in or out), so the ports
/// a client sees can be told anew: `fd` goes into the control loop; `drain` says whether anything
/// changed. [control]
public final class AlsaControlWatcher {
    public let fd: Int32
    private let ctl: OpaquePointer
    private let event: OpaquePointer

    /// Nil when the control device cannot be opened or does not report events.
    public init?(name: String) {
        _ = sluice_alsa_silence_errors()
        var handle: OpaquePointer?
        guard snd_ctl_open(&handle, name, Int32(SND_CTL_NONBLOCK)) >= 0, let ctl = handle else { return nil }
        var descriptor = pollfd()
        var e: OpaquePointer?
        guard snd_ctl_subscribe_events(ctl, 1) >= 0, snd_ctl_poll_descriptors(ctl, &descriptor, 1) == 1, descriptor.fd >= 0,
              snd_ctl_event_malloc(&e) >= 0, let e else {
            snd_ctl_close(ctl)
            return nil
        }
        self.ctl = ctl
        event = e
        fd = descriptor.fd
    }

    /// Reads every pending event; true when one was about an element (its value, or the element
    /// itself, changed).
    public func drain() -> Bool {
        var changed = false
        while snd_ctl_read(ctl, event) > 0 {
            if snd_ctl_event_get_type(event) == SND_CTL_EVENT_ELEM { changed = true }
        }
        return changed
    }

    deinit {
        snd_ctl_event_free(event)
        snd_ctl_close(ctl)
    }
}
