import Glibc
import SluiceSystem

/// The 256-byte auth cookie at `~/.config/pulse/cookie` (mode 0600), created when missing, as
/// PulseAudio does. Written atomically: a temp file in the same directory, fsynced, renamed.
public enum PulseCookie {
    public static let length = 256

    /// The cookie path for `environment` ($XDG_CONFIG_HOME/pulse/cookie or ~/.config/pulse/cookie).
    public static func path(environment: [String: String]) -> String {
        let base = environment["XDG_CONFIG_HOME"].flatMap { $0.isEmpty ? nil : $0 } ?? ((environment["HOME"] ?? "/root") + "/.config")
        return base + "/pulse/cookie"
    }

    /// Reads the cookie, creating it (and its directory, mode 0700) if absent.
    public static func loadOrCreate(at path: String) throws(Errno) -> [UInt8] {
        if let existing = try? read(path), existing.count == length { return existing }
        let dir = String(path[..<(path.lastIndex(of: "/") ?? path.startIndex)])
        try makeDirectories(dir)
        let bytes = try read("/dev/urandom", count: length)
        guard bytes.count == length else { throw Errno(rawValue: EIO) }
        let temp = path + ".tmp-\(getpid())"
        let fd = try retryingOnInterrupt { open(temp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0o600) }
        defer { close(fd) }
        let written = bytes.withUnsafeBytes { write(fd, $0.baseAddress, length) }
        guard written == length, fsync(fd) == 0, rename(temp, path) == 0 else {
            let e = Errno.current
            unlink(temp)
            throw e
        }
        return bytes
    }

    static func read(_ path: String, count: Int = length + 1) throws(Errno) -> [UInt8] {
        let fd = try retryingOnInterrupt { open(path, O_RDONLY | O_CLOEXEC) }
        defer { close(fd) }
        var bytes = [UInt8](repeating: 0, count: count)
        let n = bytes.withUnsafeMutableBytes { Glibc.read(fd, $0.baseAddress, count) }
        guard n >= 0 else { throw Errno.current }
        return Array(bytes[0..<n])
    }

    static func makeDirectories(_ path: String) throws(Errno) {
        var current = ""
        for part in path.split(separator: "/") {
            current += "/" + part
            if mkdir(current, 0o700) != 0 && errno != EEXIST { throw Errno.current }
        }
    }
}
