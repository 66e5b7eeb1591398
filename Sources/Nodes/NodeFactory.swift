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
    ]

    /// Creation-time parameters every type takes.
    static func channelNames(_ params: inout [String: String], name: String, format: GraphFormat) throws(GraphError) -> [String] {
        guard let text = params.removeValue(forKey: "channels") else { return format.channelNames }
        let n = try ParameterParse.integer(text, node: name, parameter: "channels", in: 1...32)
        return GraphFormat.channelNames(count: n)
    }

    /// Makes a node of `type` named `name`; unknown types and bad parameters are errors.
    public static func make(type: String, name: String, parameters: [(String, String)], format: GraphFormat) throws(GraphError) -> AudioNode {
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
        default:
            throw .unknownNodeType(type, available: types.map(\.name))
        }
        for key in params.keys.sorted() {
            try node.setParameter(key, to: params[key]!)
        }
        return node
    }
}
