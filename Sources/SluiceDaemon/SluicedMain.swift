import Glibc
import Graph
import Logging
import Nodes
import SluiceControl
import SluiceSystem

/// The `sluiced` command line: `sluiced [--config PATH]`, `sluiced --check [PATH]`.
public enum SluicedMain {
    static let usage = """
    usage: sluiced [--config PATH]      run the daemon in the foreground
           sluiced --check [PATH]       validate a config file and exit
    The config is PATH, else $XDG_CONFIG_HOME/sluice/sluiced.toml (~/.config/sluice/sluiced.toml),
    else the built-in default (a timer-driven null sink). Logs go to stderr.
    """

    /// Runs the daemon; returns the process exit status.
    public static func run(arguments: [String]) -> Int32 {
        let start = monotonicNanos()
        let env = RuntimeDirectory.processEnvironment()
        var configPath: String?
        var check = false
        var i = 0
        while i < arguments.count {
            let a = arguments[i]
            switch a {
            case "--config", "-c":
                guard i + 1 < arguments.count else { return fail("--config needs a path\n\(usage)") }
                configPath = arguments[i + 1]
                i += 1
            case "--check":
                check = true
                if i + 1 < arguments.count, !arguments[i + 1].hasPrefix("-") { configPath = arguments[i + 1]; i += 1 }
            case "--help", "-h":
                print(usage)
                return 0
            default:
                if a.hasPrefix("--config=") { configPath = String(a.dropFirst(9)) } else { return fail("unknown argument '\(a)'\n\(usage)") }
            }
            i += 1
        }

        let loaded = loadConfig(explicitPath: configPath, environment: env)
        let config: DaemonConfig
        switch loaded {
        case .failure(let e):
            return fail(e.description)
        case .success(let c):
            config = c
        }
        if check {
            // Build every node without starting anything, so parameter errors show too.
            for spec in config.nodes {
                do { _ = try NodeFactory.make(type: spec.type, name: spec.name, parameters: spec.parameters, format: config.format, openDevices: false) } catch {
                    return fail("\(config.source):\(spec.position.line):\(spec.position.column): \(error)")
                }
            }
            print("\(config.source): ok (\(config.nodes.count) nodes, \(config.links.count) links)")
            return 0
        }

        let level = Logger.Level(rawValue: config.logLevel) ?? .info
        LoggingSystem.bootstrap { label in
            var h = StreamLogHandler.standardError(label: label)
            h.logLevel = level
            return h
        }
        let logger = Logger(label: "sluiced")
        let fdLimit = raiseFileDescriptorLimit()
        if fdLimit < 4096 { logger.warning("the open-file limit is \(fdLimit): that many pulse clients at most; raise `ulimit -n` to serve more") }
        do {
            let daemon = try Daemon(config: config, environment: env, logger: logger, startNanos: start)
            try daemon.run()
            return 0
        } catch {
            return fail(error.description)
        }
    }

    static func fail(_ message: String) -> Int32 {
        var text = ""
        for line in message.split(separator: "\n", omittingEmptySubsequences: false) { text += "sluiced: \(line)\n" }
        writeToStandardError(text)
        return 1
    }

    /// The config in force: an explicit path must exist; the default path may be absent.
    static func loadConfig(explicitPath: String?, environment: [String: String]) -> Result<DaemonConfig, DaemonError> {
        let path: String
        if let explicitPath {
            path = explicitPath
        } else {
            let base = environment["XDG_CONFIG_HOME"].flatMap { $0.isEmpty ? nil : $0 } ?? ((environment["HOME"] ?? "/root") + "/.config")
            path = base + "/sluice/sluiced.toml"
            if !FileIO.exists(path) {
                return ConfigLoader.load(text: DaemonConfig.builtInText, file: "<built-in>").mapError { .config($0) }
            }
        }
        let text: String
        do { text = try FileIO.readText(path) } catch {
            return .failure(.usage("cannot read config '\(path)': \(error)"))
        }
        return ConfigLoader.load(text: text, file: path).mapError { .config($0) }
    }
}
