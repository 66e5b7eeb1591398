import Glibc
import SluiceSystem

/// Small file helpers for config and runtime files (the daemon keeps Foundation out).
enum FileIO {
    /// Reads a whole file as UTF-8.
    static func readText(_ path: String) throws(Errno) -> String {
        let fd = try retryingOnInterrupt { open(path, O_RDONLY | O_CLOEXEC) }
        defer { close(fd) }
        var bytes: [UInt8] = []
        var chunk = [UInt8](repeating: 0, count: 65536)
        while true {
            let n = try retryingOnInterrupt { chunk.withUnsafeMutableBytes { read(fd, $0.baseAddress, 65536) } }
            if n == 0 { break }
            bytes.append(contentsOf: chunk[0..<n])
        }
        return String(decoding: bytes, as: UTF8.self)
    }

    static func exists(_ path: String) -> Bool { access(path, F_OK) == 0 }

    /// Creates `path` (and missing parents) with mode 0700, or checks that an existing one is a
    /// directory owned by us and not accessible to others; tightens its mode if needed.
    static func makePrivateDirectory(_ path: String) throws(Errno) {
        var st = stat()
        if stat(path, &st) != 0 {
            let parent = path.split(separator: "/", omittingEmptySubsequences: false).dropLast().joined(separator: "/")
            if !parent.isEmpty && !exists(parent) { try makePrivateDirectory(parent) }
            _ = try retryingOnInterrupt { mkdir(path, 0o700) }
            return
        }
        guard (st.st_mode & S_IFMT) == S_IFDIR else { throw Errno(rawValue: ENOTDIR) }
        guard st.st_uid == getuid() else { throw Errno(rawValue: EACCES) }
        if st.st_mode & 0o077 != 0 { chmod(path, 0o700) }
    }
}
