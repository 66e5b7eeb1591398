import PulseWire
import Glibc
import Graph
import SluiceSystem

/// What the daemon configures.
public struct PulseServerConfig: Sendable {
    public var socketPath: String
    public var cookiePath: String?
    public var maxClients: Int = 4096
    /// An unauthenticated connection is dropped after this long.
    public var authTimeoutSeconds: Int = 10
    public var serverName = "sluice"
    /// Offer the srbchannel (shared ring for packets) to memfd clients, as PulseAudio does.
    public var srbchannel = true
    public init(socketPath: String, cookiePath: String?) {
        self.socketPath = socketPath
        self.cookiePath = cookiePath
    }
}

/// A sink as pulse clients see it: a graph node that consumes audio, with its monitor source.
struct PulseSink {
    let index: UInt32
    let name: String
    let channelNames: [String]
    /// A capture device (an `alsa-source` node) rather than a sink: as a pulse source it is
    /// itself, not a monitor.
    var isCapture = false
    var monitorName: String { isCapture ? name : name + ".monitor" }
}

/// The PulseAudio native-protocol server: one listening socket, one `PulseConnection` per client,
/// each stream a node in the graph. Runs on the daemon's control thread. [control]
public final class PulseServer {
    let engine: Engine
    let loop: EventLoop
    let config: PulseServerConfig
    let log: (String) -> Void
    let cookie: [UInt8]
    private var listener: UnixSocket?
    var connections: [UInt32: PulseConnection] = [:]
    private var nextClientIndex: UInt32 = 1
    var nextStreamIndex: UInt32 = 1
    /// Card indices by card key (`PulseCard`), handed out on first sight and kept.
    private var cardIndices: [String: UInt32] = [:]

    func cardIndex(forKey key: String) -> UInt32 {
        if let i = cardIndices[key] { return i }
        let i = UInt32(cardIndices.count)
        cardIndices[key] = i
        return i
    }
    let progress: EventFD
    private let authTimer: TimerFD
    private var authTimerToken: EventLoop.Token?
    let serverCookie = UInt32.random(in: 1...UInt32.max)
    var defaultSinkName: String?
    var defaultSourceName: String?
    var sinkVolumes: [String: (volume: [UInt32], muted: Bool)] = [:]
    var scratch: [Float] = []

    public init(engine: Engine, loop: EventLoop, config: PulseServerConfig, log: @escaping (String) -> Void) throws(Errno) {
        self.engine = engine
        self.loop = loop
        self.config = config
        self.log = log
        self.cookie = (try? config.cookiePath.map { path throws(Errno) in try PulseCookie.loadOrCreate(at: path) }) ?? nil ?? []
        progress = try EventFD()
        authTimer = try TimerFD()
    }

    /// Binds the socket (its directory is created mode 0700) and starts accepting clients.
    public func start() throws(Errno) {
        let dir = String(config.socketPath[..<(config.socketPath.lastIndex(of: "/") ?? config.socketPath.startIndex)])
        if !dir.isEmpty { try PulseCookie.makeDirectories(dir) }
        // The directory is private (0700); the socket may be opened by anyone who can reach it,
        // and access is decided at AUTH (same uid, or the cookie).
        let l = try UnixSocket.listen(path: config.socketPath, backlog: 4096, mode: 0o666)
        listener = l
        try loop.register(l.fd, events: .readable) { [unowned self] _ in acceptClients() }
        try loop.register(progress.fd, events: .readable) { [unowned self] _ in serviceStreams() }
        authTimerToken = try loop.register(authTimer.fd, events: .readable) { [unowned self] _ in expireUnauthenticated() }
        engine.addPoolSource { [unowned self] in poolInfos() }
        if defaultSinkName == nil { defaultSinkName = sinks().first?.name }
        if defaultSourceName == nil { defaultSourceName = captureSources().first?.name ?? defaultSinkName.map { $0 + ".monitor" } }
        log("pulse server listening on \(config.socketPath)")
    }

    /// Disconnects every client and closes the socket.
    public func stop() {
        for c in connections.values { c.close(reason: nil) }
        connections.removeAll()
        unlink(config.socketPath)
    }

    // MARK: Objects

    /// Sinks: graph nodes that consume audio (null sinks now, ALSA sinks later), in graph order.
    func sinks() -> [PulseSink] {
        engine.snapshot().nodes.filter { Self.sinkTypes.contains($0.type) }.map {
            PulseSink(index: UInt32($0.id), name: $0.name,
                      channelNames: $0.inputs.map { String($0.name.split(separator: "_").last ?? "MONO") })
        }
    }

    func sink(named name: String?, index: UInt32) -> PulseSink? {
        let all = sinks()
        if index != invalidIndex { return all.first { $0.index == index } }
        let wanted = (name == nil || name == "@DEFAULT_SINK@" || name == "") ? defaultSinkName : name
        return all.first { $0.name == wanted }
    }

    /// Capture devices (ALSA sources), as pulse sources of their own.
    func captureSources() -> [PulseSink] {
        engine.snapshot().nodes.filter { Self.sourceTypes.contains($0.type) }.map {
            PulseSink(index: UInt32($0.id), name: $0.name,
                      channelNames: $0.outputs.map { String($0.name.split(separator: "_").last ?? "MONO") }, isCapture: true)
        }
    }

    /// Sources: capture devices, then the monitor of each sink (index = the sink's index; node
    /// ids are unique, so the two never collide).
    func sources() -> [PulseSink] { captureSources() + sinks() }

    /// Graph latency plus what the node's device holds, in µs.
    func deviceLatencyMicros(_ name: String) -> UInt64 {
        let external = (try? engine.node(named: name))?.externalLatencyNanos ?? 0
        return UInt64(max(engine.periodNanos + external, 0) / 1000)
    }

    func source(named name: String?, index: UInt32) -> PulseSink? {
        let all = sources()
        if index != invalidIndex { return all.first { $0.index == index } }
        var wanted = (name == nil || name == "@DEFAULT_SOURCE@" || name == "" || name == "@DEFAULT_MONITOR@") ? defaultSourceName : name
        if name == "@DEFAULT_MONITOR@", let d = defaultSinkName { wanted = d + ".monitor" }
        return all.first { $0.monitorName == wanted || $0.name == wanted }
    }

    func sinkGain(_ name: String) -> Float {
        guard let v = sinkVolumes[name] else { return 1 }
        if v.muted { return 0 }
        return v.volume.isEmpty ? 1 : linearGain(v.volume.max() ?? volumeNorm)
    }

    var playbackStreams: [PlaybackStream] { connections.values.flatMap { $0.playback.values } }
    var recordStreams: [RecordStream] { connections.values.flatMap { $0.record.values } }

    /// Re-applies volumes of every stream on `sink` (after a sink volume change).
    func refreshVolumes(sink: String) {
        for s in playbackStreams where s.sinkName == sink { s.applyVolume(sinkGain: sink == s.sinkName ? sinkGain(sink) : 1) }
    }

    /// Runs the graph at the largest power-of-two quantum that meets every stream's latency
    /// (the configured quantum when no stream asks for less). PipeWire does the same; PulseAudio
    /// instead rewinds and wakes per client.
    func updateQuantum() {
        let rate = UInt64(engine.format.sampleRate)
        // With no stream: the configured quantum. With streams: as long as every one of them
        // allows (up to `max_quantum`): deep client buffers then cost fewer wake-ups.
        var frames = playbackStreams.isEmpty && recordStreams.isEmpty ? engine.format.defaultQuantum : engine.format.quantum
        for s in playbackStreams { frames = min(frames, Int(s.metrics.configuredLatencyMicros * rate / 1_000_000)) }
        for s in recordStreams where s.metrics.configuredLatencyMicros > 0 {
            frames = min(frames, Int(s.metrics.configuredLatencyMicros * rate / 1_000_000))
        }
        var q = 1
        while q * 2 <= frames { q *= 2 }
        engine.setQuantum(q)
        updateDeferral()
    }

    /// Lets the timer run several cycles per wake-up while every playing stream is settled and
    /// deep-buffered (the engine allows it only while nothing observes the output live: a null
    /// sink nobody monitors). PulseAudio's null sink renders up to its latency ahead and
    /// rewinds; this renders late instead, so nothing needs rewinding — the few commands whose
    /// effect depends on where playback is (start, cork, flush, seek, drain) first have the
    /// deferred ticks run (`Engine.catchUp`). A stream asks for more when its queue is down to
    /// tlength − threshold ("spare"); the request leaves at the end of the batch in which that
    /// happens, up to k − 1 ticks later. The client then has until the next batch, k ticks, to
    /// send the data; only a catch-up in between (another client's command) runs ticks sooner,
    /// and the queue left after the batch, at worst spare − (k − 1) ticks, must still give it
    /// `answerNanos`. (Missing it costs an underrun on a sink nobody hears.) A stream waiting for
    /// STARTED or a drain keeps a wake-up per tick, so those events come on time.
    static let answerNanos: Int64 = 100_000_000

    func updateDeferral() {
        let q = Int64(engine.quantum), rate = Int64(engine.format.sampleRate)
        let answer = Self.answerNanos * rate / 1_000_000_000
        var k = Int64(engine.maximumCyclesPerWake)
        // A recorder with large fragments (parec's 2 s) gets its data up to a batch late: at
        // least two batches per fragment. Any other recorder keeps a wake-up per tick.
        for s in recordStreams where !s.node.corked.load(ordering: .relaxed) {
            let fragFrames = Int64(s.metrics.fragmentSize) * rate / Int64(s.format.bytesPerSecond)
            k = s.node.deferrable ? min(k, fragFrames / 2 / q) : 1
        }
        for s in playbackStreams where s.node.started.load(ordering: .relaxed) && !s.node.corked.load(ordering: .relaxed) {
            if !s.sentStarted || !s.pendingDrains.isEmpty { k = 1; break }
            let spare = (Int64(s.metrics.targetLength) - s.requestThreshold) * rate / Int64(s.format.bytesPerSecond)
            k = min(k, (spare - answer) / q + 1)
        }
        engine.setCyclesPerWake(Int(max(k, 1)))
    }

    /// A device's ports changed (a jack plugged in or out): subscribers hear of its sink or
    /// source, and of its card.
    public func deviceChanged(name: String) {
        if let sink = sinks().first(where: { $0.name == name }) {
            post(facility: Subscription.facilitySink, type: Subscription.change, index: sink.index)
        } else if let source = captureSources().first(where: { $0.name == name }) {
            post(facility: Subscription.facilitySource, type: Subscription.change, index: source.index)
        } else {
            return
        }
        let card = (try? engine.node(named: name)).map(cardIndex(of:)) ?? invalidIndex
        if card != invalidIndex { post(facility: Subscription.facilityCard, type: Subscription.change, index: card) }
    }

    /// A sink left the graph (its card vanished, or `sluice rm`): PulseAudio's policy, as
    /// module-rescue-streams does it — every stream on it moves to the default sink (a new
    /// default is chosen first when it was the default), every recorder of its monitor to the
    /// default sink's monitor; clients hear of it through their subscriptions.
    func sinkRemoved(name: String, index: UInt32) {
        let remaining = sinks()
        if defaultSinkName == name { defaultSinkName = remaining.first?.name }
        if defaultSourceName == name + ".monitor" || defaultSourceName == name { defaultSourceName = defaultSinkName.map { $0 + ".monitor" } }
        post(facility: Subscription.facilitySink, type: Subscription.remove, index: index)
        post(facility: Subscription.facilitySource, type: Subscription.remove, index: index)
        post(facility: Subscription.facilityServer, type: Subscription.change, index: invalidIndex)
        guard let target = remaining.first(where: { $0.name == defaultSinkName }) else {
            log("sink \(name) removed; no sink is left for its streams")
            return
        }
        for s in playbackStreams where s.sinkName == name {
            do {
                try engine.link(node: s.node.name, to: target.name)
                s.sinkName = target.name
                s.applyVolume(sinkGain: sinkGain(target.name))
                post(facility: Subscription.facilitySinkInput, type: Subscription.change, index: s.index)
            } catch { log("could not move stream \(s.index) to \(target.name): \(error)") }
        }
        moveRecorders(from: name + ".monitor", to: target)
        log("sink \(name) removed; its streams moved to \(target.name)")
    }

    /// A capture device left the graph: its recorders move to the default source (a new one is
    /// chosen first when it was the default).
    func sourceRemoved(name: String, index: UInt32) {
        if defaultSourceName == name { defaultSourceName = captureSources().first?.name ?? defaultSinkName.map { $0 + ".monitor" } }
        post(facility: Subscription.facilitySource, type: Subscription.remove, index: index)
        post(facility: Subscription.facilityServer, type: Subscription.change, index: invalidIndex)
        guard let target = source(named: defaultSourceName, index: invalidIndex) else { return }
        moveRecorders(from: name, to: target)
        log("source \(name) removed; its recorders moved to \(target.monitorName)")
    }

    /// Relinks every recorder of pulse source `sourceName` to `target` (a sink's monitor or a
    /// capture device) and tells subscribers.
    private func moveRecorders(from sourceName: String, to target: PulseSink) {
        for s in recordStreams where s.sourceName == sourceName {
            do {
                try engine.link(node: target.name, to: s.node.name)
                s.sourceName = target.monitorName
                post(facility: Subscription.facilitySourceOutput, type: Subscription.change, index: s.index)
            } catch { log("could not move recorder \(s.index) to \(target.monitorName): \(error)") }
        }
    }

    /// A graph node left (`sluice rm`, a card gone): if it was a pulse sink or source, its
    /// streams are rescued. Node types name what is a sink and what a source, here only.
    public func nodeRemoved(name: String, index: UInt32, type: String) {
        if Self.sinkTypes.contains(type) { sinkRemoved(name: name, index: index) }
        if Self.sourceTypes.contains(type) { sourceRemoved(name: name, index: index) }
    }

    /// Graph node types that are pulse sinks (their monitors being pulse sources too), and those
    /// that are pulse sources of their own.
    static let sinkTypes: Set<String> = ["null-sink", "alsa-sink"]
    static let sourceTypes: Set<String> = ["alsa-source"]

    // MARK: Events

    func post(facility: UInt32, type: UInt32, index: UInt32) {
        let mask: UInt32 = 1 << facility
        for c in connections.values where c.subscriptionMask & mask != 0 {
            var w = WireWriter(command: Command.subscribeEvent.rawValue, tag: invalidIndex)
            w.u32(facility | type)
            w.u32(index)
            c.send(w.frame)
        }
    }

    /// Every client's pools, for `sluice dump`: the ones it registered with us (sealed by us on
    /// receipt) and the one we write its record data into.
    func poolInfos() -> [PoolInfo] {
        var out: [PoolInfo] = []
        for c in connections.values.sorted(by: { $0.index < $1.index }) {
            for (shmID, pool) in c.imports.sorted(by: { $0.key < $1.key }) {
                switch pool {
                case .mapped(let m):
                    out.append(PoolInfo(id: Int(shmID), domain: .client(id: c.index), purpose: "imported", byteCount: m.byteCount,
                                        seals: m.seals, mapping: m.procMapName, slotCount: 0, slotsInUse: 0))
                case .unsealable(_, let n):
                    out.append(PoolInfo(id: Int(shmID), domain: .client(id: c.index), purpose: "imported-unsealable (pread)",
                                        byteCount: n, seals: [], mapping: "", slotCount: 0, slotsInUse: 0))
                }
            }
            if let e = c.exportPool {
                out.append(PoolInfo(id: Int(e.shmID), domain: .client(id: c.index), purpose: "record", byteCount: e.mapping.byteCount,
                                    seals: e.mapping.seals, mapping: e.mapping.procMapName, slotCount: ExportPool.slotCount,
                                    slotsInUse: e.slotsInUse))
            }
            if let m = c.srbchannelPool {
                out.append(PoolInfo(id: 0, domain: .client(id: c.index), purpose: c.srbchannelInUse ? "srbchannel" : "srbchannel (offered)",
                                    byteCount: m.byteCount, seals: m.seals, mapping: m.procMapName, slotCount: 0, slotsInUse: 0))
            }
        }
        return out
    }

    // MARK: Connections

    private func acceptClients() {
        guard let listener else { return }
        while let s = try? listener.accept() {
            guard connections.count < config.maxClients else {
                log("pulse: refusing a client: \(config.maxClients) clients connected (max_clients)")
                continue
            }
            let index = nextClientIndex
            nextClientIndex += 1
            let creds = try? s.peerCredentials()
            let c = PulseConnection(server: self, socket: s, index: index, credentials: creds)
            do {
                c.token = try loop.register(s.fd, events: [.readable, .hangup]) { [unowned self, unowned c] events in
                    if connections[c.index] != nil { c.handle(events) }
                }
            } catch { continue }
            connections[index] = c
            armAuthTimer()
        }
    }

    func remove(_ c: PulseConnection) {
        guard connections.removeValue(forKey: c.index) != nil else { return }
        if c.isAuthorized { post(facility: Subscription.facilityClient, type: Subscription.remove, index: c.index) }
    }

    private func armAuthTimer() {
        authTimer.arm(firstNanos: monotonicNanos() + 1_000_000_000, periodNanos: 1_000_000_000)
    }

    private func expireUnauthenticated() {
        _ = authTimer.expirations()
        let now = monotonicNanos()
        var pending = false
        for c in Array(connections.values) where !c.isAuthorized {
            if now - c.connectedNanos > Int64(config.authTimeoutSeconds) * 1_000_000_000 {
                c.close(reason: "did not authenticate within \(config.authTimeoutSeconds) s")
            } else {
                pending = true
            }
        }
        if !pending { authTimer.disarm() }   // no timer armed while nobody is waiting to authenticate
    }

    // MARK: Stream service (woken by the RT thread's progress signals)

    func serviceStreams() {
        progress.drain()
        for c in Array(connections.values) { c.serviceStreams() }
        updateDeferral()
    }
}
