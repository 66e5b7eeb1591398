import PulseWire
import Graph
import SluiceSystem

/// Format of a pulse stream on the client's side.
struct ClientFormat {
    let encoding: PCMEncoding
    let channels: Int
    let rate: Int
    let map: [UInt8]
    var frameSize: Int { encoding.bytesPerSample * channels }
    var bytesPerSecond: Int { frameSize * rate }
    var spec: WireSampleSpec { WireSampleSpec(format: encoding.rawValue, channels: UInt8(channels), rate: UInt32(rate)) }

    /// The format_info PulseAudio sends for a PCM stream (values are JSON strings).
    var formatInfoProperties: [(String, [UInt8])] {
        [("format.sample_format", Props.string("\"\(encoding.name)\"")), ("format.rate", Props.string(String(rate))),
         ("format.channels", Props.string(String(channels))),
         ("format.channel_map", Props.string("\"" + map.map(channelPositionName).joined(separator: ",") + "\""))]
    }
}

/// A playback stream's control-side state. [control]
final class PlaybackStream {
    let channel: UInt32
    let index: UInt32
    let node: PlaybackStreamNode
    let format: ClientFormat
    var metrics: PlaybackMetrics { didSet { updateSignalling() } }
    var sinkName: String
    let remix: ChannelRemix
    let resampler: Resampler?
    let graphRate: Int
    var properties: [(String, [UInt8])]
    var volume: [UInt32]
    var muted: Bool
    /// The stream's write index in the client's bytes: where its next byte goes (a seek moves it).
    var writeIndex: Int64 = 0
    /// The end of the data written, in the client's bytes (RELATIVE_END seeks from here).
    var endIndex: Int64 = 0
    /// Where the next sample goes in the ring (absolute sample positions, as
    /// `SampleRing.writePosition`); behind `ringEnd` after a backward seek, ahead of it after a
    /// forward seek past the end (the gap becomes silence).
    private var ringCursor = 0
    /// The end of what was written to the ring.
    private var ringEnd = 0
    /// Bytes requested from the client and not yet received.
    var outstanding: Int64 = 0
    var pendingDrains: [UInt32] = []
    var partialFrame: [UInt8] = []
    /// Reused decode buffer (at most `chunkFrames` frames).
    private var decoded: [Float] = []
    var sentStarted = false
    /// Frames played when the stream (re)started, for playing_for; and underrun bookkeeping.
    var playedAtFlush = 0

    init(channel: UInt32, index: UInt32, node: PlaybackStreamNode, format: ClientFormat, metrics: PlaybackMetrics,
         sinkName: String, graphChannels: [String], graphRate: Int, properties: [(String, [UInt8])], volume: [UInt32], muted: Bool) {
        self.channel = channel
        self.index = index
        self.node = node
        self.format = format
        self.metrics = metrics
        self.sinkName = sinkName
        self.remix = ChannelRemix(from: format.map, to: graphChannels.map(ChannelRemix.position(ofGraphChannel:)))
        self.resampler = format.rate == graphRate ? nil : Resampler(channels: graphChannels.count, inputRate: format.rate, outputRate: graphRate)
        self.graphRate = graphRate
        self.properties = properties
        self.volume = volume
        self.muted = muted
        updateSignalling()
    }

    var name: String { Props.value(properties, "media.name") ?? "Playback Stream" }

    /// Whether a stream of `format` can queue its bytes unconverted (`PlaybackStreamNode.rawRing`):
    /// s16le on a little-endian host, at the graph's rate, channel for channel in the graph's layout.
    static func queuesRaw(_ format: ClientFormat, graphChannels: [String], graphRate: Int) -> Bool {
        format.encoding == .s16le && 1.littleEndian == 1 && format.rate == graphRate
            && ChannelRemix(from: format.map, to: graphChannels.map(ChannelRemix.position(ofGraphChannel:))).isIdentity
    }

    /// Missing bytes worth a REQUEST: minreq, or half of tlength for a client with a deep buffer
    /// (≥ 0.5 s, such as pacat's default 2 s). Bigger, rarer requests keep what every cycle costs
    /// per stream — a wake-up of the client and of us — off the control thread while the queue
    /// never drops below half a second; low-latency clients keep PulseAudio's minreq cadence.
    var requestThreshold: Int64 {
        let tlength = Int64(metrics.targetLength)
        let deep = tlength >= Int64(format.bytesPerSecond / 2)
        return max(Int64(metrics.minimumRequest), deep ? tlength / 2 : 0)
    }

    /// The RT thread wakes the control thread where the next request falls due (see
    /// `scheduleSignal`) and at once when the stream starts playing; not every cycle. As a
    /// backstop, at least every tlength.
    private func updateSignalling() {
        let frames = Int64(metrics.targetLength) * Int64(graphRate) / Int64(format.bytesPerSecond)
        node.signalEveryFrames.store(max(Int(frames), 1), ordering: .relaxed)
    }

    /// Tells the RT thread at which `framesPlayed` the missing bytes (`missing`, now) reach the
    /// request threshold: one wake-up of the control thread per request.
    func scheduleSignal(missing: Int64) {
        let bytes = max(requestThreshold - missing, 0)
        let clientFrames = (bytes + Int64(format.frameSize) - 1) / Int64(format.frameSize)
        let frames = (clientFrames * Int64(graphRate) + Int64(format.rate) - 1) / Int64(format.rate) + 1
        node.signalAtFrames.store(node.framesPlayed.load(ordering: .relaxed) + Int(frames), ordering: .relaxed)
    }

    /// Bytes the RT thread has consumed, in the client's units (the read index).
    var readIndex: Int64 {
        let played = Int64(node.framesPlayed.load(ordering: .relaxed) - playedAtFlush)
        return min(played * Int64(format.rate) / Int64(graphRate) * Int64(format.frameSize), endIndex)
    }

    var queuedBytes: Int64 { max(writeIndex - readIndex, 0) }

    /// Frames converted per step: bounds the scratch buffer whatever size a client writes.
    static let chunkFrames = 4096

    /// Converts client bytes and queues them for the RT thread at the write index. Returns the
    /// bytes that did not fit. The bytes may be a view into the client's (sealed, read-only)
    /// pool: nothing is copied before decoding, and the common case — the graph's layout at the
    /// graph's rate, no seek pending — decodes into one reused buffer and goes straight into the ring.
    func enqueue(_ data: UnsafeRawBufferPointer) -> Int {
        writeIndex += Int64(data.count)
        endIndex = max(endIndex, writeIndex)
        var rest = data
        let ring = node.writerRing
        if ringCursor != ringEnd {
            // After a seek: rewrite from the cursor (never what the RT thread has read or is
            // reading: the part of `data` meant for that is dropped, as PulseAudio drops data
            // written before the read index), or fill the gap past the end with silence.
            if ringCursor < ringEnd {
                let start = ring.rewind(to: ringCursor)
                let skipBytes = min(clientBytes(ringSamples: start - ringCursor), rest.count)
                rest = UnsafeRawBufferPointer(rebasing: rest[skipBytes...])
            } else {
                ring.produceZeros(count: ringCursor - ringEnd)
            }
        }
        let lost = enqueueAtCursor(rest)
        ringCursor = ring.writePosition
        ring.restore(to: ringEnd)
        ringEnd = max(ringEnd, ringCursor)
        return lost
    }

    private func enqueueAtCursor(_ data: UnsafeRawBufferPointer) -> Int {
        let fs = format.frameSize
        var lost = 0
        var rest = data
        if !partialFrame.isEmpty {
            let take = min(fs - partialFrame.count, rest.count)
            partialFrame.append(contentsOf: rest[0..<take])
            rest = UnsafeRawBufferPointer(rebasing: rest[take...])
            if partialFrame.count == fs {
                lost += partialFrame.withUnsafeBytes { convert($0) }
                partialFrame.removeAll(keepingCapacity: true)
            }
        }
        var offset = 0
        let usable = rest.count / fs * fs
        while offset < usable {
            let n = min(usable - offset, Self.chunkFrames * fs)
            lost += convert(UnsafeRawBufferPointer(rebasing: rest[offset..<(offset + n)]))
            offset += n
        }
        if usable < rest.count { partialFrame.append(contentsOf: rest[usable...]) }
        return lost
    }

    /// Moves the write index to `index` (client bytes), as a pulse seek does: the next data
    /// overwrites what is queued from there (PulseAudio's memblockq keeps what lies beyond the
    /// overwritten part, and so does this), or leaves a gap of silence past the end, at most
    /// maxlength. A partly received frame is dropped.
    func seek(to index: Int64) {
        let target = min(index, endIndex + Int64(metrics.maxLength))
        guard target != writeIndex else { return }
        partialFrame.removeAll(keepingCapacity: true)
        let frames = (target - writeIndex) / Int64(format.frameSize)
        ringCursor += Int(frames * Int64(graphRate) / Int64(format.rate)) * node.channelCount
        writeIndex = target
    }

    /// Drops what is queued but what the RT thread is reading this cycle (at most a quantum):
    /// the read index jumps to the write index. Returns the frames kept.
    func flush() -> Int {
        let ring = node.writerRing
        let kept = ring.rewind(to: ring.readPosition)
        let keptFrames = max(kept - ring.readPosition, 0) / max(node.channelCount, 1)
        ringCursor = kept
        ringEnd = kept
        partialFrame.removeAll(keepingCapacity: true)
        endIndex = writeIndex
        playedAtFlush = node.framesPlayed.load(ordering: .relaxed) + keptFrames
            - Int(writeIndex / Int64(format.frameSize) * Int64(graphRate) / Int64(format.rate))
        return keptFrames
    }

    /// Ring samples → the client's bytes (whole frames, rounded up).
    private func clientBytes(ringSamples: Int) -> Int {
        let graphFrames = (ringSamples + node.channelCount - 1) / max(node.channelCount, 1)
        let frames = (graphFrames * format.rate + graphRate - 1) / graphRate
        return frames * format.frameSize
    }

    /// Decodes whole frames and writes them to the ring; returns the bytes that did not fit.
    private func convert(_ bytes: UnsafeRawBufferPointer) -> Int {
        let frames = bytes.count / format.frameSize
        let samples = frames * format.channels
        if let raw = node.rawRing {
            // s16 in the graph's layout and rate: queued as it came (little-endian, as the host),
            // converted by the RT thread as it plays.
            let written = raw.produce(count: samples) { destination, offset, length in
                UnsafeMutableRawPointer(destination).copyMemory(from: bytes.baseAddress! + offset * 2, byteCount: length * 2)
            }
            return (samples - written) / max(format.channels, 1) * format.frameSize
        }
        if remix.isIdentity && resampler == nil {
            // The common case: decode straight into the ring's free space, no copy.
            let bytesPerSample = format.encoding.bytesPerSample
            let encoding = format.encoding
            let written = node.ring.produce(count: samples) { destination, offset, length in
                encoding.decode(UnsafeRawBufferPointer(rebasing: bytes[(offset * bytesPerSample)...]), count: length, into: destination)
            }
            return (samples - written) / max(format.channels, 1) * format.frameSize
        }
        if decoded.count < samples { decoded = [Float](repeating: 0, count: samples) }
        decoded.withUnsafeMutableBufferPointer { format.encoding.decode(bytes, count: samples, into: $0.baseAddress!) }
        var graph = remix.apply(Array(decoded[0..<samples]), frames: frames)
        if let resampler {
            var out: [Float] = []
            resampler.process(graph, appendingTo: &out)
            graph = out
        }
        let written = graph.withUnsafeBufferPointer { node.ring.write($0.baseAddress!, count: $0.count) }
        let lostSamples = graph.count - written
        return lostSamples / max(remix.outputCount, 1) * format.frameSize
    }

    /// A drain: what the resampler still holds goes to the graph too, so nothing is cut off.
    func flushResampler() {
        guard let resampler else { return }
        var tail: [Float] = []
        resampler.flush(appendingTo: &tail)
        if !tail.isEmpty { _ = tail.withUnsafeBufferPointer { node.ring.write($0.baseAddress!, count: $0.count) } }
    }

    /// Applies cvolume × sink volume to the node, per graph channel.
    func applyVolume(sinkGain: Float) {
        var gains: [Float] = []
        for o in 0..<remix.outputCount {
            let src = remix.sources[o].first ?? 0
            let v = src < volume.count ? volume[src] : (volume.first ?? volumeNorm)
            gains.append(linearGain(v) * sinkGain)
        }
        node.volume.set(gains)
        node.volume.muted.store(muted, ordering: .relaxed)
    }
}

/// A record stream's control-side state. [control]
final class RecordStream {
    let channel: UInt32
    let index: UInt32
    let node: RecordStreamNode
    let format: ClientFormat
    var metrics: RecordMetrics
    var sourceName: String
    let remix: ChannelRemix
    let resampler: Resampler?
    var properties: [(String, [UInt8])]
    var pending: [UInt8] = []
    /// Bytes produced for the client (write index) and sent (read index).
    var producedBytes: Int64 = 0
    var sentBytes: Int64 = 0
    var volume: [UInt32]
    var muted: Bool

    init(channel: UInt32, index: UInt32, node: RecordStreamNode, format: ClientFormat, metrics: RecordMetrics, sourceName: String,
         graphChannels: [String], graphRate: Int, properties: [(String, [UInt8])], volume: [UInt32], muted: Bool) {
        self.channel = channel
        self.index = index
        self.node = node
        self.format = format
        self.metrics = metrics
        self.sourceName = sourceName
        self.remix = ChannelRemix(from: graphChannels.map(ChannelRemix.position(ofGraphChannel:)), to: format.map)
        self.resampler = format.rate == graphRate ? nil : Resampler(channels: format.channels, inputRate: graphRate, outputRate: format.rate)
        self.properties = properties
        self.volume = volume
        self.muted = muted
    }

    var name: String { Props.value(properties, "media.name") ?? "Record Stream" }

    /// Takes what the RT thread captured and converts it to the client's format.
    func collect(scratch: inout [Float]) {
        let channels = node.channelCount
        let available = node.ring.readableCount / channels
        guard available > 0 else { return }
        if remix.isIdentity && resampler == nil {
            // The graph's layout and rate: encoded straight from the ring, no copies.
            let before = pending.count
            let encoding = format.encoding
            node.ring.consume(count: available * channels) { source, _, length in
                encoding.encode(source, count: length, appendingTo: &pending)
            }
            producedBytes += Int64(pending.count - before)
            return
        }
        if scratch.count < available * channels { scratch = [Float](repeating: 0, count: available * channels) }
        let got = scratch.withUnsafeMutableBufferPointer { node.ring.read(into: $0.baseAddress!, count: available * channels) } / channels
        var client = remix.apply(Array(scratch[0..<(got * channels)]), frames: got)
        if let resampler {
            var out: [Float] = []
            resampler.process(client, appendingTo: &out)
            client = out
        }
        let before = pending.count
        client.withUnsafeBufferPointer { format.encoding.encode($0.baseAddress!, count: $0.count, appendingTo: &pending) }
        producedBytes += Int64(pending.count - before)
    }

    func applyVolume() {
        let gains = (0..<node.channelCount).map { c in linearGain(c < volume.count ? volume[c] : (volume.first ?? volumeNorm)) }
        node.volume.set(gains)
        node.volume.muted.store(muted, ordering: .relaxed)
    }
}
