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
    let epoll: Epoll
    let socketPath: String
    private var listener: UnixSocket?
    private var signals: SignalFD?
    private var connections: [UInt64: ControlConnection] = [:]
    private var nextConnectionID: UInt64 = 100
    private let startNanos: Int64
    private var stopping = false

    private static let listenerToken: UInt64 = 1
    private static let signalToken: UInt64 = 2
    private static let retiredToken: UInt64 = 3

    /// Builds the engine and every configured node and link. Nothing is started yet.
    public init(config: DaemonConfig, environment: [String: String], logger: Logger, startNanos: Int64) throws(DaemonError) {
        self.config = config
        self.logger = logger
        self.startNanos = startNanos
        self.socketPath = config.controlSocket ?? RuntimeDirectory.controlSocket(environment: environment)
        do { epoll = try Epoll() } catch { throw .system(what: "create an epoll instance", errno: error) }
        let driver: Driver
        do {
            driver = switch config.driver {
            case .timer: try TimerDriver()
            case .freewheel: FreewheelDriver()
            }
        } catch { throw .system(what: "create the timer", errno: error) }
        do { engine = try Engine(format: config.format, driver: driver) } catch {
            throw .graph(file: config.source, line: nil, error: error)
        }
        for spec in config.nodes {
            do {
                let node = try NodeFactory.make(type: spec.type, name: spec.name, parameters: spec.parameters, format: config.format)
                try engine.add(node)
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
        case .other:
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
            try epoll.add(l.fd, events: .readable, token: Self.listenerToken)
            try epoll.add(signals.fd, events: .readable, token: Self.signalToken)
            try epoll.add(engine.core.retiredSignal.fd, events: .readable, token: Self.retiredToken)
        } catch {
            engine.stop()
            if error.rawValue == EADDRINUSE {
                throw .alreadyRunning(socket: socketPath)
            }
            throw .system(what: "listen on \(socketPath)", errno: error)
        }
        let readyMillis = Double(monotonicNanos() - startNanos) / 1e6
        logger.info("ready: control socket \(socketPath), \(config.format.sampleRate) Hz, quantum \(config.format.quantum), driver \(engine.snapshot().driver.name), config \(config.source) (\(String(format3(readyMillis))) ms)")

        let events = EpollEventBuffer(capacity: 64)
        while !stopping {
            let n = epoll.wait(into: events, timeoutMillis: -1)
            for i in 0..<n {
                let token = events.token(at: i)
                let flags = events.events(at: i)
                switch token {
                case Self.listenerToken: acceptClients()
                case Self.signalToken: handleSignal()
                case Self.retiredToken: engine.reclaim()
                default: serve(token, events: flags)
                }
            }
        }
        logger.info("stopping")
        for (_, c) in connections { epoll.remove(c.socket.fd) }
        connections.removeAll()
        engine.stop()
        unlink(socketPath)
        logger.info("stopped cleanly")
    }

    private func handleSignal() {
        for s in signals?.pendingSignals() ?? [] {
            logger.info("received signal \(s), shutting down")
            stopping = true
        }
    }

    private func acceptClients() {
        guard let listener else { return }
        while let s = try? listener.accept() {
            let id = nextConnectionID
            nextConnectionID += 1
            do { try epoll.add(s.fd, events: [.readable, .hangup], token: id) } catch { continue }
            connections[id] = ControlConnection(socket: s, id: id)
        }
    }

    private func drop(_ c: ControlConnection) {
        epoll.remove(c.socket.fd)
        connections[c.id] = nil
    }

    private func serve(_ token: UInt64, events: IOEvents) {
        guard let c = connections[token] else { return }
        if events.contains(.writable) {
            if c.flush() { try? epoll.modify(c.socket.fd, events: [.readable, .hangup], token: token) }
        }
        switch c.readLines() {
        case .closed:
            drop(c)
        case .tooLong:
            _ = c.send(ControlResponse.failure(id: nil, message: "request longer than \(ControlProtocol.maxLineBytes) bytes").line)
            drop(c)
        case .lines(let lines):
            for line in lines where !line.isEmpty {
                let response: ControlResponse
                switch ControlRequest.decode(line) {
                case .failure(let e): response = .failure(id: e.id, message: e.message)
                case .success(let request): response = handle(request)
                }
                if !c.send(response.line) {
                    try? epoll.modify(c.socket.fd, events: [.readable, .writable, .hangup], token: token)
                }
            }
        }
    }

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
                logger.info("added node '\(name)' (\(type))")
                result = .object(JSONObject([("name", .string(name))]))
            case "rm":
                let name = try arg("name")
                try engine.remove(named: name)
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
