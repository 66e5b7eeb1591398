import CSndfile
import Foundation
import Glibc
import TextFormats

/// The directory holding the built `sluiced` and `sluice` (next to the test bundle).
let productsDirectory: URL = {
    let exe = URL(fileURLWithPath: CommandLine.arguments[0]).resolvingSymlinksInPath()
    var dir = exe.deletingLastPathComponent()
    while dir.path != "/" {
        if FileManager.default.isExecutableFile(atPath: dir.appendingPathComponent("sluiced").path) { return dir }
        dir = dir.deletingLastPathComponent()
    }
    return URL(fileURLWithPath: FileManager.default.currentDirectoryPath).appendingPathComponent(".build/debug")
}()

/// Output of a finished command.
struct CommandResult {
    let status: Int32
    let stdout: String
    let stderr: String
}

/// Runs `executable` with `arguments` to completion (with a timeout), capturing its output.
func runCommand(_ executable: String, _ arguments: [String], environment: [String: String], timeout: TimeInterval = 30) throws -> CommandResult {
    let p = Process()
    p.executableURL = URL(fileURLWithPath: executable)
    p.arguments = arguments
    p.environment = environment
    let out = Pipe(), err = Pipe()
    p.standardOutput = out
    p.standardError = err
    try p.run()
    // Read both pipes concurrently so a chatty child never blocks on a full pipe.
    let outData = LockedData(), errData = LockedData()
    let g = DispatchGroup()
    for (pipe, sink) in [(out, outData), (err, errData)] {
        g.enter()
        DispatchQueue.global().async { sink.set(pipe.fileHandleForReading.readDataToEndOfFile()); g.leave() }
    }
    let deadline = Date().addingTimeInterval(timeout)
    while p.isRunning && Date() < deadline { usleep(2000) }
    if p.isRunning { p.terminate() }
    p.waitUntilExit()
    g.wait()
    return CommandResult(status: p.terminationStatus, stdout: String(decoding: outData.get(), as: UTF8.self),
                         stderr: String(decoding: errData.get(), as: UTF8.self))
}

final class LockedData: @unchecked Sendable {
    private let lock = NSLock()
    private var data = Data()
    func set(_ d: Data) { lock.lock(); data = d; lock.unlock() }
    func get() -> Data { lock.lock(); defer { lock.unlock() }; return data }
}

/// A private sluiced: its own runtime and config directories, started and stopped by the test.
final class DaemonHarness {
    let root: URL
    let environment: [String: String]
    let process = Process()
    let stderrPipe = Pipe()
    private let stderrData = LockedData()
    private let readerDone = DispatchSemaphore(value: 0)

    var socketPath: String { root.appendingPathComponent("run/sluice/control").path }

    /// Starts sluiced with `config` (TOML text; nil: no config file, the built-in default).
    init(config: String?, extraArguments: [String] = [], extraEnvironment: [String: String] = [:]) throws {
        root = URL(fileURLWithPath: NSTemporaryDirectory()).appendingPathComponent("sluice-test-\(UUID().uuidString.prefix(8))")
        try FileManager.default.createDirectory(at: root.appendingPathComponent("run"), withIntermediateDirectories: true)
        try FileManager.default.createDirectory(at: root.appendingPathComponent("config"), withIntermediateDirectories: true)
        chmod(root.appendingPathComponent("run").path, 0o700)
        var env = ProcessInfo.processInfo.environment
        env["XDG_RUNTIME_DIR"] = root.appendingPathComponent("run").path
        env["XDG_CONFIG_HOME"] = root.appendingPathComponent("config").path
        env["HOME"] = root.path
        env["SWIFT_BACKTRACE"] = "enable=no"
        env.removeValue(forKey: "SLUICE_SOCKET")
        for (k, v) in extraEnvironment { env[k] = v }
        environment = env
        var args = extraArguments
        if let config {
            let path = root.appendingPathComponent("sluiced.toml")
            try config.write(to: path, atomically: true, encoding: .utf8)
            args = ["--config", path.path] + args
        }
        process.executableURL = productsDirectory.appendingPathComponent("sluiced")
        process.arguments = args
        process.environment = env
        process.standardError = stderrPipe
        process.standardOutput = FileHandle.nullDevice
        try process.run()
        let sink = stderrData, pipe = stderrPipe, done = readerDone
        DispatchQueue.global().async {
            sink.set(pipe.fileHandleForReading.readDataToEndOfFile())
            done.signal()
        }
        let deadline = Date().addingTimeInterval(20)
        while Date() < deadline {
            if !process.isRunning { break }
            if (try? sluice("ls", check: false))?.status == 0 { return }
            usleep(10_000)
        }
        throw HarnessError.notReady(stop())
    }

    /// Runs the CLI against this daemon.
    @discardableResult
    func sluice(_ args: String..., check: Bool = true) throws -> CommandResult {
        try sluice(args, check: check)
    }

    @discardableResult
    func sluice(_ args: [String], check: Bool = true) throws -> CommandResult {
        let r = try runCommand(productsDirectory.appendingPathComponent("sluice").path, args, environment: environment)
        if check && r.status != 0 { throw HarnessError.commandFailed(args, r.stderr) }
        return r
    }

    /// The daemon state as JSON.
    func dump() throws -> JSONValue {
        try JSONValue.parse(try sluice("dump", "--json").stdout)
    }

    /// The node named `name` in a dump.
    func node(_ name: String) throws -> JSONValue? {
        try dump()["nodes"]?.arrayValue?.first { $0["name"]?.stringValue == name }
    }

    /// Polls until `condition` holds (or fails after `timeout`).
    func waitUntil(timeout: TimeInterval = 20, _ condition: () throws -> Bool) throws {
        let deadline = Date().addingTimeInterval(timeout)
        while Date() < deadline {
            if try condition() { return }
            usleep(20_000)
        }
        throw HarnessError.timeout
    }

    var pid: Int32 { process.processIdentifier }

    /// Sends SIGTERM, waits, and returns the daemon's stderr.
    @discardableResult
    func stop() -> String {
        if process.isRunning {
            kill(process.processIdentifier, SIGTERM)
            let deadline = Date().addingTimeInterval(10)
            while process.isRunning && Date() < deadline { usleep(5000) }
            if process.isRunning { kill(process.processIdentifier, SIGKILL) }
        }
        process.waitUntilExit()
        readerDone.wait()
        readerDone.signal()
        return String(decoding: stderrData.get(), as: UTF8.self)
    }

    deinit {
        if process.isRunning { kill(process.processIdentifier, SIGKILL) }
        try? FileManager.default.removeItem(at: root)
    }
}

enum HarnessError: Error, CustomStringConvertible {
    case notReady(String)
    case commandFailed([String], String)
    case timeout
    var description: String {
        switch self {
        case .notReady(let log): "sluiced did not become ready; its log:\n\(log)"
        case let .commandFailed(args, err): "sluice \(args.joined(separator: " ")) failed: \(err)"
        case .timeout: "timed out"
        }
    }
}

/// Reads a sound file into interleaved floats (libsndfile).
func readSoundFile(_ path: String) -> (samples: [Float], channels: Int, rate: Int)? {
    var info = SF_INFO()
    guard let f = sf_open(path, Int32(SFM_READ), &info) else { return nil }
    defer { sf_close(f) }
    var samples = [Float](repeating: 0, count: Int(info.frames) * Int(info.channels))
    let n = samples.withUnsafeMutableBufferPointer { sf_readf_float(f, $0.baseAddress, info.frames) }
    return (Array(samples.prefix(Int(n) * Int(info.channels))), Int(info.channels), Int(info.samplerate))
}

/// Amplitude and phase of the `freq` component of `x` (least squares fit of a·sin + b·cos).
func fitSine(_ x: ArraySlice<Float>, freq: Double, rate: Double, startIndex: Int) -> (amplitude: Double, phase: Double) {
    var ss = 0.0, sc = 0.0, cc = 0.0, xs = 0.0, xc = 0.0
    for (k, v) in x.enumerated() {
        let t = 2 * Double.pi * freq * Double(startIndex + k) / rate
        let s = sin(t), c = cos(t)
        ss += s * s; sc += s * c; cc += c * c; xs += Double(v) * s; xc += Double(v) * c
    }
    let det = ss * cc - sc * sc
    let a = (xs * cc - xc * sc) / det, b = (xc * ss - xs * sc) / det
    return ((a * a + b * b).squareRoot(), atan2(b, a))
}
