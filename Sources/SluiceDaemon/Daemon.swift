import CompatPulse
import Glibc
import Graph
import Logging
import Nodes
import SluiceControl
import SluiceSystem
import TextFormats

/// sluiced: loads the config, builds the graph, starts the RT thread, and serves the control
/// socket from one control thread (an epoll loop) until SIGINT/SIGTERM. [control]
public final class Daemon {
    let config: DaemonConfig
    let engine: Engine
    var logger: Logger
    /// The control thread's event loop; the pulse server registers its sockets here too.
    public let loop: EventLoop
    let socketPath: String
    private var listener: UnixSocket?
    var pulse: PulseServer?
    let environment: [String: String]
    private var signals: SignalFD?
    private var connections: [UInt64: (ControlConnection, EventLoop.Token)] = [:]
    private var nextConnectionID: UInt64 = 1
    private let startNanos: Int64
    /// Sound-card nodes: their driver (sinks asked to drive) and the status eventfd's token.
    var devices: [String: (driver: Driver?, token: EventLoop.Token?, controls: (watcher: AlsaControlWatcher, token: EventLoop.Token)?)] = [:]
    /// Cards that were busy at start: retried every few seconds (`retryTimer`).
    var pendingDevices: [(type: String, name: String, parameters: [(String, String)])] = []
    var retryTimer: TimerFD?
    var retryToken: EventLoop.Token?

    /// Builds the engine and every configured node and link. Nothing is started yet.
    public init(config: DaemonConfig, environment: [String: String], logger: Logger, startNanos: Int64) throws(DaemonError) {
        self.config = config
        self.logger = logger
        self.startNanos = startNanos
        self.environment = environment
        self.socketPath = config.controlSocket ?? RuntimeDirectory.controlSocket(environment: environment)
        do { loop = try EventLoop() } catch { throw .system(what: "create an epoll instance", errno: error) }
        let driver: Driver
        do {
            driver = switch config.driver {
            case .timer: try TimerDriver()
            case .freewheel: FreewheelDriver()
            }
        } catch { throw .system(what: "create the timer", errno: error) }
        do { engine = try Engine(format: config.engineFormat, driver: driver) } catch {
            throw .graph(file: config.source, line: nil, error: error)
        }
        engine.minimumQuantum = config.minimumQuantum
        engine.maximumCyclesPerWake = config.maximumCyclesPerWake
        engine.hostsDeferredCycles = true
        if config.alsaAutodetect {
            addDetectedCards()
            watchForCards()
        }
        for spec in config.nodes {
            do {
                let node = try NodeFactory.make(type: spec.type, name: spec.name, parameters: spec.parameters, format: config.format)
                try engine.add(node)
                attachDevice(node)
            } catch { throw .graph(file: config.source, line: spec.position.line, error: error) }
        }
        for spec in config.links {
            do { try Self.link(engine, spec.from, spec.to) } catch { throw .graph(file: config.source, line: spec.position.line, error: error) }
        }
    }

    /// Links `from` to `to`, each either `node` or `node:port` (both the same form).
    static func link(_ engine: Engine, _ from: String, _ to: String) throws(GraphError) {
        if let a = PortAddress(parsing: from), let b = PortAddress(parsing: to) {
            try engine.link(a, b)
        } else {
            try engine.link(node: PortAddress(parsing: from)?.node ?? from, to: PortAddress(parsing: to)?.node ?? to)
        }
    }

    /// Starts the RT thread and the control socket, then serves until a stop signal.
    public func run() throws(DaemonError) {
        // Before any thread starts, so every thread inherits the mask and only the signalfd
        // sees these signals.
        let signals: SignalFD
        do { signals = try SignalFD(signals: [SIGINT, SIGTERM]) } catch { throw .system(what: "create a signalfd", errno: error) }
        self.signals = signals
        signal(SIGPIPE, SIG_IGN)

        do { try engine.start(realtimePriority: config.realtimePriority) } catch {
            throw .graph(file: config.source, line: nil, error: error)
        }
        switch engine.policy {
        case .fifo(let p): logger.info("realtime thread running at SCHED_FIFO priority \(p)")
        case .other, .batch:
            if config.realtimePriority > 0 {
                logger.warning("realtime scheduling refused (\(engine.fifoRefusal.map { "\($0)" } ?? "unknown")); the graph runs at normal priority and may glitch under load — grant CAP_SYS_NICE or an RLIMIT_RTPRIO, or set [realtime] priority = 0 to silence this")
            }
        }

        let directory = String(socketPath[..<(socketPath.lastIndex(of: "/") ?? socketPath.endIndex)])
        do { if !directory.isEmpty { try FileIO.makePrivateDirectory(directory) } } catch {
            engine.stop()
            throw .system(what: "create the runtime directory \(directory)", errno: error)
        }
        do {
            let l = try UnixSocket.listen(path: socketPath)
            listener = l
            try loop.register(l.fd, events: .readable) { [unowned self] _ in acceptClients() }
            try loop.register(signals.fd, events: .readable) { [unowned self] _ in handleSignal() }
            try loop.register(engine.core.retiredSignal.fd, events: .readable) { [unowned self] _ in engine.reclaim() }
            // While cycles are deferred the control thread runs them on the driver's timer (Engine.hosting).
            var hostedTimer: EventLoop.Token?
            engine.onHostingChange = { [unowned self] fd in
                if let t = hostedTimer { loop.unregister(t); hostedTimer = nil }
                if let fd { hostedTimer = try? loop.register(fd, events: .readable) { [unowned self] _ in engine.serviceHostedCycles(timerFired: true) } }
            }
        } catch {
            engine.stop()
            if error.rawValue == EADDRINUSE {
                throw .alreadyRunning(socket: socketPath)
            }
            throw .system(what: "listen on \(socketPath)", errno: error)
        }
        let readyMillis = Double(monotonicNanos() - startNanos) / 1e6
        logger.info("ready: control socket \(socketPath), \(config.format.sampleRate) Hz, quantum \(config.format.quantum), driver \(engine.snapshot().driver.name), config \(config.source) (\(String(format3(readyMillis))) ms)")

        startPulse()
        for hook in startHooks { hook(self) }
        loop.run()
        logger.info("stopping")
        for (_, (_, token)) in connections { loop.unregister(token) }
        connections.removeAll()
        for hook in stopHooks { hook(self) }
        pulse?.stop()
        engine.stop()
        unlink(socketPath)
        logger.info("stopped cleanly")
    }

    /// Starts the pulse server. A failure (e.g. a PulseAudio already serving the socket) is
    /// logged and the daemon goes on without it: the graph and the control socket still work.
    private func startPulse() {
        guard config.pulseEnabled else { return }
        var pc = PulseServerConfig(socketPath: config.pulseSocket ?? RuntimeDirectory.pulseSocket(environment: environment),
                                   cookiePath: PulseCookie.path(environment: environment))
        pc.maxClients = config.pulseMaxClients
        pc.srbchannel = config.pulseSrbchannel
        let logger = self.logger
        do {
            let server = try PulseServer(engine: engine, loop: loop, config: pc, log: { logger.info("\($0)") })
            try server.start()
            pulse = server
        } catch {
            if error.rawValue == EADDRINUSE {
                logger.error("pulse server not started: another server (PulseAudio or pipewire-pulse?) is listening on \(pc.socketPath); stop it, or set [pulse] socket to another path")
            } else {
                logger.error("pulse server not started: cannot listen on \(pc.socketPath): \(error)")
            }
        }
    }

    private func handleSignal() {
        for s in signals?.pendingSignals() ?? [] {
            logger.info("received signal \(s), shutting down")
            loop.stop()
        }
    }

    private func acceptClients() {
        guard let listener else { return }
        while let s = try? listener.accept() {
            let id = nextConnectionID
            nextConnectionID += 1
            let c = ControlConnection(socket: s, id: id)
            guard let token = try? loop.register(s.fd, events: [.readable, .hangup], { [unowned self] events in serve(id, events: events) }) else { continue }
            connections[id] = (c, token)
        }
    }

    private func drop(_ id: UInt64) {
        guard let (_, token) = connections.removeValue(forKey: id) else { return }
        loop.unregister(token)
    }

    private func serve(_ id: UInt64, events: IOEvents) {
        guard let (c, token) = connections[id] else { return }
        if events.contains(.writable) {
            if c.flush() { loop.modify(token, events: [.readable, .hangup]) }
        }
        switch c.readLines() {
        case .closed:
            drop(id)
        case .tooLong:
            _ = c.send(ControlResponse.failure(id: nil, message: "request longer than \(ControlProtocol.maxLineBytes) bytes").line)
            drop(id)
        case .lines(let lines):
            for line in lines where !line.isEmpty {
                let response: ControlResponse
                switch ControlRequest.decode(line) {
                case .failure(let e): response = .failure(id: e.id, message: e.message)
                case .success(let request): response = handle(request)
                }
                if !c.send(response.line) { loop.modify(token, events: [.readable, .writable, .hangup]) }
            }
        }
    }

    /// Called on the control thread once the daemon is ready, and once when it stops
    /// (the pulse server starts and stops with these).
    public var startHooks: [(Daemon) -> Void] = []
    public var stopHooks: [(Daemon) -> Void] = []

    // MARK: Commands

    func handle(_ request: ControlRequest) -> ControlResponse {
        let args = request.arguments
        func arg(_ key: String) throws(CommandError) -> String {
            guard let v = args[key]?.stringValue, !v.isEmpty else { throw CommandError("'\(request.command)' needs the argument '\(key)'") }
            return v
        }
        do {
            let result: JSONValue
            switch request.command {
            case "ping":
                result = .object(JSONObject([("pid", .integer(Int64(getpid()))), ("protocol", .integer(ControlProtocol.version))]))
            case "ls", "dump":
                result = StateJSON.dump(engine.snapshot(), daemon: self)
            case "types":
                result = .array(NodeFactory.types.map { .object(JSONObject([("type", .string($0.name)), ("help", .string($0.help))])) })
            case "add":
                let type = try arg("type"), name = try arg("name")
                var params: [(String, String)] = []
                for (k, v) in args["params"]?.objectValue ?? JSONObject() {
                    params.append((k, v.stringValue ?? v.serialized()))
                }
                let node = try NodeFactory.make(type: type, name: name, parameters: params, format: engine.format)
                try engine.add(node)
                attachDevice(node)
                logger.info("added node '\(name)' (\(type))")
                result = .object(JSONObject([("name", .string(name))]))
            case "rm":
                let name = try arg("name")
                try removeNode(named: name)
                logger.info("removed node '\(name)'")
                result = .object(JSONObject([("name", .string(name))]))
            case "link":
                let from = try arg("from"), to = try arg("to")
                try Self.link(engine, from, to)
                result = .object(JSONObject([("from", .string(from)), ("to", .string(to))]))
            case "unlink":
                let from = try arg("from"), to = try arg("to")
                if let a = PortAddress(parsing: from), let b = PortAddress(parsing: to) {
                    try engine.unlink(a, b)
                } else {
                    try engine.unlink(node: from, to: to)
                }
                result = .object(JSONObject([("from", .string(from)), ("to", .string(to))]))
            case "set":
                let node = try arg("node"), param = try arg("param")
                guard let value = args["value"].map({ $0.stringValue ?? $0.serialized() }) else {
                    throw CommandError("'set' needs the argument 'value'")
                }
                try engine.set(node: node, parameter: param, value: value)
                result = .object(JSONObject([("node", .string(node)), ("param", .string(param)), ("value", .string(value))]))
            default:
                throw CommandError("unknown command '\(request.command)'; commands: ping, ls, dump, types, add, rm, link, unlink, set")
            }
            return .success(id: request.id, result: result)
        } catch let e as GraphError {
            return .failure(id: request.id, message: e.description)
        } catch let e as CommandError {
            return .failure(id: request.id, message: e.message)
        } catch {
            return .failure(id: request.id, message: "\(error)")
        }
    }

    var uptimeNanos: Int64 { monotonicNanos() - startNanos }
}

struct CommandError: Error { let message: String; init(_ m: String) { message = m } }

/// Why the daemon could not start.
public enum DaemonError: Error, CustomStringConvertible {
    case config(ConfigErrors)
    case graph(file: String, line: Int?, error: GraphError)
    case system(what: String, errno: Errno)
    case alreadyRunning(socket: String)
    case usage(String)

    public var description: String {
        switch self {
        case .config(let e): e.errors.map(\.description).joined(separator: "\n")
        case let .graph(file, line, error): "\(file)\(line.map { ":\($0)" } ?? ""): \(error)"
        case let .system(what, errno): "could not \(what): \(errno)"
        case .alreadyRunning(let s): "another sluiced is already serving \(s); stop it first, or set [control] socket to another path"
        case .usage(let s): s
        }
    }
}

func format3(_ v: Double) -> String {
    let scaled = Int((v * 1000).rounded())
    let frac = String(scaled % 1000)
    return "\(scaled / 1000)." + String(repeating: "0", count: 3 - frac.count) + frac
}
