import Graph
import PulseWire

/// A sound card as pulse clients see it (`pactl list cards`, pavucontrol's Configuration tab):
/// the ALSA sinks and sources that share a card (or a control device), its profiles and its
/// ports. Built from the graph on each request; indices stay stable while the server runs. [control]
struct PulseCard {
    let index: UInt32
    /// `alsa_card.<card id>` (or `.<control device>` for a PCM with no card behind it).
    let name: String
    let sinks: [(device: PulseSink, node: AudioNode)]
    let sources: [(device: PulseSink, node: AudioNode)]
    let properties: [(String, String)]

    struct Profile {
        let name: String
        let description: String
        let sinks: UInt32
        let sources: UInt32
        let priority: UInt32
    }

    /// PulseAudio's profile set for what the card has open: duplex, output only, input only,
    /// off (names, descriptions and priorities as its ALSA profiles have them).
    var profiles: [Profile] {
        let out = sinks.first.map { profileName($0.node) }
        let input = sources.first.map { profileName($0.node) }
        var result: [Profile] = []
        if let out, let input {
            result.append(Profile(name: "output:\(out.name)+input:\(input.name)", description: "\(out.description) Duplex",
                                  sinks: UInt32(sinks.count), sources: UInt32(sources.count), priority: 6565))
        }
        if let out { result.append(Profile(name: "output:\(out.name)", description: "\(out.description) Output", sinks: UInt32(sinks.count), sources: 0, priority: 6500)) }
        if let input { result.append(Profile(name: "input:\(input.name)", description: "\(input.description) Input", sinks: 0, sources: UInt32(sources.count), priority: 65)) }
        result.append(Profile(name: "off", description: "Off", sinks: 0, sources: 0, priority: 0))
        return result
    }

    /// What is open is the active profile: the first of the list.
    var activeProfile: String { profiles[0].name }

    private func profileName(_ node: AudioNode) -> (name: String, description: String) {
        let name = node.properties.first { $0.0 == "profile" }?.1 ?? "analog-stereo"
        let description = name.split(separator: "-").map { $0.prefix(1).uppercased() + $0.dropFirst() }.joined(separator: " ")
        return (name, description)
    }

    /// The card record of GET_CARD_INFO(_LIST), for protocol `version`.
    func write(_ w: inout WireWriter, version: UInt32) {
        let profiles = self.profiles
        w.u32(index)
        w.string(name)
        w.u32(invalidIndex)                                      // owner module
        w.string("sluice-alsa")
        w.u32(UInt32(profiles.count))
        for p in profiles {
            w.string(p.name)
            w.string(p.description)
            w.u32(p.sinks)
            w.u32(p.sources)
            w.u32(p.priority)
            if version >= 29 { w.u32(1) }                         // available
        }
        w.string(activeProfile)
        w.proplist(properties.map { ($0.0, Props.string($0.1)) })
        if version >= 26 {
            let outputs = profiles.filter { $0.sinks > 0 }.map(\.name)
            let inputs = profiles.filter { $0.sources > 0 }.map(\.name)
            let ports = (sinks.first?.node.ports ?? []).map { ($0, UInt8(1), outputs) }
                + (sources.first?.node.ports ?? []).map { ($0, UInt8(2), inputs) }
            w.u32(UInt32(ports.count))
            for (port, direction, profileNames) in ports {
                w.string(port.name)
                w.string(port.description)
                w.u32(port.priority)
                w.u32(port.availability.rawValue)
                w.u8(direction)
                w.proplist([])
                w.u32(UInt32(profileNames.count))
                for name in profileNames { w.string(name) }
                if version >= 27 { w.s64(0) }                    // latency offset
                if version >= 34 {
                    w.string(nil)                                 // availability group
                    w.u32(port.kind.rawValue)
                }
            }
        }
    }
}

extension PulseServer {
    /// The cards behind the ALSA sinks and sources now in the graph, grouped by card (or by
    /// control device, for a PCM whose card libasound does not know).
    func cards() -> [PulseCard] {
        var groups: [(key: String, sinks: [(PulseSink, AudioNode)], sources: [(PulseSink, AudioNode)], props: [(String, String)])] = []
        func add(_ device: PulseSink, capture: Bool) {
            guard let node = try? engine.node(named: device.name), let key = cardKey(of: node) else { return }
            let facts = node.properties
            func fact(_ key: String) -> String? { facts.first { $0.0 == key }?.1 }
            if let i = groups.firstIndex(where: { $0.key == key }) {
                if capture { groups[i].sources.append((device, node)) } else { groups[i].sinks.append((device, node)) }
                return
            }
            var props: [(String, String)] = [("device.api", "alsa"), ("device.class", "sound"), ("sluice.card_key", key)]
            props += facts.filter { $0.0.hasPrefix("alsa.") }
            let description = fact("alsa.card_name") ?? key
            props += [("device.description", description), ("device.string", fact("alsa.card") ?? key)]
            groups.append((key, capture ? [] : [(device, node)], capture ? [(device, node)] : [], props))
        }
        for s in sinks() { add(s, capture: false) }
        for s in captureSources() { add(s, capture: true) }
        return groups.map { g in
            let index = cardIndex(forKey: g.key)
            return PulseCard(index: index, name: "alsa_card.\(g.key)", sinks: g.sinks.map { (device: $0.0, node: $0.1) },
                             sources: g.sources.map { (device: $0.0, node: $0.1) }, properties: g.props)
        }
    }

    /// What groups a sound card's sinks and sources into one card: its card id, or for a PCM
    /// libasound knows no card for, its control device; nil for a node that is not a sound card.
    func cardKey(of node: AudioNode) -> String? {
        guard node.typeName.hasPrefix("alsa-") else { return nil }
        let facts = node.properties
        return (facts.first { $0.0 == "alsa.card_id" } ?? facts.first { $0.0 == "ctl" })?.1
    }

    /// The card a sink or source's node belongs to, for its info's card index.
    func cardIndex(of node: AudioNode) -> UInt32 {
        cardKey(of: node).map(cardIndex(forKey:)) ?? invalidIndex
    }
}
