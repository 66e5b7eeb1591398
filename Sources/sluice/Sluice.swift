import ArgumentParser
import Glibc
import SluiceControl
import SluiceSystem
import TextFormats

@main
struct Sluice: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "sluice",
        abstract: "Inspect and change the graph of a running sluiced.",
        discussion: "Talks to the daemon's control socket ($XDG_RUNTIME_DIR/sluice/control, or $SLUICE_SOCKET).",
        subcommands: [List.self, Dump.self, Types.self, Add.self, Remove.self, LinkPorts.self, Unlink.self, Set.self, Top.self])
}

/// Runs `body` with a connected client, turning every error into one line and exit status 1.
func withDaemon(_ body: (ControlClient) throws(CLIError) -> Void) throws {
    do {
        let client = try ControlClient(environment: RuntimeDirectory.processEnvironment())
        try body(client)
    } catch {
        writeToStandardError("sluice: \(error)\n")
        throw ExitCode(1)
    }
}

struct List: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "ls", abstract: "List nodes, their ports, and links.")
    func run() throws {
        try withDaemon { c throws(CLIError) in
            let state = try c.call("ls")
            var rows: [[String]] = []
            for n in state["nodes"]?.arrayValue ?? [] {
                let ins = (n["inputs"]?.arrayValue ?? []).compactMap { $0["name"]?.stringValue }
                let outs = (n["outputs"]?.arrayValue ?? []).compactMap { $0["name"]?.stringValue }
                let params = (n["params"]?.objectValue.map { o in o.map { "\($0.0)=\($0.1.stringValue ?? "")" } } ?? []).joined(separator: " ")
                rows.append([n["name"]?.stringValue ?? "?", n["type"]?.stringValue ?? "?",
                             ins.isEmpty ? "-" : ins.joined(separator: ","), outs.isEmpty ? "-" : outs.joined(separator: ","), params])
            }
            print(Table.render(["NODE", "TYPE", "INPUTS", "OUTPUTS", "PARAMS"], rows))
            let links = state["links"]?.arrayValue ?? []
            print("")
            if links.isEmpty {
                print("no links")
            } else {
                print(Table.render(["FROM", "TO"], links.map { [$0["from"]?.stringValue ?? "?", $0["to"]?.stringValue ?? "?"] }))
            }
            let d = state["driver"], rt = state["realtime"], g = state["graph"]
            print("")
            print("driver \(d?["name"]?.stringValue ?? "?"), \(g?["rate"]?.intValue ?? 0) Hz, quantum \(g?["quantum"]?.intValue ?? 0), \(rt?["policy"]?.stringValue ?? "?")")
        }
    }
}

struct Dump: ParsableCommand {
    static let configuration = CommandConfiguration(abstract: "Print the whole daemon state (pools, seals, driver, timing).")
    @Flag(name: .long, help: "Print JSON (the schema is in Docs/control-protocol.md).") var json = false
    func run() throws {
        try withDaemon { c throws(CLIError) in
            let state = try c.call("dump")
            print(state.serialized(pretty: true))
        }
    }
}

struct Types: ParsableCommand {
    static let configuration = CommandConfiguration(abstract: "List the node types `sluice add` accepts.")
    func run() throws {
        try withDaemon { c throws(CLIError) in
            let types = try c.call("types").arrayValue ?? []
            print(Table.render(["TYPE", "DESCRIPTION"], types.map { [$0["type"]?.stringValue ?? "", $0["help"]?.stringValue ?? ""] }))
        }
    }
}

struct Add: ParsableCommand {
    static let configuration = CommandConfiguration(abstract: "Add a node: sluice add TYPE NAME [PARAM=VALUE ...]")
    @Argument(help: "Node type (see `sluice types`).") var type: String
    @Argument(help: "A unique node name.") var name: String
    @Argument(help: "Parameters as PARAM=VALUE.") var params: [String] = []
    func run() throws {
        var object = JSONObject()
        for p in params {
            guard let eq = p.firstIndex(of: "="), eq != p.startIndex else {
                writeToStandardError("sluice: '\(p)' is not PARAM=VALUE\n")
                throw ExitCode(1)
            }
            object[String(p[..<eq])] = .string(String(p[p.index(after: eq)...]))
        }
        let args = JSONObject([("type", .string(type)), ("name", .string(name)), ("params", .object(object))])
        try withDaemon { c throws(CLIError) in _ = try c.call("add", args) }
    }
}

struct Remove: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "rm", abstract: "Remove a node and its links.")
    @Argument var name: String
    func run() throws {
        try withDaemon { c throws(CLIError) in _ = try c.call("rm", JSONObject([("name", .string(name))])) }
    }
}

struct LinkPorts: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "link",
        abstract: "Link NODE:PORT to NODE:PORT, or NODE to NODE joining matching ports.")
    @Argument var from: String
    @Argument var to: String
    func run() throws {
        try withDaemon { c throws(CLIError) in _ = try c.call("link", JSONObject([("from", .string(from)), ("to", .string(to))])) }
    }
}

struct Unlink: ParsableCommand {
    static let configuration = CommandConfiguration(abstract: "Remove a link (NODE:PORT NODE:PORT), or every link between two nodes.")
    @Argument var from: String
    @Argument var to: String
    func run() throws {
        try withDaemon { c throws(CLIError) in _ = try c.call("unlink", JSONObject([("from", .string(from)), ("to", .string(to))])) }
    }
}

struct Set: ParsableCommand {
    static let configuration = CommandConfiguration(abstract: "Set a node parameter: sluice set NODE PARAM VALUE")
    @Argument var node: String
    @Argument var param: String
    @Argument var value: String
    func run() throws {
        try withDaemon { c throws(CLIError) in
            _ = try c.call("set", JSONObject([("node", .string(node)), ("param", .string(param)), ("value", .string(value))]))
        }
    }
}

struct Top: ParsableCommand {
    static let configuration = CommandConfiguration(abstract: "Live per-node processing time and xruns.")
    @Flag(help: "Print one frame and exit.") var once = false
    @Option(help: "Seconds between frames.") var interval: Double = 1
    func run() throws {
        try withDaemon { c throws(CLIError) in
            var previous: [String: (Int64, Int64)] = [:]
            while true {
                let state = try c.call("dump")
                let frame = Top.render(state, previous: &previous)
                if once {
                    print(frame)
                    return
                }
                print("\u{1B}[H\u{1B}[2J" + frame)
                fflush(nil)
                usleep(useconds_t(max(interval, 0.1) * 1_000_000))
            }
        }
    }

    static func render(_ s: JSONValue, previous: inout [String: (Int64, Int64)]) -> String {
        let g = s["graph"], t = s["timing"], d = s["driver"], rt = s["realtime"]
        let period = g?["period_ns"]?.intValue ?? 1
        var out = "sluiced pid \(s["daemon"]?["pid"]?.intValue ?? 0)  driver \(d?["name"]?.stringValue ?? "?")  \(g?["rate"]?.intValue ?? 0) Hz  quantum \(g?["quantum"]?.intValue ?? 0) (\(Table.micros(period)) µs)  \(rt?["policy"]?.stringValue ?? "?")\n"
        let lat = t?["lateness_ns"]
        out += "cycles \(t?["cycles"]?.intValue ?? 0)  xruns \(t?["xruns"]?.intValue ?? 0)  wake-up lateness p50 \(Table.micros(lat?["p50"]?.intValue)) µs  p99 \(Table.micros(lat?["p99"]?.intValue)) µs  max \(Table.micros(lat?["max"]?.intValue)) µs  cycle \(Table.micros(t?["last_processing_ns"]?.intValue)) µs\n\n"
        var rows: [[String]] = []
        for n in s["nodes"]?.arrayValue ?? [] {
            let name = n["name"]?.stringValue ?? "?"
            let st = n["stats"]
            let cycles = st?["cycles"]?.intValue ?? 0, total = (st?["mean_ns"]?.intValue ?? 0) * cycles
            // Mean over the last interval when we have a previous frame, else over the lifetime.
            var recent = st?["mean_ns"]?.intValue ?? 0
            if let (pc, pt) = previous[name], cycles > pc { recent = (total - pt) / (cycles - pc) }
            previous[name] = (cycles, total)
            let load = period > 0 ? Double(recent) / Double(period) * 100 : 0
            rows.append([name, n["type"]?.stringValue ?? "?", Table.micros(st?["last_ns"]?.intValue), Table.micros(recent),
                         Table.micros(st?["max_ns"]?.intValue), String(format2(load)), String(st?["overruns"]?.intValue ?? 0), String(cycles)])
        }
        out += Table.render(["NODE", "TYPE", "LAST µs", "MEAN µs", "MAX µs", "%PERIOD", "OVERRUNS", "CYCLES"], rows)
        return out
    }

    static func format2(_ v: Double) -> String {
        let hundredths = Int((v * 100).rounded())
        let frac = hundredths % 100
        return "\(hundredths / 100)." + (frac < 10 ? "0" : "") + "\(frac)"
    }
}
