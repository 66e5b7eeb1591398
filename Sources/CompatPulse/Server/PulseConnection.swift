import PulseWire
import Glibc
import Graph
import SluiceSystem

/// One pulse client: framing, authentication, command dispatch, its streams. [control]
/// A malformed packet closes this connection only, with one log line naming the client.
final class PulseConnection {
    unowned let server: PulseServer
    let socket: UnixSocket
    let index: UInt32
    let credentials: PeerCredentials?
    var token: EventLoop.Token?
    let connectedNanos = monotonicNanos()
    private(set) var isAuthorized = false
    var version: UInt32 = 0
    var properties: [(String, [UInt8])] = []
    var subscriptionMask: UInt32 = 0
    var playback: [UInt32: PlaybackStream] = [:]
    var record: [UInt32: RecordStream] = [:]
    var nextChannel: UInt32 = 0
    /// Bytes received but not yet parsed: one stream from the socket, one from the srbchannel
    /// (each carries whole frames; they interleave only at frame boundaries).
    private var socketInput = FrameInput()
    private var ringInput = FrameInput()
    private(set) var output: [UInt8] = []
    /// fds to pass with the frame starting at `position` in `output` (REGISTER_MEMFD_SHMID).
    private var attachments: [(position: Int, fds: [Int32])] = []
    /// fds received and not yet claimed by the packet they came with.
    private var receivedFDs: [Int32] = []
    private var isClosed = false
    /// memfd transport agreed at AUTH.
    private(set) var usesMemfd = false
    /// The srbchannel: offered after AUTH, in use once the client echoed the tag and our socket
    /// queue drained. Frames that carry fds always go through the socket.
    private var srb: SrbChannel?
    private var srbTag: UInt32?
    private var srbActive = false
    private var srbToken: EventLoop.Token?
    private var ringOutput: [UInt8] = []
    var imports: [UInt32: ImportedPool] = [:]
    var exportPool: ExportPool?

    static let maxFrame = 16 * 1024 * 1024
    /// A client that stops reading gets at most this much queued before record data is dropped.
    static let maxQueuedOutput = 8 * 1024 * 1024

    init(server: PulseServer, socket: UnixSocket, index: UInt32, credentials: PeerCredentials?) {
        self.server = server
        self.socket = socket
        self.index = index
        self.credentials = credentials
    }

    var name: String { Props.value(properties, "application.name") ?? "client \(index)" }
    var describe: String { "pulse client \(index) (\(Props.value(properties, "application.process.binary") ?? "?"), pid \(credentials?.pid ?? 0))" }

    // MARK: I/O

    func handle(_ events: IOEvents) {
        if events.contains(.writable) { flush() }
        if events.contains(.readable) || events.contains(.hangup) || events.contains(.error) { readAvailable() }
    }

    private func readAvailable() {
        while !isClosed {
            let received: (bytes: [UInt8], fds: [Int32])?
            do { received = try socket.receive(upTo: 65536) } catch {
                close(reason: error.rawValue == EPROTO ? "sent more file descriptors than allowed" : nil)
                return
            }
            guard let received else { break }
            receivedFDs += received.fds
            if receivedFDs.count > 8 { close(reason: "sent \(receivedFDs.count) file descriptors without using them"); return }
            if received.bytes.isEmpty { close(reason: nil); return }
            socketInput.bytes.append(contentsOf: received.bytes)
            do { try parseFrames(&socketInput) } catch { close(reason: "protocol error: \(error)"); return }
        }
    }

    /// The client wrote to the srbchannel, or freed space in our send ring.
    private func readRing() {
        guard let srb, !isClosed else { return }
        do {
            _ = try srb.read(into: &ringInput.bytes)
        } catch {
            close(reason: "protocol error: \(error)")
            return
        }
        do { try parseFrames(&ringInput) } catch { close(reason: "protocol error (srbchannel): \(error)"); return }
        flushRing()
    }

    private func parseFrames(_ input: inout FrameInput) throws(WireError) {
        // Replies and releases to everything parsed here go out together at the end: one
        // write, one wake-up of the client (a second of pacat's audio is several blocks, each
        // handed back with its own SHMRELEASE).
        holdingOutput = true
        defer {
            holdingOutput = false
            if !isClosed {
                if !output.isEmpty { flush() } else if srbActive { flushRing() }
            }
        }
        while let (header, payload) = try input.next(maxFrame: Self.maxFrame) {
            try dispatch(header, payload)
            if isClosed { return }
        }
        input.compact()
    }

    /// While frames are parsed, `send` queues without writing (see `parseFrames`).
    private var holdingOutput = false

    /// Bytes queued toward the client (socket and srbchannel).
    var queuedOutput: Int { output.count + ringOutput.count }

    /// SHMRELEASEs of client blocks already copied, not yet sent: they travel with the next frame
    /// we send (a playing stream gets a request after each batch of its data), so handing blocks
    /// back costs no write, and no wake-up of the client, of its own. At most
    /// `maxDeferredReleases` wait (a client's pool holds a thousand blocks or more).
    private var deferredReleases: [UInt8] = []
    static let maxDeferredReleases = 16

    /// Queues `frame` (and the releases held for the next frame; an empty `frame` sends just those).
    func send(_ frame: [UInt8]) {
        guard !isClosed else { return }
        var frame = frame
        if !deferredReleases.isEmpty {
            frame = deferredReleases + frame
            deferredReleases.removeAll(keepingCapacity: true)
        }
        guard !frame.isEmpty else { return }
        // Into the ring once it is in use and everything queued on the socket before the switch
        // has gone, so the client sees our frames in order.
        if srbActive && output.isEmpty {
            ringOutput.append(contentsOf: frame)
            if !holdingOutput { flushRing() }
            return
        }
        output.append(contentsOf: frame)
        if !holdingOutput { flush() }
    }

    /// Queues `frame` with `fds` attached (always on the socket); the fds are closed once passed.
    func send(_ frame: [UInt8], passing fds: [Int32]) {
        guard !isClosed else { for fd in fds { close(fd: fd) }; return }
        attachments.append((output.count, fds))
        output.append(contentsOf: frame)
        flush()
    }

    func send(_ frame: [UInt8], passing fd: Int32) { send(frame, passing: [fd]) }

    private func flushRing() {
        guard let srb, !ringOutput.isEmpty, !isClosed else { return }
        do {
            let n = try ringOutput.withUnsafeBytes { (b) throws(SrbChannel.Violation) in try srb.write(b) }
            if n > 0 { ringOutput.removeFirst(n) }
        } catch {
            close(reason: "protocol error: \(error)")
        }
    }

    private func close(fd: Int32) { Glibc.close(fd) }

    private func flush() {
        while !output.isEmpty && !isClosed {
            let n: Int
            do {
                if let first = attachments.first, first.position == 0 {
                    // The frame that carries the fd goes in one sendmsg with it.
                    let end = attachments.count > 1 ? attachments[1].position : output.count
                    n = try output[0..<end].withUnsafeBytes { try socket.send($0, fds: first.fds) }
                    if n > 0 { for fd in first.fds { close(fd: fd) }; attachments.removeFirst() }
                } else {
                    let end = attachments.first?.position ?? output.count
                    n = try output[0..<end].withUnsafeBytes { try socket.write($0) }
                }
            } catch { close(reason: nil); return }
            if n == 0 { break }
            output.removeFirst(n)
            for i in attachments.indices { attachments[i].position -= n }
        }
        if let token { server.loop.modify(token, events: output.isEmpty ? [.readable, .hangup] : [.readable, .writable, .hangup]) }
        if output.isEmpty && srbActive { flushRing() }
    }

    /// Closes the connection and removes its streams from the graph. `reason` is logged.
    func close(reason: String?) {
        guard !isClosed else { return }
        isClosed = true
        if let reason { server.log("\(describe): \(reason); disconnected") }
        for fd in receivedFDs { close(fd: fd) }
        receivedFDs.removeAll()
        for a in attachments { for fd in a.fds { close(fd: fd) } }
        attachments.removeAll()
        if let srbToken { server.loop.unregister(srbToken) }
        srbToken = nil
        srb = nil
        ringOutput.removeAll()
        for (_, pool) in imports { pool.release() }
        imports.removeAll()
        exportPool = nil
        if let token { server.loop.unregister(token) }
        for s in playback.values { removeNode(s.node.name); server.post(facility: Subscription.facilitySinkInput, type: Subscription.remove, index: s.index) }
        for s in record.values { removeNode(s.node.name); server.post(facility: Subscription.facilitySourceOutput, type: Subscription.remove, index: s.index) }
        playback.removeAll()
        record.removeAll()
        server.remove(self)
        server.updateQuantum()
    }

    private func removeNode(_ name: String) { try? server.engine.remove(named: name) }

    // MARK: Replies

    func reply(_ tag: UInt32, _ fill: (inout WireWriter) -> Void = { _ in }) {
        var w = WireWriter(command: Command.reply.rawValue, tag: tag)
        fill(&w)
        send(w.frame)
    }

    func error(_ tag: UInt32, _ code: PulseErrorCode) {
        var w = WireWriter(command: Command.error.rawValue, tag: tag)
        w.u32(code.rawValue)
        send(w.frame)
    }

    func message(_ command: Command, _ fill: (inout WireWriter) -> Void) {
        var w = WireWriter(command: command.rawValue, tag: invalidIndex)
        fill(&w)
        send(w.frame)
    }

    // MARK: Dispatch

    private func dispatch(_ header: FrameHeader, _ payload: [UInt8]) throws(WireError) {
        let shmBits = header.flags & 0xFF00_0000
        if header.channel == FrameHeader.controlChannel && (shmBits == 0x4000_0000 || shmBits == 0xC000_0000) {
            // SHMRELEASE: the client is done with one of our blocks; SHMREVOKE: it withdraws one of
            // its blocks (we copy on arrival, so we hold none).
            guard usesMemfd else { throw WireError(offset: 16, message: "shared memory was not negotiated") }
            if shmBits == 0x4000_0000 { exportPool?.release(blockID: UInt32(truncatingIfNeeded: UInt64(bitPattern: header.offset) >> 32)) }
            return
        }
        if header.channel != FrameHeader.controlChannel {
            guard isAuthorized else { throw WireError(offset: 0, message: "audio before authentication") }
            guard header.flags & 0xFF <= 3 else { throw WireError(offset: 16, message: "seek mode \(header.flags & 0xFF)") }
            if shmBits == 0 {
                payload.withUnsafeBytes { receiveAudio(channel: header.channel, seek: header.flags & 0xFF, offset: header.offset, $0) }
                return
            }
            guard usesMemfd, shmBits & 0x8000_0000 != 0, shmBits & 0x2000_0000 != 0 else {
                throw WireError(offset: 16, message: "shared memory reference that was not negotiated (flags 0x\(String(header.flags, radix: 16)))")
            }
            guard payload.count == 16 else { throw WireError(offset: 0, message: "shared memory reference of \(payload.count) bytes") }
            var r = WireReaderRaw(payload)
            let blockID = r.u32(), shmID = r.u32(), index = Int(r.u32()), length = Int(r.u32())
            guard let pool = imports[shmID] else { throw WireError(offset: 4, message: "reference to unregistered pool \(shmID)") }
            let inside = pool.withBytes(offset: index, length: length) {
                receiveAudio(channel: header.channel, seek: header.flags & 0xFF, offset: header.offset, $0)
            }
            guard inside else {
                throw WireError(offset: 8, message: "reference [\(index), +\(length)) outside the pool of \(pool.byteCount) bytes")
            }
            // Copied: the block goes back with the next frame we send (see `deferredReleases`).
            FrameHeader(length: 0, channel: FrameHeader.controlChannel, offset: Int64(blockID) << 32, flags: 0x4000_0000)
                .encode(into: &deferredReleases)
            if deferredReleases.count >= Self.maxDeferredReleases * FrameHeader.size { send([]) }
            return
        }
        guard header.flags == 0 else { throw WireError(offset: 16, message: "packet with flags 0x\(String(header.flags, radix: 16))") }
        var r = WireReader(payload)
        let commandNumber = try r.u32()
        let tag = try r.u32()
        guard let command = Command(rawValue: commandNumber) else {
            if isAuthorized { error(tag, .command) } else { throw WireError(offset: 0, message: "command \(commandNumber) before authentication") }
            return
        }
        if command != .auth && !isAuthorized {
            throw WireError(offset: 0, message: "command \(commandNumber) before authentication")
        }
        try handle(command, tag: tag, &r)
    }

    private func handle(_ command: Command, tag: UInt32, _ r: inout WireReader) throws(WireError) {
        switch command {
        case .auth: try auth(tag, &r)
        case .setClientName:
            if version >= 13 { properties = try r.proplist() } else { properties = [("application.name", Props.string(try r.string() ?? ""))] }
            reply(tag) { $0.u32(index) }
            server.post(facility: Subscription.facilityClient, type: Subscription.change, index: index)
        case .getServerInfo: serverInfo(tag)
        case .getSinkInfo, .getSinkInfoList, .getSourceInfo, .getSourceInfoList:
            try deviceInfo(command, tag, &r)
        case .getClientInfo:
            let i = try r.u32()
            guard let c = server.connections[i], c.isAuthorized else { error(tag, .noEntity); return }
            reply(tag) { c.writeClientInfo(&$0, version: version) }
        case .getClientInfoList:
            reply(tag) { w in for c in server.connections.values.sorted(by: { $0.index < $1.index }) where c.isAuthorized { c.writeClientInfo(&w, version: version) } }
        case .getModuleInfoList, .getSampleInfoList: reply(tag)
        case .getModuleInfo, .getSampleInfo: error(tag, .noEntity)
        case .getCardInfoList:
            reply(tag) { w in for c in server.cards() { c.write(&w, version: version) } }
        case .getCardInfo:
            let i = try r.u32(), n = try r.string()
            guard let card = server.cards().first(where: { i != invalidIndex ? $0.index == i : $0.name == n }) else { error(tag, .noEntity); return }
            reply(tag) { card.write(&$0, version: version) }
        case .getSinkInputInfo:
            let i = try r.u32()
            guard let s = server.playbackStreams.first(where: { $0.index == i }) else { error(tag, .noEntity); return }
            reply(tag) { writeSinkInput(&$0, s) }
        case .getSinkInputInfoList:
            reply(tag) { w in for s in server.playbackStreams.sorted(by: { $0.index < $1.index }) { writeSinkInput(&w, s) } }
        case .getSourceOutputInfo:
            let i = try r.u32()
            guard let s = server.recordStreams.first(where: { $0.index == i }) else { error(tag, .noEntity); return }
            reply(tag) { writeSourceOutput(&$0, s) }
        case .getSourceOutputInfoList:
            reply(tag) { w in for s in server.recordStreams.sorted(by: { $0.index < $1.index }) { writeSourceOutput(&w, s) } }
        case .lookupSink:
            guard let s = server.sink(named: try r.string(), index: invalidIndex) else { error(tag, .noEntity); return }
            reply(tag) { $0.u32(s.index) }
        case .lookupSource:
            guard let s = server.source(named: try r.string(), index: invalidIndex) else { error(tag, .noEntity); return }
            reply(tag) { $0.u32(s.index) }
        case .stat:
            reply(tag) { w in for _ in 0..<5 { w.u32(0) } }
        case .subscribe:
            let mask = try r.u32()
            guard mask & ~Subscription.all == 0 else { error(tag, .invalid); return }
            subscriptionMask = mask
            reply(tag)
        case .setSinkVolume, .setSourceVolume, .setSinkMute, .setSourceMute:
            try deviceVolume(command, tag, &r)
        case .setSinkInputVolume, .setSinkInputMute, .setSourceOutputVolume, .setSourceOutputMute:
            try streamVolume(command, tag, &r)
        case .setDefaultSink:
            let name = try r.string()
            guard let s = server.sink(named: name, index: invalidIndex) else { error(tag, .noEntity); return }
            server.defaultSinkName = s.name
            reply(tag)
            server.post(facility: Subscription.facilityServer, type: Subscription.change, index: invalidIndex)
        case .setDefaultSource:
            let name = try r.string()
            guard let s = server.source(named: name, index: invalidIndex) else { error(tag, .noEntity); return }
            server.defaultSourceName = s.monitorName
            reply(tag)
            server.post(facility: Subscription.facilityServer, type: Subscription.change, index: invalidIndex)
        case .registerMemfdShmid:
            guard usesMemfd else { throw WireError(offset: 0, message: "REGISTER_MEMFD_SHMID without negotiated memfd") }
            let shmID = try r.u32()
            guard !receivedFDs.isEmpty else { throw WireError(offset: 0, message: "REGISTER_MEMFD_SHMID without a file descriptor") }
            let fd = receivedFDs.removeFirst()
            guard imports.count < 16, imports[shmID] == nil else { close(fd: fd); throw WireError(offset: 8, message: "too many or duplicate pools") }
            do { imports[shmID] = try ImportedPool.adopt(fd: fd) } catch {
                throw WireError(offset: 8, message: "pool \(shmID) refused: \(error)")
            }
        case .createPlaybackStream: try createPlayback(tag, &r)
        case .createRecordStream: try createRecord(tag, &r)
        case .deletePlaybackStream, .deleteRecordStream:
            let ch = try r.u32()
            guard deleteStream(channel: ch, playback: command == .deletePlaybackStream) else { error(tag, .noEntity); return }
            reply(tag)
        default:
            try streamCommand(command, tag, &r)
        }
    }

    // MARK: AUTH

    private func auth(_ tag: UInt32, _ r: inout WireReader) throws(WireError) {
        guard !isAuthorized else { throw WireError(offset: 0, message: "second AUTH") }
        let raw = try r.u32()
        let clientVersion = raw & 0xFFFF
        let cookie = try r.arbitrary()
        guard clientVersion >= 8 else { error(tag, .version); close(reason: "protocol version \(clientVersion) is too old"); return }
        // Same uid as the daemon (from SO_PEERCRED), or the right cookie.
        let sameUser = credentials.map { $0.uid == getuid() } ?? false
        let cookieOK = !server.cookie.isEmpty && cookie == server.cookie
        guard sameUser || cookieOK else {
            error(tag, .access)
            close(reason: "authentication refused (uid \(credentials?.uid ?? 0), no valid cookie)")
            return
        }
        version = min(clientVersion, protocolVersion)
        isAuthorized = true
        // Shared memory only as memfd (never POSIX shm), only for the same user, protocol ≥ 32.
        // A client that wants POSIX shm only gets the inline transport.
        usesMemfd = sameUser && clientVersion >= 32 && raw & 0x8000_0000 != 0 && raw & 0x4000_0000 != 0
        reply(tag) { $0.u32(protocolVersion | (usesMemfd ? 0xC000_0000 : 0)) }
        server.post(facility: Subscription.facilityClient, type: Subscription.new, index: index)
        if usesMemfd {
            // Register our record pool now, while every frame still travels on the socket: a
            // pool registered after the switch (its fd on the socket, its first block in the
            // ring) could be referenced before the client has seen it.
            _ = recordPool()
            if version >= 30 && server.config.srbchannel { offerSrbchannel() }
        }
    }

    /// ENABLE_SRBCHANNEL: the ring's memfd (REGISTER_MEMFD_SHMID), then the command with our two
    /// semaphores' eventfds, then the reference to the block; the client echoes the tag.
    private func offerSrbchannel() {
        do {
            let (channel, memfd) = try SrbChannel.create(clientIndex: index)
            var register = WireWriter(command: Command.registerMemfdShmid.rawValue, tag: invalidIndex)
            register.u32(channel.shmID)
            send(register.frame, passing: memfd)
            let readFD = dup(channel.readSemaphore.fd), writeFD = dup(channel.writeSemaphore.fd)
            guard readFD >= 0, writeFD >= 0 else {
                if readFD >= 0 { close(fd: readFD) }
                if writeFD >= 0 { close(fd: writeFD) }
                return
            }
            let tag = UInt32.random(in: 0...0xFFFF_FFFE)
            let enable = WireWriter(command: Command.enableSrbchannel.rawValue, tag: tag)
            send(enable.frame, passing: [readFD, writeFD])
            send(channel.referenceFrame)
            srbToken = try server.loop.register(channel.readSemaphore.fd, events: .readable) { [unowned self] _ in readRing() }
            srb = channel
            srbTag = tag
        } catch {
            server.log("\(describe): no srbchannel (\(error)); packets stay on the socket")
        }
    }

    /// The client's echo of ENABLE_SRBCHANNEL: from now on frames without fds go through the ring.
    func acknowledgeSrbchannel(tag: UInt32) throws(WireError) {
        guard let expected = srbTag, srb != nil, !srbActive else { throw WireError(offset: 4, message: "ENABLE_SRBCHANNEL that was not offered") }
        guard tag == expected else { throw WireError(offset: 4, message: "ENABLE_SRBCHANNEL with tag \(tag), offered \(expected)") }
        srbTag = nil
        srbActive = true
        readRing()   // anything the client already queued
    }

    var srbchannelInUse: Bool { srbActive }
    var srbchannelPool: SharedMapping? { srb?.mapping }

    // MARK: Introspection

    private func serverInfo(_ tag: UInt32) {
        let host = hostName()
        let user = getpwuid(getuid()).flatMap { $0.pointee.pw_name.map { String(cString: $0) } } ?? "root"
        let channels = server.engine.format.channelNames
        reply(tag) { w in
            w.string(server.config.serverName == "sluice" ? "pulseaudio" : server.config.serverName)
            w.string("16.1 (sluice)")
            w.string(user)
            w.string(host)
            w.sampleSpec(WireSampleSpec(format: PCMEncoding.float32le.rawValue, channels: UInt8(channels.count), rate: UInt32(server.engine.format.sampleRate)))
            w.string(server.defaultSinkName)
            w.string(server.defaultSourceName)
            w.u32(server.serverCookie)
            if version >= 15 { w.channelMap(channels.map(ChannelRemix.position(ofGraphChannel:))) }
        }
    }

    private func hostName() -> String {
        var buf = [UInt8](repeating: 0, count: 256)
        _ = buf.withUnsafeMutableBytes { gethostname($0.baseAddress!.assumingMemoryBound(to: CChar.self), 255) }
        return String(decoding: buf.prefix { $0 != 0 }, as: UTF8.self)
    }

    private func deviceInfo(_ command: Command, _ tag: UInt32, _ r: inout WireReader) throws(WireError) {
        switch command {
        case .getSinkInfo:
            let i = try r.u32(), n = try r.string()
            guard let s = server.sink(named: n, index: i) else { error(tag, .noEntity); return }
            reply(tag) { writeDevice(&$0, s, monitor: false) }
        case .getSourceInfo:
            let i = try r.u32(), n = try r.string()
            guard let s = server.source(named: n, index: i) else { error(tag, .noEntity); return }
            reply(tag) { writeDevice(&$0, s, monitor: true) }
        case .getSinkInfoList:
            reply(tag) { w in for s in server.sinks() { writeDevice(&w, s, monitor: false) } }
        default:
            reply(tag) { w in for s in server.sources() { writeDevice(&w, s, monitor: true) } }
        }
    }

    /// A sink (`monitor: false`), or a source: a sink's monitor, or a capture device.
    private func writeDevice(_ w: inout WireWriter, _ s: PulseSink, monitor: Bool) {
        let positions = s.channelNames.map(ChannelRemix.position(ofGraphChannel:))
        let vol = monitor ? (volume: [UInt32](repeating: volumeNorm, count: positions.count), muted: false)
            : (server.sinkVolumes[s.name] ?? (volume: [UInt32](repeating: volumeNorm, count: positions.count), muted: false))
        let latency = monitor && !s.isCapture ? UInt64(server.engine.periodNanos / 1000) : server.deviceLatencyMicros(s.name)
        let running = s.isCapture ? server.recordStreams.contains { $0.sourceName == s.name }
            : server.playbackStreams.contains { $0.sinkName == s.name && $0.node.started.load(ordering: .relaxed) }
        let isMonitor = monitor && !s.isCapture
        let description = s.isCapture ? "\(s.name) (sound card capture)" : isMonitor ? "Monitor of \(s.name)" : "\(s.name) (Sluice graph node)"
        w.u32(s.index)
        w.string(monitor ? s.monitorName : s.name)
        w.string(description)
        w.sampleSpec(WireSampleSpec(format: PCMEncoding.float32le.rawValue, channels: UInt8(positions.count), rate: UInt32(server.engine.format.sampleRate)))
        w.channelMap(positions)
        w.u32(invalidIndex)                          // owner module
        w.cvolume(vol.volume)
        w.bool(vol.muted)
        w.u32(s.isCapture ? invalidIndex : s.index)  // monitor source index / monitor of sink index
        w.string(s.isCapture ? nil : monitor ? s.name : s.monitorName)
        w.usec(latency)
        w.string("sluice")
        w.u32(0x2 | 0x20 | 0x80 | (s.isCapture ? 0x4 : 0))   // LATENCY | DECIBEL_VOLUME | DYNAMIC_LATENCY (| HARDWARE)
        let card = isMonitor ? nil : (try? server.engine.node(named: s.name)).flatMap { $0.typeName.hasPrefix("alsa-") ? $0 : nil }
        if version >= 13 {
            var props: [(String, [UInt8])] = [("device.description", Props.string(description)),
                        ("device.class", Props.string(isMonitor ? "monitor" : card != nil ? "sound" : "abstract")), ("sluice.node", Props.string(s.name))]
            if let node = card {
                // A sound card: what PulseAudio's ALSA sinks report (device.api, device.string, alsa.*).
                let facts = node.properties
                props += [("device.api", Props.string("alsa"))]
                if let pcm = facts.first(where: { $0.0 == "device" })?.1 { props.append(("device.string", Props.string(pcm))) }
                props += facts.filter { $0.0.hasPrefix("alsa.") }.map { ($0.0, Props.string($0.1)) }
                if let name = facts.first(where: { $0.0 == "alsa.card_name" })?.1 { props.append(("device.product.name", Props.string(name))) }
                if let profile = facts.first(where: { $0.0 == "profile" })?.1 {
                    props.append(("device.profile.name", Props.string(profile)))
                }
            }
            w.proplist(props)
            w.usec(latency)
        }
        if version >= 15 {
            w.volume(volumeNorm)
            w.u32(running ? 0 : 1)                    // RUNNING / IDLE
            w.u32(65537)
            w.u32(card.map(server.cardIndex(of:)) ?? invalidIndex)
        }
        if version >= 16 {
            // A sound card's ports (its jacks and outputs, read from its controls now); the
            // active one as PulseAudio picks it: the best that is not known to be unplugged.
            let ports = card?.ports ?? []
            w.u32(UInt32(ports.count))
            for port in ports {
                w.string(port.name)
                w.string(port.description)
                w.u32(port.priority)
                if version >= 24 {
                    w.u32(port.availability.rawValue)
                    if version >= 34 {
                        w.string(nil)                  // availability group
                        w.u32(port.kind.rawValue)
                    }
                }
            }
            w.string(DevicePort.active(among: ports)?.name)
        }
        if (!monitor && version >= 21) || (monitor && version >= 22) {
            w.u8(1)
            w.formatInfo(encoding: 1, properties: [])
        }
    }

    func writeClientInfo(_ w: inout WireWriter, version v: UInt32) {
        w.u32(index)
        w.string(name)
        w.u32(invalidIndex)
        w.string("protocol-native.c")
        if v >= 13 { w.proplist(properties) }
    }

    private func writeSinkInput(_ w: inout WireWriter, _ s: PlaybackStream) {
        let sinkIndex = server.sink(named: s.sinkName, index: invalidIndex)?.index ?? invalidIndex
        let owner = server.connections.values.first { $0.playback[s.channel] === s }?.index ?? invalidIndex
        w.u32(s.index)
        w.string(s.name)
        w.u32(invalidIndex)
        w.u32(owner)
        w.u32(sinkIndex)
        w.sampleSpec(s.format.spec)
        w.channelMap(s.format.map)
        w.cvolume(s.volume)
        w.usec(UInt64(s.queuedBytes) * 1_000_000 / UInt64(max(s.format.bytesPerSecond, 1)))
        w.usec(UInt64(server.engine.periodNanos / 1000))
        w.string(s.resampler == nil ? "trivial" : "soxr-mq")
        w.string("protocol-native.c")
        if version >= 11 { w.bool(s.muted) }
        if version >= 13 { w.proplist(s.properties) }
        if version >= 19 { w.bool(s.node.corked.load(ordering: .relaxed)) }
        if version >= 20 { w.bool(true); w.bool(true) }
        if version >= 21 { w.formatInfo(encoding: 1, properties: s.format.formatInfoProperties) }
    }

    private func writeSourceOutput(_ w: inout WireWriter, _ s: RecordStream) {
        let sourceIndex = server.source(named: s.sourceName, index: invalidIndex)?.index ?? invalidIndex
        let owner = server.connections.values.first { $0.record[s.channel] === s }?.index ?? invalidIndex
        w.u32(s.index)
        w.string(s.name)
        w.u32(invalidIndex)
        w.u32(owner)
        w.u32(sourceIndex)
        w.sampleSpec(s.format.spec)
        w.channelMap(s.format.map)
        w.usec(UInt64(s.pending.count) * 1_000_000 / UInt64(max(s.format.bytesPerSecond, 1)))
        w.usec(UInt64(server.engine.periodNanos / 1000))
        w.string(s.resampler == nil ? "trivial" : "soxr-mq")
        w.string("protocol-native.c")
        if version >= 13 { w.proplist(s.properties) }
        if version >= 19 { w.bool(s.node.corked.load(ordering: .relaxed)) }
        if version >= 22 {
            w.cvolume(s.volume)
            w.bool(s.muted)
            w.bool(true)
            w.bool(true)
            w.formatInfo(encoding: 1, properties: s.format.formatInfoProperties)
        }
    }

    // MARK: Volume

    private func deviceVolume(_ command: Command, _ tag: UInt32, _ r: inout WireReader) throws(WireError) {
        let i = try r.u32(), n = try r.string()
        let isSink = command == .setSinkVolume || command == .setSinkMute
        guard let s = isSink ? server.sink(named: n, index: i) : server.source(named: n, index: i) else { error(tag, .noEntity); return }
        var current = server.sinkVolumes[s.name] ?? (volume: [UInt32](repeating: volumeNorm, count: s.channelNames.count), muted: false)
        if command == .setSinkVolume || command == .setSourceVolume {
            let v = try r.cvolume()
            guard !v.isEmpty, v.count == s.channelNames.count || v.count == 1, v.allSatisfy({ $0 <= 0x7FFF_FFFF }) else { error(tag, .invalid); return }
            current.volume = v.count == 1 ? [UInt32](repeating: v[0], count: s.channelNames.count) : v
        } else {
            current.muted = try r.bool()
        }
        if isSink {
            server.sinkVolumes[s.name] = current
            server.refreshVolumes(sink: s.name)
            server.post(facility: Subscription.facilitySink, type: Subscription.change, index: s.index)
        }
        reply(tag)
    }

    private func streamVolume(_ command: Command, _ tag: UInt32, _ r: inout WireReader) throws(WireError) {
        let i = try r.u32()
        switch command {
        case .setSinkInputVolume, .setSinkInputMute:
            guard let s = server.playbackStreams.first(where: { $0.index == i }) else { error(tag, .noEntity); return }
            if command == .setSinkInputVolume {
                let v = try r.cvolume()
                guard !v.isEmpty, v.count == s.format.channels || v.count == 1, v.allSatisfy({ $0 <= 0x7FFF_FFFF }) else { error(tag, .invalid); return }
                s.volume = v.count == 1 ? [UInt32](repeating: v[0], count: s.format.channels) : v
            } else {
                s.muted = try r.bool()
            }
            s.applyVolume(sinkGain: server.sinkGain(s.sinkName))
            server.post(facility: Subscription.facilitySinkInput, type: Subscription.change, index: s.index)
        default:
            guard let s = server.recordStreams.first(where: { $0.index == i }) else { error(tag, .noEntity); return }
            if command == .setSourceOutputVolume {
                let v = try r.cvolume()
                guard !v.isEmpty, v.allSatisfy({ $0 <= 0x7FFF_FFFF }) else { error(tag, .invalid); return }
                s.volume = v
            } else {
                s.muted = try r.bool()
            }
            s.applyVolume()
            server.post(facility: Subscription.facilitySourceOutput, type: Subscription.change, index: s.index)
        }
        reply(tag)
    }
}

/// One byte stream of frames (socket or srbchannel), parsed incrementally. Every announced length
/// is checked against the limit before any allocation. [control]
struct FrameInput {
    var bytes: [UInt8] = []
    private var start = 0

    /// The next complete frame, or nil when more bytes are needed.
    mutating func next(maxFrame: Int) throws(WireError) -> (FrameHeader, [UInt8])? {
        guard bytes.count - start >= FrameHeader.size else { return nil }
        let header = FrameHeader(bytes[start..<(start + FrameHeader.size)])
        guard Int(header.length) <= maxFrame else {
            throw WireError(offset: 0, message: "frame of \(header.length) bytes announced (limit \(maxFrame))")
        }
        let total = FrameHeader.size + Int(header.length)
        guard bytes.count - start >= total else { return nil }
        let payload = Array(bytes[(start + FrameHeader.size)..<(start + total)])
        start += total
        return (header, payload)
    }

    /// Drops consumed bytes once they are at least half of the buffer.
    mutating func compact() {
        if start > 0 && start * 2 >= bytes.count {
            bytes.removeSubrange(0..<start)
            start = 0
        }
    }
}
