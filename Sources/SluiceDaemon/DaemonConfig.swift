import Graph
import TextFormats

/// Everything sluiced.toml can say, validated.
public struct DaemonConfig: Sendable {
    public struct NodeSpec: Sendable, Equatable {
        public var type: String
        public var name: String
        public var parameters: [(String, String)]
        public var position: SourcePosition
        public static func == (a: NodeSpec, b: NodeSpec) -> Bool {
            a.type == b.type && a.name == b.name && a.position == b.position
                && a.parameters.map { $0.0 + "=" + $0.1 } == b.parameters.map { $0.0 + "=" + $0.1 }
        }
    }
    public struct LinkSpec: Sendable, Equatable {
        public var from: String
        public var to: String
        public var position: SourcePosition
    }
    public enum DriverKind: String, Sendable { case timer, freewheel }

    public var format = GraphFormat()
    /// The smallest quantum the graph may switch to for a low-latency client (`[graph]
    /// min_quantum`): 256 frames (5.3 ms at 48 kHz), as pipewire-pulse's `pulse.min.quantum` —
    /// a pulse client asking for 10 ms would otherwise run the graph at 64 frames, four times
    /// the wake-ups for no latency a pulse client can use (its own buffer is larger).
    public var minimumQuantum = 256
    /// The largest quantum pulse streams with deep buffers may let the graph grow to
    /// (`[graph] max_quantum`; nil: 8192, or `quantum` when that is larger).
    public var maximumQuantum: Int?
    /// The engine's format: buffers sized for the maximum quantum, cycles at `format.quantum`.
    public var engineFormat: GraphFormat {
        GraphFormat(sampleRate: format.sampleRate, quantum: max(maximumQuantum ?? 8192, format.quantum),
                    channelNames: format.channelNames, defaultQuantum: format.quantum)
    }
    /// How many timer ticks a graph may run per wake-up while nothing observes its output live
    /// (`[graph] max_cycles_per_wakeup`; 1 turns deferral off). See `Engine.maximumCyclesPerWake`.
    public var maximumCyclesPerWake = 8
    public var realtimePriority: Int32 = 80
    public var driver: DriverKind = .timer
    public var controlSocket: String?
    public var logLevel = "info"
    /// The pulse server: on by default, at $XDG_RUNTIME_DIR/pulse/native unless `socket` says.
    public var pulseEnabled = true
    public var pulseSocket: String?
    public var pulseMaxClients = 4096
    /// Offer the srbchannel to memfd clients (`[pulse] srbchannel`).
    public var pulseSrbchannel = true
    /// Make a sink and a source of every sound card found at start (`[alsa] autodetect`).
    public var alsaAutodetect = true
    public var nodes: [NodeSpec] = []
    public var links: [LinkSpec] = []
    /// Where it came from, for messages ("built-in default" when no file).
    public var source = "built-in default"

    public init() {}

    /// The configuration used when no file exists: a timer-driven null sink.
    public static let builtInText = """
    # Built-in default: one null sink driven by the system clock.
    [graph]
    rate = 48000
    quantum = 1024
    channels = 2

    [realtime]
    priority = 80

    [driver]
    type = "timer"

    [[node]]
    type = "null-sink"
    name = "null"
    """
}

/// One problem in a config file, located.
public struct ConfigError: Error, Sendable, Equatable, CustomStringConvertible {
    public let file: String
    public let position: SourcePosition
    public let key: String?
    public let message: String
    public var description: String {
        "\(file):\(position.line):\(position.column): \(key.map { "'\($0)': " } ?? "")\(message)"
    }
}

/// Every problem found in one config file, in file order.
public struct ConfigErrors: Error, Sendable, Equatable {
    public let errors: [ConfigError]
}
