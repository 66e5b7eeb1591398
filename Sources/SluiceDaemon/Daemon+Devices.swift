import Glibc
import Graph
import Logging
import Nodes
import SluiceSystem

/// Sound cards in the daemon: found at start, their drivers offered to the engine, their
/// failures watched (a vanished card leaves the graph and its streams move), busy ones retried.
/// [control]
extension Daemon {
    /// A sink (and a source) for every card the kernel knows, named as PulseAudio names them
    /// (`alsa_output.<card id>`). The first card with playback drives the graph and, being first
    /// in the graph, becomes the default sink; the others follow its clock.
    func addDetectedCards() {
        let cards = AlsaDiscovery.cards()
        if cards.isEmpty {
            logger.info("no sound card found; the configured nodes (by default a timer-driven null sink) serve")
            return
        }
        var driverTaken = false
        for card in cards {
            logger.info("sound card \(card.index): \(card.id) (\(card.longName)), playback devices \(card.playbackDevices), capture devices \(card.captureDevices)")
            let drives = !driverTaken && !card.playbackDevices.isEmpty
            for spec in Self.nodeSpecs(for: card, drives: drives) { addOrRetry(type: spec.type, name: spec.name, parameters: spec.parameters) }
            if drives { driverTaken = true }
        }
    }

    /// The nodes a card gets: a sink on its first playback device (driving the graph, or
    /// following the driver's clock) and a source on its first capture device (which shares the
    /// card's clock when the card drives, and is resampled otherwise).
    static func nodeSpecs(for card: AlsaCard, drives: Bool) -> [(type: String, name: String, parameters: [(String, String)])] {
        var specs: [(type: String, name: String, parameters: [(String, String)])] = []
        if let dev = card.playbackDevices.first {
            specs.append(("alsa-sink", "alsa_output.\(card.id)", [("device", card.pcmName(device: dev)), ("driver", drives ? "true" : "false")]))
        }
        if let dev = card.captureDevices.first {
            specs.append(("alsa-source", "alsa_input.\(card.id)", [("device", card.pcmName(device: dev)), ("follow", drives ? "false" : "true")]))
        }
        return specs
    }

    /// Whether `name` is a node autodetection made (and a rescan may remove).
    static func isDetectedCardNode(_ name: String) -> Bool { name.hasPrefix("alsa_output.") || name.hasPrefix("alsa_input.") }

    /// Watches the sound device directory (`/dev/snd`, or `$SLUICE_SND_DIR`, and `/dev` for its
    /// creation) so a card plugged in while the daemon runs gets its nodes, and one unplugged
    /// while idle loses them. Costs nothing until something changes there.
    func watchForCards() {
        let dir = environment["SLUICE_SND_DIR"] ?? "/dev/snd"
        let fd = inotify_init1(Int32(IN_NONBLOCK | IN_CLOEXEC))
        guard fd >= 0 else { logger.warning("no hot-plug: inotify_init1 failed (errno \(errno))"); return }
        let mask = UInt32(IN_CREATE | IN_DELETE | IN_ATTRIB)
        let parent = String(dir[..<(dir.lastIndex(of: "/") ?? dir.startIndex)])
        _ = inotify_add_watch(fd, parent.isEmpty ? "/" : parent, UInt32(IN_CREATE | IN_DELETE))
        _ = inotify_add_watch(fd, dir, mask)   // fails harmlessly while the directory does not exist
        do {
            let timer = try TimerFD()     // kept alive by the handlers below, as is the inotify fd
            _ = try loop.register(fd, events: .readable) { _ in
                var buffer = [UInt8](repeating: 0, count: 4096)
                while read(fd, &buffer, buffer.count) > 0 {}
                _ = inotify_add_watch(fd, dir, mask)       // the directory may have just appeared
                timer.arm(firstNanos: monotonicNanos() + 500_000_000, periodNanos: 0)   // let udev finish
            }
            _ = try loop.register(timer.fd, events: .readable) { [unowned self] _ in
                _ = timer.expirations()
                rescanCards()
            }
        } catch {
            close(fd)
            logger.warning("no hot-plug: \(error)")
        }
    }

    /// After a change in the device directory: nodes for new cards, none for gone idle ones
    /// (a card that vanishes mid-stream is noticed by its node first).
    func rescanCards() {
        let cards = AlsaDiscovery.cards()
        logger.info("sound devices changed; \(cards.count) card(s) present")
        let present = Set(engine.nodeNames)
        var driverTaken = devices.values.contains { $0.driver != nil }
        var wanted = Set<String>()
        for card in cards {
            let drives = !driverTaken && !card.playbackDevices.isEmpty
            for spec in Self.nodeSpecs(for: card, drives: drives) {
                wanted.insert(spec.name)
                guard !present.contains(spec.name) && !pendingDevices.contains(where: { $0.name == spec.name }) else { continue }
                addOrRetry(type: spec.type, name: spec.name, parameters: spec.parameters)
                if spec.type == "alsa-sink" && drives { driverTaken = true }
            }
        }
        for name in devices.keys where Self.isDetectedCardNode(name) && !wanted.contains(name) {
            logger.info("sound card of '\(name)' is gone; removing its node")
            try? removeNode(named: name)
        }
        pendingDevices.removeAll { !wanted.contains($0.name) && Self.isDetectedCardNode($0.name) }
    }

    /// Adds a card node now, or when busy, retries it every 5 s until it opens.
    func addOrRetry(type: String, name: String, parameters: [(String, String)]) {
        do {
            let node = try NodeFactory.make(type: type, name: name, parameters: parameters, format: engine.format)
            try engine.add(node)
            attachDevice(node)
            logger.info("added \(type) '\(name)' (\(parameters.map { "\($0.0)=\($0.1)" }.joined(separator: " ")))")
        } catch {
            logger.warning("\(error); retrying every 5 s")
            pendingDevices.append((type, name, parameters))
            armRetry()
        }
    }

    private func armRetry() {
        guard retryTimer == nil else { return }
        do {
            let t = try TimerFD()
            t.arm(firstNanos: monotonicNanos() + 5_000_000_000, periodNanos: 5_000_000_000)
            retryTimer = t
            retryToken = try loop.register(t.fd, events: .readable) { [unowned self] _ in retryPending() }
        } catch { logger.error("cannot arm the device retry timer: \(error)") }
    }

    private func retryPending() {
        _ = retryTimer?.expirations()
        let pending = pendingDevices
        pendingDevices = []
        for p in pending {
            do {
                let node = try NodeFactory.make(type: p.type, name: p.name, parameters: p.parameters, format: engine.format)
                try engine.add(node)
                attachDevice(node)
                logger.info("\(p.type) '\(p.name)' is free now and was added")
            } catch { pendingDevices.append(p) }
        }
        if pendingDevices.isEmpty, let token = retryToken {
            loop.unregister(token)
            retryTimer = nil
            retryToken = nil
        }
    }

    /// After a node was added: a card's driver is offered to the engine, and its status
    /// eventfd is watched.
    func attachDevice(_ node: AudioNode) {
        let device: AlsaDevice
        var driver: Driver? = nil
        if let sink = node as? AlsaSinkNode {
            device = sink.device
            driver = sink.driver
        } else if let source = node as? AlsaSourceNode {
            device = source.device
        } else {
            return
        }
        if let driver { engine.addDriver(driver) }
        let name = node.name
        let token = try? loop.register(device.statusChanged.fd, events: .readable) { [unowned self] _ in
            _ = device.statusChanged.drain()
            deviceStatusChanged(name: name, device: device)
        }
        // Jacks plugged in or out: the ports clients see change, and subscribers hear of it.
        var controls: (watcher: AlsaControlWatcher, token: EventLoop.Token)?
        if let control = device.controlName, let watcher = AlsaControlWatcher(name: control),
           let t = try? loop.register(watcher.fd, events: .readable, { [unowned self] _ in
               guard watcher.drain() else { return }
               device.forgetPorts()
               pulse?.deviceChanged(name: name)
           }) {
            controls = (watcher, t)
        }
        devices[name] = (driver, token, controls)
    }

    /// Before or after a node leaves: withdraws its driver and stops watching it.
    func detachDevice(_ name: String) {
        guard let entry = devices.removeValue(forKey: name) else { return }
        if let d = entry.driver { engine.removeDriver(d) }
        if let t = entry.token { loop.unregister(t) }
        if let c = entry.controls { loop.unregister(c.token) }
    }

    private func deviceStatusChanged(name: String, device: AlsaDevice) {
        guard device.state == .gone else {
            logger.debug("ALSA device '\(device.pcm.name)' (\(name)): \(device.xruns) xruns so far, recovered")
            return
        }
        logger.warning("ALSA device '\(device.pcm.name)' (\(name)) is gone (\(AlsaError.text(device.lastError))); removing its node")
        try? removeNode(named: name)
    }

    /// Removes a node the one way every path takes (`sluice rm`, a card gone, a rescan): its
    /// driver withdrawn first, then the node, then the pulse side rescues its streams.
    func removeNode(named name: String) throws(GraphError) {
        let removed = engine.snapshot().nodes.first { $0.name == name }
        detachDevice(name)
        try engine.remove(named: name)
        if let removed { pulse?.nodeRemoved(name: name, index: UInt32(removed.id), type: removed.type) }
    }
}
