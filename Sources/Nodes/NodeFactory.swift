import Graph

/// Creates built-in nodes by type name, from `KEY=VALUE` parameters. [control]
public enum NodeFactory {
    /// Type names with a one-line description.
    public static let types: [(name: String, help: String)] = [
        ("sine", "test-tone source: freq (Hz), amplitude (0..1), channels"),
        ("gain", "gain with click-free ramps: gain (linear), mute, ramp_ms, channels"),
        ("mixer", "sums several inputs: inputs (count), gain0..gainN, channels"),
        ("null-sink", "consumes at the driver's pace and offers monitor outputs: channels"),
        ("file-sink", "writes a WAV file (libsndfile): path, format (float|s16|s24), frames (0 = unlimited), channels"),
        ("file-source", "plays a sound file (libsndfile): path, loop, channels"),
        ("alsa-sink", "a sound card's playback PCM (libasound): device (an ALSA PCM name, e.g. hw:0,0, plughw:CARD=PCH,DEV=0, or one from your ALSA config), driver (true: the card clocks the graph; false: it follows by adaptive resampling), headroom (periods, 2), suspend_after (seconds idle, 5), ctl (the control device whose jacks and switches give the ports; default the card's, hw:N), channels"),
        ("alsa-source", "a sound card's capture PCM (libasound): device, follow (true: resample to the driving clock; false: the card shares it, e.g. the driving card's own input), headroom, channels"),
    ]

    /// Parameters of the ALSA device types, checked and removed from `params`.
    struct AlsaParameters {
        var device = "default"
        var isDriver = true
        var headroom = 2
        var suspendAfter = 5.0
        var clockScale = 1.0
        var priority = 100
        var follows = true
        var control: String?

        init(_ params: inout [String: String], name: String) throws(GraphError) {
            if let d = params.removeValue(forKey: "device") {
                guard !d.isEmpty else { throw .invalidParameter(node: name, parameter: "device", value: d, expected: "an ALSA PCM name such as hw:0,0") }
                device = d
            }
            if let v = params.removeValue(forKey: "driver") { isDriver = try ParameterParse.boolean(v, node: name, parameter: "driver") }
            if let v = params.removeValue(forKey: "follow") { follows = try ParameterParse.boolean(v, node: name, parameter: "follow") }
            if let v = params.removeValue(forKey: "headroom") { headroom = try ParameterParse.integer(v, node: name, parameter: "headroom", in: 1...16) }
            if let v = params.removeValue(forKey: "ctl") {
                guard !v.isEmpty else { throw .invalidParameter(node: name, parameter: "ctl", value: v, expected: "an ALSA control device name such as hw:0") }
                control = v
            }
            if let v = params.removeValue(forKey: "priority") { priority = try ParameterParse.integer(v, node: name, parameter: "priority", in: 11...999) }
            if let v = params.removeValue(forKey: "suspend_after") {
                suspendAfter = try ParameterParse.number(v, node: name, parameter: "suspend_after", in: 0...86_400)
            }
            // For the clocked fake card of the tests: device seconds per system second.
            if let v = params.removeValue(forKey: "clock_scale") {
                clockScale = try ParameterParse.number(v, node: name, parameter: "clock_scale", in: 0.01...1000)
            }
        }
    }

    /// Creation-time parameters every type takes.
    static func channelNames(_ params: inout [String: String], name: String, format: GraphFormat) throws(GraphError) -> [String] {
        guard let text = params.removeValue(forKey: "channels") else { return format.channelNames }
        let n = try ParameterParse.integer(text, node: name, parameter: "channels", in: 1...32)
        return GraphFormat.channelNames(count: n)
    }

    /// Makes a node of `type` named `name`; unknown types and bad parameters are errors.
    /// `openDevices: false` (`sluiced --check`) checks device parameters without opening the
    /// device, and returns a stand-in node.
    public static func make(type: String, name: String, parameters: [(String, String)], format: GraphFormat,
                            openDevices: Bool = true) throws(GraphError) -> AudioNode {
        var params: [String: String] = [:]
        for (k, v) in parameters { params[k] = v }
        let channels = try channelNames(&params, name: name, format: format)
        let node: AudioNode
        switch type {
        case "sine": node = SineNode(name: name, channels: channels)
        case "gain": node = GainNode(name: name, channels: channels)
        case "null-sink": node = NullSinkNode(name: name, channels: channels)
        case "mixer":
            let count = try params.removeValue(forKey: "inputs").map { (t: String) throws(GraphError) -> Int in
                try ParameterParse.integer(t, node: name, parameter: "inputs", in: 1...64) } ?? 2
            node = MixerNode(name: name, channels: channels, inputCount: count)
        case "file-sink":
            guard let path = params.removeValue(forKey: "path") else {
                throw .invalidParameter(node: name, parameter: "path", value: "", expected: "a file path (path=/tmp/out.wav)")
            }
            let fmt = params.removeValue(forKey: "format") ?? "float"
            guard let sampleFormat = FileSinkNode.SampleFormat(rawValue: fmt) else {
                throw .invalidParameter(node: name, parameter: "format", value: fmt, expected: "float, s16 or s24")
            }
            let frames = try params.removeValue(forKey: "frames").map { (t: String) throws(GraphError) -> Int in
                try ParameterParse.integer(t, node: name, parameter: "frames", in: 0...Int(Int32.max)) } ?? 0
            node = FileSinkNode(name: name, channels: channels, path: path, sampleFormat: sampleFormat, frameLimit: frames)
        case "file-source":
            guard let path = params.removeValue(forKey: "path") else {
                throw .invalidParameter(node: name, parameter: "path", value: "", expected: "a file path (path=/tmp/in.wav)")
            }
            node = FileSourceNode(name: name, channels: channels, path: path)
        case "alsa-sink", "alsa-source":
            let a = try AlsaParameters(&params, name: name)
            if let extra = params.keys.sorted().first {
                throw .unknownParameter(node: name, parameter: extra, available: ["device", "ctl", "driver", "follow", "headroom", "suspend_after", "priority", "channels"])
            }
            guard openDevices else { return AudioNode(name: name, typeName: type, inputPortNames: [], outputPortNames: []) }
            let stream: AlsaStream = type == "alsa-sink" ? .playback : .capture
            do {
                let pcm = try AlsaPCM.open(name: a.device, stream: stream)
                let device = try AlsaDevice(pcm: pcm, headroomPeriods: a.headroom, clockScale: a.clockScale,
                                            suspendAfterNanos: Int64(a.suspendAfter * 1e9), controlName: a.control)
                node = stream == .playback
                    ? try AlsaSinkNode(name: name, channels: channels, device: device, isDriver: a.isDriver, driverPriority: a.priority)
                    : AlsaSourceNode(name: name, channels: channels, device: device, follows: a.follows)
            } catch {
                throw .nodeSetupFailed(node: name, reason: error.description)
            }
        default:
            throw .unknownNodeType(type, available: types.map(\.name))
        }
        for key in params.keys.sorted() {
            try node.setParameter(key, to: params[key]!)
        }
        return node
    }
}
