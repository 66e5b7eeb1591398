import Glibc
import SluiceControl
import SluiceSystem
import TextFormats

/// A blocking client of the daemon's control socket.
final class ControlClient {
    let socketPath: String
    private let socket: UnixSocket
    private var nextID: Int64 = 1
    private var buffer: [UInt8] = []

    init(environment: [String: String]) throws(CLIError) {
        socketPath = RuntimeDirectory.controlSocket(environment: environment)
        do { socket = try UnixSocket.connect(path: socketPath) } catch {
            throw .noDaemon(path: socketPath, errno: error)
        }
    }

    /// Sends one request and waits for its response; a daemon-side error becomes `CLIError.daemon`.
    func call(_ command: String, _ args: JSONObject = JSONObject()) throws(CLIError) -> JSONValue {
        let request = ControlRequest(id: nextID, command: command, arguments: args)
        nextID += 1
        do { try socket.writeAll(Array((request.json.serialized() + "\n").utf8)) } catch {
            throw .connectionLost(error.description)
        }
        while true {
            if let nl = buffer.firstIndex(of: 10) {
                let line = Array(buffer[..<nl])
                buffer.removeSubrange(...nl)
                switch ControlResponse.decode(line) {
                case .success(_, let result)?: return result
                case .failure(_, let message)?: throw .daemon(message)
                case nil: throw .connectionLost("the daemon sent a malformed response")
                }
            }
            var chunk = [UInt8](repeating: 0, count: 65536)
            let n = chunk.withUnsafeMutableBytes { read(socket.fd, $0.baseAddress, 65536) }
            if n < 0 && errno == EINTR { continue }
            guard n > 0 else { throw .connectionLost("the daemon closed the connection") }
            buffer.append(contentsOf: chunk[0..<n])
        }
    }
}

/// What the CLI reports; each is one line on stderr and exit status 1.
enum CLIError: Error, CustomStringConvertible {
    case noDaemon(path: String, errno: Errno)
    case daemon(String)
    case connectionLost(String)
    case usage(String)

    var description: String {
        switch self {
        case let .noDaemon(path, errno):
            "no sluiced is running (cannot connect to \(path): \(errno)); start one with `sluiced` or `make run`"
        case .daemon(let m): m
        case .connectionLost(let m): "lost the connection to sluiced: \(m)"
        case .usage(let m): m
        }
    }
}
