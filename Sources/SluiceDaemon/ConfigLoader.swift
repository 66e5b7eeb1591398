import Graph
import Nodes
import TextFormats

/// Turns sluiced.toml text into a `DaemonConfig`, collecting every error with its position.
public enum ConfigLoader {
    public static func load(text: String, file: String) -> Result<DaemonConfig, ConfigErrors> {
        let (root, parseErrors) = TOML.parse(text)
        var errors = parseErrors.map { ConfigError(file: file, position: $0.position, key: nil, message: $0.message) }
        var config = DaemonConfig()
        config.source = file

        func fail(_ entry: TOMLEntry, _ key: String, _ message: String) {
            errors.append(ConfigError(file: file, position: entry.valuePosition, key: key, message: message))
        }
        func integer(_ e: TOMLEntry, _ key: String, _ range: ClosedRange<Int>) -> Int? {
            guard case .integer(let v) = e.value else {
                fail(e, key, "expected an integer from \(range.lowerBound) to \(range.upperBound), found a \(e.value.typeName)"); return nil
            }
            guard range.contains(Int(v)) else {
                fail(e, key, "expected an integer from \(range.lowerBound) to \(range.upperBound), found \(v)"); return nil
            }
            return Int(v)
        }
        func string(_ e: TOMLEntry, _ key: String, oneOf choices: [String]? = nil) -> String? {
            guard case .string(let s) = e.value else { fail(e, key, "expected a string, found a \(e.value.typeName)"); return nil }
            if let choices, !choices.contains(s) {
                fail(e, key, "expected one of \(choices.map { "\"\($0)\"" }.joined(separator: ", ")), found \"\(s)\""); return nil
            }
            return s
        }
        func table(_ e: TOMLEntry, _ key: String) -> TOMLTable? {
            guard case .table(let t) = e.value else { fail(e, key, "expected a table ([\(key)]), found a \(e.value.typeName)"); return nil }
            return t
        }
        func unknown(_ e: TOMLEntry, _ key: String, known: [String]) {
            errors.append(ConfigError(file: file, position: e.keyPosition, key: key,
                                      message: "unknown key; known keys here: \(known.joined(separator: ", "))"))
        }

        for entry in root.entries {
            switch entry.key {
            case "graph":
                guard let t = table(entry, "graph") else { continue }
                for e in t.entries {
                    switch e.key {
                    case "rate": if let v = integer(e, "graph.rate", GraphFormat.sampleRateRange) { config.format.sampleRate = v }
                    case "quantum": if let v = integer(e, "graph.quantum", GraphFormat.quantumRange) { config.format.quantum = v }
                    case "channels": if let v = integer(e, "graph.channels", 1...32) { config.format.channelNames = GraphFormat.channelNames(count: v) }
                    case "min_quantum": if let v = integer(e, "graph.min_quantum", GraphFormat.quantumRange) { config.minimumQuantum = v }
                    case "max_quantum": if let v = integer(e, "graph.max_quantum", GraphFormat.quantumRange) { config.maximumQuantum = v }
                    case "max_cycles_per_wakeup": if let v = integer(e, "graph.max_cycles_per_wakeup", 1...64) { config.maximumCyclesPerWake = v }
                    default: unknown(e, "graph.\(e.key)", known: ["rate", "quantum", "min_quantum", "max_quantum", "max_cycles_per_wakeup", "channels"])
                    }
                }
            case "realtime":
                guard let t = table(entry, "realtime") else { continue }
                for e in t.entries {
                    switch e.key {
                    case "priority": if let v = integer(e, "realtime.priority", 0...99) { config.realtimePriority = Int32(v) }
                    default: unknown(e, "realtime.\(e.key)", known: ["priority"])
                    }
                }
            case "driver":
                guard let t = table(entry, "driver") else { continue }
                for e in t.entries {
                    switch e.key {
                    case "type":
                        if let s = string(e, "driver.type", oneOf: ["timer", "freewheel"]) { config.driver = .init(rawValue: s)! }
                    default: unknown(e, "driver.\(e.key)", known: ["type"])
                    }
                }
            case "control":
                guard let t = table(entry, "control") else { continue }
                for e in t.entries {
                    switch e.key {
                    case "socket": if let s = string(e, "control.socket") { config.controlSocket = s }
                    default: unknown(e, "control.\(e.key)", known: ["socket"])
                    }
                }
            case "pulse":
                guard let t = table(entry, "pulse") else { continue }
                for e in t.entries {
                    switch e.key {
                    case "enabled":
                        if case .boolean(let b) = e.value { config.pulseEnabled = b } else { fail(e, "pulse.enabled", "expected true or false, found a \(e.value.typeName)") }
                    case "socket": if let s = string(e, "pulse.socket") { config.pulseSocket = s }
                    case "max_clients": if let v = integer(e, "pulse.max_clients", 1...65_536) { config.pulseMaxClients = v }
                    case "srbchannel":
                        if case .boolean(let b) = e.value { config.pulseSrbchannel = b } else { fail(e, "pulse.srbchannel", "expected true or false, found a \(e.value.typeName)") }
                    default: unknown(e, "pulse.\(e.key)", known: ["enabled", "socket", "max_clients", "srbchannel"])
                    }
                }
            case "alsa":
                guard let t = table(entry, "alsa") else { continue }
                for e in t.entries {
                    switch e.key {
                    case "autodetect":
                        if case .boolean(let b) = e.value { config.alsaAutodetect = b } else { fail(e, "alsa.autodetect", "expected true or false, found a \(e.value.typeName)") }
                    default: unknown(e, "alsa.\(e.key)", known: ["autodetect"])
                    }
                }
            case "log":
                guard let t = table(entry, "log") else { continue }
                for e in t.entries {
                    switch e.key {
                    case "level":
                        if let s = string(e, "log.level", oneOf: ["trace", "debug", "info", "notice", "warning", "error", "critical"]) { config.logLevel = s }
                    default: unknown(e, "log.\(e.key)", known: ["level"])
                    }
                }
            case "node":
                for (i, t) in tables(entry, "node", fail: fail).enumerated() {
                    var type: String?, name: String?, params: [(String, String)] = []
                    for e in t.entries {
                        switch e.key {
                        case "type": type = string(e, "node[\(i)].type")
                        case "name": name = string(e, "node[\(i)].name")
                        case "params":
                            guard let pt = table(e, "node[\(i)].params") else { continue }
                            for p in pt.entries {
                                switch p.value {
                                case .string(let s): params.append((p.key, s))
                                case .integer(let v): params.append((p.key, String(v)))
                                case .float(let v): params.append((p.key, String(v)))
                                case .boolean(let b): params.append((p.key, b ? "true" : "false"))
                                default: fail(p, "node[\(i)].params.\(p.key)", "expected a string, number or boolean, found a \(p.value.typeName)")
                                }
                            }
                        default: unknown(e, "node[\(i)].\(e.key)", known: ["type", "name", "params"])
                        }
                    }
                    guard let type, let name else {
                        errors.append(ConfigError(file: file, position: t.position, key: "node[\(i)]", message: "a [[node]] needs both 'type' and 'name'"))
                        continue
                    }
                    config.nodes.append(.init(type: type, name: name, parameters: params, position: t.position))
                }
            case "link":
                for (i, t) in tables(entry, "link", fail: fail).enumerated() {
                    var from: String?, to: String?
                    for e in t.entries {
                        switch e.key {
                        case "from": from = string(e, "link[\(i)].from")
                        case "to": to = string(e, "link[\(i)].to")
                        default: unknown(e, "link[\(i)].\(e.key)", known: ["from", "to"])
                        }
                    }
                    guard let from, let to else {
                        errors.append(ConfigError(file: file, position: t.position, key: "link[\(i)]", message: "a [[link]] needs both 'from' and 'to' (\"node\" or \"node:port\")"))
                        continue
                    }
                    config.links.append(.init(from: from, to: to, position: t.position))
                }
            default:
                unknown(entry, entry.key, known: ["graph", "realtime", "driver", "control", "pulse", "alsa", "log", "node", "link"])
            }
        }
        // Semantic checks that need the whole file.
        var seen: [String: SourcePosition] = [:]
        for n in config.nodes {
            if let first = seen[n.name] {
                errors.append(ConfigError(file: file, position: n.position, key: "name",
                                          message: "node name '\(n.name)' is already used at line \(first.line)"))
            }
            seen[n.name] = n.position
            if !NodeFactory.types.map(\.name).contains(n.type) {
                errors.append(ConfigError(file: file, position: n.position, key: "type",
                                          message: "unknown node type '\(n.type)'; available: \(NodeFactory.types.map(\.name).joined(separator: ", "))"))
            }
        }
        for l in config.links {
            for end in [l.from, l.to] {
                let node = PortAddress(parsing: end)?.node ?? end
                if seen[node] == nil {
                    errors.append(ConfigError(file: file, position: l.position, key: "link",
                                              message: "no node named '\(node)' is defined in this file"))
                }
            }
        }
        errors.sort { ($0.position.line, $0.position.column) < ($1.position.line, $1.position.column) }
        return errors.isEmpty ? .success(config) : .failure(ConfigErrors(errors: errors))
    }

    private static func tables(_ entry: TOMLEntry, _ key: String, fail: (TOMLEntry, String, String) -> Void) -> [TOMLTable] {
        guard case .array(let items) = entry.value else {
            fail(entry, key, "expected an array of tables ([[\(key)]]), found a \(entry.value.typeName)")
            return []
        }
        var out: [TOMLTable] = []
        for item in items {
            if case .table(let t) = item { out.append(t) } else { fail(entry, key, "expected [[\(key)]] tables") }
        }
        return out
    }
}
