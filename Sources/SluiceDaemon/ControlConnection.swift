import SluiceControl
import SluiceSystem

/// One client of the control socket: line framing and buffered output. [control]
final class ControlConnection {
    let socket: UnixSocket
    let id: UInt64
    private var input: [UInt8] = []
    private(set) var pendingOutput: [UInt8] = []

    init(socket: UnixSocket, id: UInt64) {
        self.socket = socket
        self.id = id
    }

    enum ReadOutcome { case lines([[UInt8]]), closed, tooLong }

    /// Reads what is available and splits complete lines.
    func readLines() -> ReadOutcome {
        var lines: [[UInt8]] = []
        while true {
            let chunk: [UInt8]?
            do { chunk = try socket.read(upTo: 65536) } catch { return .closed }
            guard let chunk else { break }            // EAGAIN: all read
            if chunk.isEmpty { return lines.isEmpty ? .closed : .lines(lines) }
            input.append(contentsOf: chunk)
            while let nl = input.firstIndex(of: 10) {
                lines.append(Array(input[..<nl]))
                input.removeSubrange(...nl)
            }
            if input.count > ControlProtocol.maxLineBytes { return .tooLong }
        }
        return .lines(lines)
    }

    /// Queues `bytes` and writes what the socket takes; true when everything is written.
    func send(_ bytes: [UInt8]) -> Bool {
        pendingOutput.append(contentsOf: bytes)
        return flush()
    }

    /// Writes queued output; true when the queue is empty. A failed socket drops the queue.
    func flush() -> Bool {
        while !pendingOutput.isEmpty {
            let n: Int
            do { n = try pendingOutput.withUnsafeBytes { try socket.write($0) } } catch {
                pendingOutput.removeAll()
                return true
            }
            if n == 0 { return false }
            pendingOutput.removeFirst(n)
        }
        return true
    }
}
