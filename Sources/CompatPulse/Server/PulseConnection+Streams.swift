import PulseWire
import Glibc
import Graph
import SluiceSystem

extension PulseConnection {
    /// Sample spec + channel map from the request, or from the first PCM format info when the
    /// spec is left invalid; validated.
    private func clientFormat(_ spec: WireSampleSpec, _ map: [UInt8], formats: [(UInt8, [(String, [UInt8])])]) -> ClientFormat? {
        var spec = spec, map = map
        if PCMEncoding(rawValue: spec.format) == nil || spec.channels == 0 || spec.rate == 0, let f = formats.first(where: { $0.0 == 1 }) {
            func prop(_ k: String) -> String? { Props.value(f.1, k)?.trimmingCharacters(in: "\"") }
            let enc = PCMEncoding.allCases.first { $0.name == prop("format.sample_format") } ?? .float32le
            let rate = prop("format.rate").flatMap(UInt32.init) ?? UInt32(server.engine.format.sampleRate)
            let ch = prop("format.channels").flatMap(UInt8.init) ?? UInt8(server.engine.format.channelNames.count)
            spec = WireSampleSpec(format: enc.rawValue, channels: ch, rate: rate)
            map = []
        }
        guard let enc = PCMEncoding(rawValue: spec.format), (1...32).contains(spec.channels), (1...384_000).contains(spec.rate) else { return nil }
        if map.isEmpty {
            map = spec.channels == 1 ? [0] : spec.channels == 2 ? [1, 2] : (0..<spec.channels).map { UInt8(min(12 + Int($0), 43)) }
        }
        guard map.count == Int(spec.channels) else { return nil }
        return ClientFormat(encoding: enc, channels: Int(spec.channels), rate: Int(spec.rate), map: map)
    }

    private func readFormats(_ r: inout WireReader) throws(WireError) -> [(UInt8, [(String, [UInt8])])] {
        let n = Int(try r.u8())
        var out: [(UInt8, [(String, [UInt8])])] = []
        for _ in 0..<n { let f = try r.formatInfo(); out.append((f.encoding, f.properties)) }
        return out
    }

    /// The lowest latency the graph can run at (its smallest quantum): streams are granted down to it.
    private var minimumLatencyMicros: UInt64 {
        let e = server.engine
        return UInt64(min(e.minimumQuantum, e.format.quantum)) * 1_000_000 / UInt64(e.format.sampleRate)
    }

    // MARK: CREATE_PLAYBACK_STREAM

    func createPlayback(_ tag: UInt32, _ r: inout WireReader) throws(WireError) {
        var props: [(String, [UInt8])] = []
        if version < 13 { props.append(("media.name", Props.string(try r.string() ?? ""))) }
        let spec = try r.sampleSpec(), map = try r.channelMap()
        let sinkIndex = try r.u32(), sinkName = try r.string()
        let maxLength = try r.u32(), corked = try r.bool(), tlength = try r.u32(), prebuf = try r.u32(), minreq = try r.u32()
        _ = try r.u32()                                   // sync id
        var volume = try r.cvolume()
        var muted = false, adjustLatency = false, earlyRequests = false, volumeSet = !volume.isEmpty
        if version >= 12 { for _ in 0..<7 { _ = try r.bool() } }
        if version >= 13 { muted = try r.bool(); adjustLatency = try r.bool(); props += try r.proplist() }
        if version >= 14 { volumeSet = try r.bool(); earlyRequests = try r.bool() }
        var mutedSet = version < 15 ? muted : false
        if version >= 15 { mutedSet = try r.bool(); _ = try r.bool(); _ = try r.bool() }
        if version >= 17 { _ = try r.bool() }
        if version >= 18 { _ = try r.bool() }
        let formats = version >= 21 ? try readFormats(&r) : []
        guard let format = clientFormat(spec, map, formats: formats) else { error(tag, .invalid); return }
        guard let sink = server.sink(named: sinkName, index: sinkIndex) else { error(tag, .noEntity); return }
        if !volumeSet || volume.isEmpty { volume = [UInt32](repeating: volumeNorm, count: format.channels) }
        if volume.count == 1 && format.channels > 1 { volume = [UInt32](repeating: volume[0], count: format.channels) }
        guard volume.count == format.channels else { error(tag, .invalid); return }
        if !mutedSet { muted = false }

        let metrics = PlaybackMetrics.negotiate(maxLength: maxLength, targetLength: tlength, prebuffer: prebuf, minimumRequest: minreq,
                                                adjustLatency: adjustLatency, earlyRequests: earlyRequests,
                                                frameSize: format.frameSize, bytesPerSecond: format.bytesPerSecond,
                                                minimumLatencyMicros: minimumLatencyMicros)
        let graph = server.engine.format
        let ringFrames = Int(UInt64(metrics.targetLength) * UInt64(graph.sampleRate) / UInt64(format.bytesPerSecond)) * 2 + graph.quantum * 4
        let index = server.nextStreamIndex
        server.nextStreamIndex += 1
        let raw = PlaybackStream.queuesRaw(format, graphChannels: sink.channelNames, graphRate: graph.sampleRate)
        let node = PlaybackStreamNode(name: "pulse-play-\(index)", channels: sink.channelNames, ringFrames: ringFrames,
                                      progress: server.progress, rawS16: raw)
        node.corked.store(corked, ordering: .relaxed)
        let channel = nextChannel
        let stream = PlaybackStream(channel: channel, index: index, node: node, format: format, metrics: metrics, sinkName: sink.name,
                                    graphChannels: sink.channelNames, graphRate: graph.sampleRate, properties: props, volume: volume, muted: muted)
        stream.applyVolume(sinkGain: server.sinkGain(sink.name))
        node.volume.setInitial((0..<sink.channelNames.count).map { _ in 0 })   // placeholder; set below without ramp
        stream.applyVolume(sinkGain: server.sinkGain(sink.name))
        node.volume.setInitial(node.volume.targets.map { Float(bitPattern: $0.load(ordering: .relaxed)) })
        do {
            try server.engine.add(node)
            try server.engine.link(node: node.name, to: sink.name)
        } catch {
            try? server.engine.remove(named: node.name)
            server.log("\(describe): cannot create a playback stream: \(error)")
            self.error(tag, .invalid)
            return
        }
        nextChannel += 1
        playback[channel] = stream
        stream.outstanding = Int64(metrics.targetLength)
        if metrics.prebuffer == 0 { node.started.store(true, ordering: .relaxed) }
        reply(tag) { w in
            w.u32(channel)
            w.u32(index)
            w.u32(metrics.targetLength)
            if version >= 9 { w.u32(metrics.maxLength); w.u32(metrics.targetLength); w.u32(metrics.prebuffer); w.u32(metrics.minimumRequest) }
            if version >= 12 {
                w.sampleSpec(format.spec)
                w.channelMap(format.map)
                w.u32(sink.index)
                w.string(sink.name)
                w.bool(false)
            }
            if version >= 13 { w.usec(metrics.configuredLatencyMicros) }
            if version >= 21 { w.formatInfo(encoding: 1, properties: format.formatInfoProperties) }
        }
        server.post(facility: Subscription.facilitySinkInput, type: Subscription.new, index: index)
        server.updateQuantum()
    }

    // MARK: CREATE_RECORD_STREAM

    func createRecord(_ tag: UInt32, _ r: inout WireReader) throws(WireError) {
        var props: [(String, [UInt8])] = []
        if version < 13 { props.append(("media.name", Props.string(try r.string() ?? ""))) }
        let spec = try r.sampleSpec(), map = try r.channelMap()
        let sourceIndex = try r.u32(), sourceName = try r.string()
        let maxLength = try r.u32(), corked = try r.bool(), fragsize = try r.u32()
        var adjustLatency = false, earlyRequests = false
        if version >= 12 { for _ in 0..<7 { _ = try r.bool() } }
        if version >= 13 { _ = try r.bool(); adjustLatency = try r.bool(); props += try r.proplist(); _ = try r.u32() }
        if version >= 14 { earlyRequests = try r.bool() }
        if version >= 15 { _ = try r.bool(); _ = try r.bool() }
        var formats: [(UInt8, [(String, [UInt8])])] = []
        var volume: [UInt32] = [], muted = false
        if version >= 22 {
            formats = try readFormats(&r)
            volume = try r.cvolume()
            muted = try r.bool()
            let volumeSet = try r.bool(), mutedSet = try r.bool()
            _ = try r.bool(); _ = try r.bool()
            if !volumeSet { volume = [] }
            if !mutedSet { muted = false }
        }
        guard let format = clientFormat(spec, map, formats: formats) else { error(tag, .invalid); return }
        guard let source = server.source(named: sourceName, index: sourceIndex) else { error(tag, .noEntity); return }
        if volume.isEmpty { volume = [UInt32](repeating: volumeNorm, count: format.channels) }
        let metrics = RecordMetrics.negotiate(maxLength: maxLength, fragmentSize: fragsize, adjustLatency: adjustLatency,
                                              earlyRequests: earlyRequests, frameSize: format.frameSize,
                                              bytesPerSecond: format.bytesPerSecond, minimumLatencyMicros: minimumLatencyMicros)
        let graph = server.engine.format
        let fragFrames = max(Int(UInt64(metrics.fragmentSize) * UInt64(graph.sampleRate) / UInt64(format.bytesPerSecond)), 1)
        let index = server.nextStreamIndex
        server.nextStreamIndex += 1
        let node = RecordStreamNode(name: "pulse-rec-\(index)", channels: source.channelNames,
                                    ringFrames: max(fragFrames * 4, graph.sampleRate) + graph.quantum * 4, progress: server.progress,
                                    deferrable: !adjustLatency && !earlyRequests && fragFrames >= graph.sampleRate / 2)
        node.corked.store(corked, ordering: .relaxed)
        node.signalEveryFrames.store(min(fragFrames, graph.sampleRate / 2), ordering: .relaxed)
        let channel = nextChannel
        let stream = RecordStream(channel: channel, index: index, node: node, format: format, metrics: metrics, sourceName: source.monitorName,
                                  graphChannels: source.channelNames, graphRate: graph.sampleRate, properties: props, volume: volume, muted: muted)
        stream.applyVolume()
        node.volume.setInitial(node.volume.targets.map { Float(bitPattern: $0.load(ordering: .relaxed)) })
        do {
            try server.engine.add(node)
            try server.engine.link(node: source.name, to: node.name)
        } catch {
            try? server.engine.remove(named: node.name)
            server.log("\(describe): cannot create a record stream: \(error)")
            self.error(tag, .invalid)
            return
        }
        nextChannel += 1
        record[channel] = stream
        reply(tag) { w in
            w.u32(channel)
            w.u32(index)
            if version >= 9 { w.u32(metrics.maxLength); w.u32(metrics.fragmentSize) }
            if version >= 12 {
                w.sampleSpec(format.spec)
                w.channelMap(format.map)
                w.u32(source.index)
                w.string(source.monitorName)
                w.bool(false)
            }
            if version >= 13 { w.usec(metrics.configuredLatencyMicros) }
            if version >= 22 { w.formatInfo(encoding: 1, properties: format.formatInfoProperties) }
        }
        server.post(facility: Subscription.facilitySourceOutput, type: Subscription.new, index: index)
        server.updateQuantum()
    }

    func deleteStream(channel: UInt32, playback isPlayback: Bool) -> Bool {
        if isPlayback, let s = playback.removeValue(forKey: channel) {
            try? server.engine.remove(named: s.node.name)
            for t in s.pendingDrains { error(t, .noEntity) }
            server.post(facility: Subscription.facilitySinkInput, type: Subscription.remove, index: s.index)
            server.updateQuantum()
            return true
        }
        if !isPlayback, let s = record.removeValue(forKey: channel) {
            try? server.engine.remove(named: s.node.name)
            server.post(facility: Subscription.facilitySourceOutput, type: Subscription.remove, index: s.index)
            server.updateQuantum()
            return true
        }
        return false
    }

    // MARK: Other stream commands

    func streamCommand(_ command: Command, _ tag: UInt32, _ r: inout WireReader) throws(WireError) {
        // What these do depends on where playback is: deferred ticks run first.
        server.engine.catchUp()
        defer { server.updateDeferral() }
        switch command {
        case .drainPlaybackStream:
            guard let s = playback[try r.u32()] else { error(tag, .noEntity); return }
            s.pendingDrains.append(tag)
            s.flushResampler()
            s.node.started.store(true, ordering: .relaxed)   // draining plays what is queued, prebuf or not
            server.engine.activityChanged()
            serviceStreams()
        case .corkPlaybackStream:
            guard let s = playback[try r.u32()] else { error(tag, .noEntity); return }
            s.node.corked.store(try r.bool(), ordering: .relaxed)
            server.engine.activityChanged()
            reply(tag)
        case .corkRecordStream:
            guard let s = record[try r.u32()] else { error(tag, .noEntity); return }
            s.node.corked.store(try r.bool(), ordering: .relaxed)
            server.engine.activityChanged()
            reply(tag)
        case .flushPlaybackStream:
            guard let s = playback[try r.u32()] else { error(tag, .noEntity); return }
            _ = s.flush()
            if s.metrics.prebuffer > 0 { s.node.started.store(false, ordering: .relaxed); s.sentStarted = false }
            reply(tag)
            requestMore(s)
        case .flushRecordStream:
            guard let s = record[try r.u32()] else { error(tag, .noEntity); return }
            s.pending.removeAll()
            reply(tag)
        case .triggerPlaybackStream:
            guard let s = playback[try r.u32()] else { error(tag, .noEntity); return }
            s.node.started.store(true, ordering: .relaxed)
            server.engine.activityChanged()
            reply(tag)
        case .prebufPlaybackStream:
            guard let s = playback[try r.u32()] else { error(tag, .noEntity); return }
            if s.metrics.prebuffer > 0 { s.node.started.store(false, ordering: .relaxed); s.sentStarted = false }
            reply(tag)
        case .getPlaybackLatency:
            guard let s = playback[try r.u32()] else { error(tag, .noEntity); return }
            let tv = try r.timeval()
            let started = s.node.started.load(ordering: .relaxed)
            let playing = started && !s.node.corked.load(ordering: .relaxed)
            reply(tag) { w in
                w.usec(server.deviceLatencyMicros(s.sinkName))   // the graph's cycle and the card's queue
                w.usec(0)
                w.bool(playing)
                w.timeval(seconds: tv.seconds, micros: tv.micros)
                let now = wallClock()
                w.timeval(seconds: now.0, micros: now.1)
                w.s64(s.writeIndex)
                w.s64(s.readIndex)
                if version >= 13 {
                    let underrun = UInt64(s.node.underrunFrames.load(ordering: .relaxed) * s.format.rate / max(s.graphRate, 1) * s.format.frameSize)
                    w.u64(started ? underrun : UInt64.max)
                    w.u64(UInt64(max(s.readIndex, 0)))
                }
            }
        case .getRecordLatency:
            guard let s = record[try r.u32()] else { error(tag, .noEntity); return }
            let tv = try r.timeval()
            reply(tag) { w in
                w.usec(0)
                let queued = UInt64(s.node.ring.readableCount / max(s.node.channelCount, 1)) * 1_000_000 / UInt64(server.engine.format.sampleRate)
                w.usec(server.deviceLatencyMicros(s.sourceName) + queued)   // the cycle, the card's backlog, our queue
                w.bool(!s.node.corked.load(ordering: .relaxed))
                w.timeval(seconds: tv.seconds, micros: tv.micros)
                let now = wallClock()
                w.timeval(seconds: now.0, micros: now.1)
                w.s64(s.producedBytes)
                w.s64(s.sentBytes)
            }
        case .setPlaybackStreamName, .setRecordStreamName:
            let ch = try r.u32()
            guard let n = try r.string() else { error(tag, .invalid); return }
            if command == .setPlaybackStreamName, let s = playback[ch] { s.properties.append(("media.name", Props.string(n))) }
            else if command == .setRecordStreamName, let s = record[ch] { s.properties.append(("media.name", Props.string(n))) }
            else { error(tag, .noEntity); return }
            reply(tag)
        case .updateClientProplist:
            let mode = try r.u32(), p = try r.proplist()
            properties = merged(properties, p, mode: mode)
            reply(tag)
        case .updatePlaybackStreamProplist, .updateRecordStreamProplist:
            let ch = try r.u32(), mode = try r.u32(), p = try r.proplist()
            if command == .updatePlaybackStreamProplist, let s = playback[ch] { s.properties = merged(s.properties, p, mode: mode) }
            else if command == .updateRecordStreamProplist, let s = record[ch] { s.properties = merged(s.properties, p, mode: mode) }
            else { error(tag, .noEntity); return }
            reply(tag)
        case .removeClientProplist, .removePlaybackStreamProplist, .removeRecordStreamProplist:
            var ch: UInt32 = 0
            if command != .removeClientProplist { ch = try r.u32() }
            var keys: [String] = []
            while let k = try r.string() { keys.append(k); if keys.count > 1024 { throw WireError(offset: r.offset, message: "too many keys") } }
            switch command {
            case .removeClientProplist: properties.removeAll { keys.contains($0.0) }
            case .removePlaybackStreamProplist: playback[ch]?.properties.removeAll { keys.contains($0.0) }
            default: record[ch]?.properties.removeAll { keys.contains($0.0) }
            }
            reply(tag)
        case .setPlaybackStreamBufferAttr:
            guard let s = playback[try r.u32()] else { error(tag, .noEntity); return }
            let m = try r.u32(), t = try r.u32(), p = try r.u32(), q = try r.u32()
            var adjust = false, early = false
            if version >= 13 { adjust = try r.bool() }
            if version >= 14 { early = try r.bool() }
            // The stream's queue was sized at creation for twice its tlength (and a few quanta):
            // a larger tlength is granted only up to what it holds, as the server may.
            let quanta = 4 * server.engine.format.quantum
            let ringFrames = s.node.writerRing.capacity / max(s.node.channelCount, 1)
            let holds = UInt64(max(ringFrames - quanta, 0) / 2) * UInt64(s.format.rate) / UInt64(server.engine.format.sampleRate)
            let largest = UInt32(min(holds * UInt64(s.format.frameSize), UInt64(UInt32.max - 1)))
            let wanted = t == UInt32.max ? t : min(t, largest)
            s.metrics = PlaybackMetrics.negotiate(maxLength: m, targetLength: wanted, prebuffer: p, minimumRequest: q, adjustLatency: adjust,
                                                  earlyRequests: early, frameSize: s.format.frameSize, bytesPerSecond: s.format.bytesPerSecond,
                                                  minimumLatencyMicros: minimumLatencyMicros)
            if s.metrics.targetLength > largest {
                s.metrics = PlaybackMetrics.negotiate(maxLength: m, targetLength: largest, prebuffer: min(p, largest), minimumRequest: q,
                                                      adjustLatency: adjust, earlyRequests: early, frameSize: s.format.frameSize,
                                                      bytesPerSecond: s.format.bytesPerSecond, minimumLatencyMicros: minimumLatencyMicros)
            }
            reply(tag) { w in
                w.u32(s.metrics.maxLength); w.u32(s.metrics.targetLength); w.u32(s.metrics.prebuffer); w.u32(s.metrics.minimumRequest)
                if version >= 13 { w.usec(s.metrics.configuredLatencyMicros) }
            }
            server.updateQuantum()
            requestMore(s)
        case .setRecordStreamBufferAttr:
            guard let s = record[try r.u32()] else { error(tag, .noEntity); return }
            let m = try r.u32(), f = try r.u32()
            var adjust = false, early = false
            if version >= 13 { adjust = try r.bool() }
            if version >= 14 { early = try r.bool() }
            s.metrics = RecordMetrics.negotiate(maxLength: m, fragmentSize: f, adjustLatency: adjust, earlyRequests: early,
                                                frameSize: s.format.frameSize, bytesPerSecond: s.format.bytesPerSecond,
                                                minimumLatencyMicros: minimumLatencyMicros)
            reply(tag) { w in
                w.u32(s.metrics.maxLength); w.u32(s.metrics.fragmentSize)
                if version >= 13 { w.usec(s.metrics.configuredLatencyMicros) }
            }
            server.updateQuantum()
        case .exit, .loadModule, .unloadModule, .killClient, .killSinkInput, .killSourceOutput, .moveSinkInput, .moveSourceOutput,
             .suspendSink, .suspendSource, .setSinkPort, .setSourcePort, .setCardProfile:
            // Refused for now rather than half-done; Docs/pulse-compat.md lists what is supported.
            error(tag, .notImplemented)
        case .extension:
            error(tag, .noExtension)
        case .enableSrbchannel:
            try acknowledgeSrbchannel(tag: tag)
        case .registerMemfdShmid:
            throw WireError(offset: 0, message: "shared memory commands without negotiated shared memory")
        default:
            error(tag, .command)
        }
    }

    /// This client's record pool, created and registered with it on first use (memfd clients only).
    /// Sealed against shrink and grow (the client can never truncate it under our mapping), not
    /// against writes: libpulse maps imported pools read-write. It only ever holds this client's
    /// own record data and the daemon never reads it back, so what the client writes there
    /// reaches nobody else.
    func recordPool() -> ExportPool? {
        guard usesMemfd else { return nil }
        if let exportPool { return exportPool }
        do {
            let (mapping, fd) = try SealedMemFD.createExported(name: "sluice-client-\(index)-record",
                                                               byteCount: ExportPool.slotSize * ExportPool.slotCount)
            let pool = ExportPool(mapping: mapping, shmID: UInt32.random(in: 1...UInt32.max))
            var w = WireWriter(command: Command.registerMemfdShmid.rawValue, tag: invalidIndex)
            w.u32(pool.shmID)
            send(w.frame, passing: fd)
            exportPool = pool
            return pool
        } catch {
            server.log("\(describe): no shared memory pool (\(error)); record data goes inline")
            return nil
        }
    }

    private func merged(_ old: [(String, [UInt8])], _ new: [(String, [UInt8])], mode: UInt32) -> [(String, [UInt8])] {
        switch mode {
        case 0: return new                                                          // SET
        case 1: return old + new.filter { n in !old.contains { $0.0 == n.0 } }      // MERGE
        default: return old.filter { o in !new.contains { $0.0 == o.0 } } + new     // REPLACE
        }
    }

    private func wallClock() -> (UInt32, UInt32) {
        var tv = timeval()
        gettimeofday(&tv, nil)
        return (UInt32(truncatingIfNeeded: tv.tv_sec), UInt32(truncatingIfNeeded: tv.tv_usec))
    }

    // MARK: Audio and flow control

    /// Audio for a playback stream, written where the seek mode and offset say: RELATIVE (to
    /// the write index), ABSOLUTE, RELATIVE_ON_READ (to the read index) or RELATIVE_END (to the
    /// end of the queued data); see `PlaybackStream.seek(to:)`.
    func receiveAudio(channel: UInt32, seek: UInt32, offset: Int64, _ payload: UnsafeRawBufferPointer) {
        guard let s = playback[channel] else { return }     // unknown channel: ignored, as PulseAudio does
        if seek == 2 { server.engine.catchUp() }         // relative to where playback is
        let base: Int64
        switch seek {
        case 0: base = s.writeIndex
        case 1: base = 0
        case 2: base = s.readIndex
        default: base = s.endIndex
        }
        let (target, overflow) = base.addingReportingOverflow(offset)
        if !overflow && (seek != 0 || offset != 0) { s.seek(to: max(target, 0)) }
        let lost = s.enqueue(payload)
        s.outstanding = max(s.outstanding - Int64(payload.count), 0)
        if lost > 0 { message(.overflow) { $0.u32(channel) } }
        if !s.node.started.load(ordering: .relaxed) && s.queuedBytes >= Int64(s.metrics.prebuffer) {
            server.engine.catchUp()                      // it starts from the clock's present
            s.node.started.store(true, ordering: .relaxed)
            server.engine.activityChanged()
            server.updateDeferral()
        }
    }

    /// Asks the client for what its queue misses to reach tlength, once that is at least the
    /// stream's request threshold (see `PlaybackStream.requestThreshold`).
    func requestMore(_ s: PlaybackStream) {
        let missing = Int64(s.metrics.targetLength) - s.queuedBytes - s.outstanding
        let started = s.node.started.load(ordering: .relaxed)
        guard missing > 0, missing >= s.requestThreshold || !started else {
            s.scheduleSignal(missing: max(missing, 0))
            return
        }
        s.outstanding += missing
        message(.request) { $0.u32(s.channel); $0.u32(UInt32(missing)) }
        s.scheduleSignal(missing: 0)
    }

    /// Called when the RT thread signalled progress: STARTED/UNDERFLOW, REQUEST, drain acks,
    /// and record data.
    func serviceStreams() {
        for s in playback.values {
            if s.node.started.load(ordering: .relaxed) && !s.sentStarted && s.node.framesPlayed.load(ordering: .relaxed) > s.playedAtFlush {
                s.sentStarted = true
                if version >= 13 { message(.started) { $0.u32(s.channel) } }
            }
            if s.node.underran.load(ordering: .acquiring) {
                s.node.underran.store(false, ordering: .relaxed)
                if !s.pendingDrains.isEmpty && s.node.queuedSamples == 0 {
                    for t in s.pendingDrains { reply(t) }
                    s.pendingDrains.removeAll()
                } else if s.sentStarted {
                    message(.underflow) { w in w.u32(s.channel); if version >= 23 { w.s64(s.writeIndex) } }
                    if s.metrics.prebuffer > 0 { s.node.started.store(false, ordering: .relaxed); s.sentStarted = false }
                }
            }
            if !s.pendingDrains.isEmpty && s.node.queuedSamples == 0 && s.node.started.load(ordering: .relaxed) == false {
                for t in s.pendingDrains { reply(t) }
                s.pendingDrains.removeAll()
            }
            requestMore(s)
        }
        for s in record.values {
            s.collect(scratch: &server.scratch)
            let frag = Int(s.metrics.fragmentSize)
            // Sent blocks are taken off the front once, at the end: removing each 64 kB block as
            // it went moved everything behind it every time.
            var sent = 0
            defer { if sent > 0 { s.pending.removeFirst(sent) } }
            while true {
                let left = s.pending.count - sent
                guard left >= frag || (left > 0 && left >= s.format.frameSize && frag > 65_536 && left >= 65_536) else { break }
                let n = min(left, frag, 65_536) / s.format.frameSize * s.format.frameSize
                guard n > 0 else { break }
                let bytes = s.pending[sent..<(sent + n)]
                sent += n
                if queuedOutput > Self.maxQueuedOutput { continue }   // the client is not reading: drop, don't grow
                var frame: [UInt8] = []
                if let pool = recordPool(), let block = pool.export(bytes) {
                    // A reference into this client's own sealed pool instead of the bytes.
                    FrameHeader(length: 16, channel: s.channel, flags: 0xA000_0000).encode(into: &frame)
                    for v in [block.blockID, pool.shmID, UInt32(block.offset), UInt32(n)] {
                        frame += [UInt8(v >> 24), UInt8((v >> 16) & 0xFF), UInt8((v >> 8) & 0xFF), UInt8(v & 0xFF)]
                    }
                } else {
                    FrameHeader(length: UInt32(n), channel: s.channel).encode(into: &frame)
                    frame.append(contentsOf: bytes)
                }
                send(frame)
                s.sentBytes += Int64(n)
            }
        }
    }
}

private extension String {
    func trimmingCharacters(in set: Character) -> String {
        var s = Substring(self)
        while s.first == set { s = s.dropFirst() }
        while s.last == set { s = s.dropLast() }
        return String(s)
    }
}
