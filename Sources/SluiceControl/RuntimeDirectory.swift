#if canImport(Glibc)
import Glibc
#endif

/// Where the daemon's sockets live: `$XDG_RUNTIME_DIR/sluice/`; when XDG_RUNTIME_DIR is unset,
/// `/run/user/UID/sluice/` if that base exists, else `/tmp/sluice-UID/`. Always mode 0700.
public enum RuntimeDirectory {
    /// The directory path (not created).
    public static func path(environment: [String: String]) -> String {
        if let xdg = environment["XDG_RUNTIME_DIR"], !xdg.isEmpty { return xdg + "/sluice" }
        let uid = getuid()
        var st = stat()
        if stat("/run/user/\(uid)", &st) == 0 { return "/run/user/\(uid)/sluice" }
        return "/tmp/sluice-\(uid)"
    }

    /// Where pulse clients look for the server: `$XDG_RUNTIME_DIR/pulse/native` (the fallbacks
    /// mirror `path`: /run/user/UID/pulse/native, else /tmp/sluice-UID/pulse/native).
    public static func pulseSocket(environment: [String: String]) -> String {
        if let xdg = environment["XDG_RUNTIME_DIR"], !xdg.isEmpty { return xdg + "/pulse/native" }
        let uid = getuid()
        var st = stat()
        if stat("/run/user/\(uid)", &st) == 0 { return "/run/user/\(uid)/pulse/native" }
        return "/tmp/sluice-\(uid)/pulse/native"
    }

    /// The control socket path, honouring `SLUICE_SOCKET` when set.
    public static func controlSocket(environment: [String: String]) -> String {
        if let s = environment["SLUICE_SOCKET"], !s.isEmpty { return s }
        return path(environment: environment) + "/control"
    }

    /// The process environment as a dictionary.
    public static func processEnvironment() -> [String: String] {
        var env: [String: String] = [:]
        var p = environ
        while let entry = p.pointee {
            let s = String(cString: entry)
            if let eq = s.firstIndex(of: "=") { env[String(s[..<eq])] = String(s[s.index(after: eq)...]) }
            p += 1
        }
        return env
    }
}
