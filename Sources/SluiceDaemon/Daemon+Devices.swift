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
            if let dev = card.playbackDevices.first {
                addOrRetry(type: "alsa-sink", name: "alsa_output.\(card.id)",
                           parameters: [("device", card.pcmName(device: dev)), ("driver", driverTaken ? "false" : "true")])
                driverTaken = true
            }
            if let dev = card.captureDevices.first {
                addOrRetry(type: "alsa-source", name: "alsa_input.\(card.id)", parameters: [("device", card.pcmName(device: dev))])
            }
        }
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
        devices[name] = (driver, token)
    }

    /// Before or after a node leaves: withdraws its driver and stops watching it.
    func detachDevice(_ name: String) {
        guard let entry = devices.removeValue(forKey: name) else { return }
        if let d = entry.driver { engine.removeDriver(d) }
        if let t = entry.token { loop.unregister(t) }
    }

    private func deviceStatusChanged(name: String, device: AlsaDevice) {
        guard device.state == .gone else {
            logger.debug("ALSA device '\(device.pcm.name)' (\(name)): \(device.xruns) xruns so far, recovered")
            return
        }
        logger.warning("ALSA device '\(device.pcm.name)' (\(name)) is gone (\(AlsaError.text(device.lastError))); removing its node")
        let removed = engine.snapshot().nodes.first { $0.name == name }
        detachDevice(name)
        try? engine.remove(named: name)
        if let removed, removed.type == "alsa-sink" { pulse?.sinkRemoved(name: name, index: UInt32(removed.id)) }
        if let removed, removed.type == "alsa-source" { pulse?.sourceRemoved(name: name, index: UInt32(removed.id)) }
    }
}
