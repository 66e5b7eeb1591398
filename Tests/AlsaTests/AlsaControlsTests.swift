import Graph
import Nodes
import Testing

/// Ports from a card's control elements: the rules on given elements, and real libasound
/// reading the fake card's control device.
@Suite("ALSA controls and ports")
struct AlsaControlsTests {
    func controls(_ elements: [(String, Bool?)]) -> AlsaControls {
        AlsaControls(name: "test", elements: elements.map { AlsaControls.Element(name: $0.0, on: $0.1) })
    }

    @Test("headphones plugged in: headphones available and active, speakers not available")
    func headphonesPlugged() {
        let c = controls([("Headphone Jack", true), ("Headphone Playback Switch", true), ("Speaker Playback Volume", nil)])
        let ports = c.ports(playback: true)
        #expect(ports.map(\.name) == ["analog-output-speaker", "analog-output-headphones"])
        #expect(ports.map(\.availability) == [.no, .yes])
        #expect(DevicePort.active(among: ports)?.name == "analog-output-headphones")
    }

    @Test("headphones unplugged: the speakers are active; a microphone jack makes the internal mic unavailable only while plugged")
    func headphonesUnplugged() {
        let c = controls([("Headphone Jack", false), ("Headphone Playback Switch", true), ("Speaker Playback Switch", true),
                          ("Mic Jack", false), ("Mic Capture Switch", true), ("Internal Mic Boost Volume", nil)])
        let out = c.ports(playback: true)
        #expect(out.map(\.availability) == [.unknown, .no])
        #expect(DevicePort.active(among: out)?.name == "analog-output-speaker")
        let inputs = c.ports(playback: false)
        #expect(inputs.map(\.name) == ["analog-input-internal-mic", "analog-input-mic"])
        #expect(inputs.map(\.availability) == [.unknown, .no])
        #expect(DevicePort.active(among: inputs)?.name == "analog-input-internal-mic")
        let plugged = controls([("Mic Jack", true), ("Mic Capture Switch", true), ("Internal Mic Boost Volume", nil)]).ports(playback: false)
        #expect(plugged.map(\.availability) == [.no, .yes])
        #expect(DevicePort.active(among: plugged)?.name == "analog-input-mic")
    }

    @Test("a card with no known controls gets one generic analog port per direction")
    func generic() {
        let c = controls([("PCM Playback Volume", nil)])
        #expect(c.ports(playback: true).map(\.name) == ["analog-output"])
        #expect(c.ports(playback: false).map(\.name) == ["analog-input"])
    }

    @Test("real libasound reads the fake card's control device: names and jack states")
    func fakeControlDevice() throws {
        let config = "ctl_type.sluicefake { lib \"\(FakeCard.library)\" }\n"
            + "ctl.fakectl { type sluicefake elements \"Headphone Jack=1;Headphone Playback Switch=1;Mic Jack=0;Mic Capture Switch=1\" }\n"
        let c = try #require(AlsaControls(name: "fakectl", configText: config))
        #expect(c.elements.map(\.name).sorted() == ["Headphone Jack", "Headphone Playback Switch", "Mic Capture Switch", "Mic Jack"])
        #expect(c.elements.first { $0.name == "Headphone Jack" }?.on == true)
        #expect(c.elements.first { $0.name == "Mic Jack" }?.on == false)
        #expect(c.ports(playback: true).map(\.availability) == [.yes])
        #expect(AlsaControls(name: "nosuchctl", configText: config) == nil)
    }
}
