/// Maps audio between a client's channel layout and the graph's. [control]
///
/// Positions are pulse channel positions (`pa_channel_position_t` wire values). Matching
/// positions are copied; mono is spread to every channel; a graph channel nobody feeds gets the
/// average of the client's channels when the client is mono or the layouts share nothing.
public struct ChannelRemix: Sendable, Equatable {
    public let inputCount: Int
    public let outputCount: Int
    /// For each output channel, the input channels summed into it and their weight.
    let sources: [[Int]]

    public init(from input: [UInt8], to output: [UInt8]) {
        inputCount = input.count
        outputCount = output.count
        var sources: [[Int]] = []
        for position in output {
            if input.count == 1 { sources.append([0]); continue }
            if let i = input.firstIndex(of: position) { sources.append([i]); continue }
            if position == 0, !input.isEmpty { sources.append(Array(0..<input.count)); continue }   // mono out: downmix
            sources.append([])
        }
        // Layouts that share nothing (e.g. aux channels): fall back to index order.
        if sources.allSatisfy(\.isEmpty) {
            sources = (0..<output.count).map { $0 < input.count ? [$0] : [] }
        }
        self.sources = sources
    }

    public var isIdentity: Bool { inputCount == outputCount && sources.enumerated().allSatisfy { $0.element == [$0.offset] } }

    /// Remixes interleaved `frames` frames.
    public func apply(_ input: [Float], frames: Int) -> [Float] {
        if isIdentity { return input }
        var out = [Float](repeating: 0, count: frames * outputCount)
        for f in 0..<frames {
            for (o, src) in sources.enumerated() where !src.isEmpty {
                var sum: Float = 0
                for i in src { sum += input[f * inputCount + i] }
                out[f * outputCount + o] = sum / Float(src.count)
            }
        }
        return out
    }

    /// Pulse channel positions for a graph channel name (FL, FR, MONO, ...).
    public static func position(ofGraphChannel name: String) -> UInt8 {
        switch name {
        case "MONO": 0
        case "FL": 1
        case "FR": 2
        case "FC": 3
        case "RC": 4
        case "RL": 5
        case "RR": 6
        case "LFE": 7
        case "FLC": 8
        case "FRC": 9
        case "SL": 10
        case "SR": 11
        default:
            if name.hasPrefix("AUX"), let n = Int(name.dropFirst(3)), (0..<32).contains(n) { UInt8(12 + n) } else { 0 }
        }
    }
}
