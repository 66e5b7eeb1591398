/// The format every audio port of a graph carries: one channel of 32-bit float at `sampleRate`.
public struct GraphFormat: Sendable, Equatable {
    public var sampleRate: Int
    /// The largest quantum (frames per cycle) the graph may run at: buffers are sized for it.
    /// 32...8192.
    public var quantum: Int
    /// The quantum cycles run at unless clients need less latency, or all of them allow more
    /// (up to `quantum`). Sound cards size their period by it.
    public var defaultQuantum: Int
    /// Default channel layout for nodes that don't say otherwise (port suffixes: FL, FR, ...).
    public var channelNames: [String]

    public static let quantumRange = 32...8192
    public static let sampleRateRange = 8000...384_000

    public init(sampleRate: Int = 48_000, quantum: Int = 1024, channelNames: [String] = ["FL", "FR"], defaultQuantum: Int? = nil) {
        self.sampleRate = sampleRate
        self.quantum = quantum
        self.defaultQuantum = min(defaultQuantum ?? quantum, quantum)
        self.channelNames = channelNames
    }

    /// One cycle's duration.
    public var periodNanos: Int64 { Int64(quantum) * 1_000_000_000 / Int64(sampleRate) }

    /// Bytes one port buffer of `frameCount` frames occupies.
    public static func byteCount(frameCount: Int) -> Int { frameCount * MemoryLayout<Float>.stride }

    /// Standard channel names for a channel count, as PulseAudio/PipeWire name positions.
    public static func channelNames(count: Int) -> [String] {
        switch count {
        case 1: ["MONO"]
        case 2: ["FL", "FR"]
        case 3: ["FL", "FR", "LFE"]
        case 4: ["FL", "FR", "RL", "RR"]
        case 5: ["FL", "FR", "FC", "RL", "RR"]
        case 6: ["FL", "FR", "FC", "LFE", "RL", "RR"]
        case 8: ["FL", "FR", "FC", "LFE", "RL", "RR", "SL", "SR"]
        default: (0..<max(count, 0)).map { "AUX\($0)" }
        }
    }
}
