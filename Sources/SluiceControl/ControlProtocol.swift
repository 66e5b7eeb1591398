import TextFormats

/// The control socket protocol, version 1 (Docs/control-protocol.md).
///
/// One JSON object per line in each direction. A request names a command and carries
/// arguments; the response carries the same id and either a result or one error line.
public enum ControlProtocol {
    public static let version: Int64 = 1
    /// Longest line either side accepts; a longer one is an error and closes the connection.
    public static let maxLineBytes = 1 << 20
}

/// A request from a client.
public struct ControlRequest: Sendable, Equatable {
    public var id: Int64
    public var command: String
    public var arguments: JSONObject

    public init(id: Int64, command: String, arguments: JSONObject = JSONObject()) {
        self.id = id
        self.command = command
        self.arguments = arguments
    }

    public var json: JSONValue {
        .object(JSONObject([("version", .integer(ControlProtocol.version)), ("id", .integer(id)),
                            ("command", .string(command)), ("args", .object(arguments))]))
    }

    /// Decodes one request line; the error text is sent back to the client as is.
    public static func decode(_ line: [UInt8]) -> Result<ControlRequest, ControlDecodeError> {
        let value: JSONValue
        do { value = try JSONValue.parse(line) } catch {
            return .failure(ControlDecodeError(id: nil, message: "malformed request: \(error)"))
        }
        guard let object = value.objectValue else {
            return .failure(ControlDecodeError(id: nil, message: "malformed request: expected a JSON object"))
        }
        let id = object["id"]?.intValue
        guard let version = object["version"]?.intValue else {
            return .failure(ControlDecodeError(id: id, message: "malformed request: missing \"version\""))
        }
        guard version == ControlProtocol.version else {
            return .failure(ControlDecodeError(id: id, message: "protocol version \(version) is not supported; this daemon speaks version \(ControlProtocol.version): use a matching sluice"))
        }
        guard let id else { return .failure(ControlDecodeError(id: nil, message: "malformed request: missing \"id\"")) }
        guard let command = object["command"]?.stringValue else {
            return .failure(ControlDecodeError(id: id, message: "malformed request: missing \"command\""))
        }
        let args = object["args"]?.objectValue ?? JSONObject()
        return .success(ControlRequest(id: id, command: command, arguments: args))
    }
}

/// Why a request line could not be decoded.
public struct ControlDecodeError: Error, Sendable, Equatable {
    public let id: Int64?
    public let message: String
}

/// A response from the daemon.
public enum ControlResponse: Sendable, Equatable {
    case success(id: Int64, result: JSONValue)
    case failure(id: Int64?, message: String)

    public var json: JSONValue {
        switch self {
        case let .success(id, result):
            .object(JSONObject([("version", .integer(ControlProtocol.version)), ("id", .integer(id)), ("ok", .bool(true)), ("result", result)]))
        case let .failure(id, message):
            .object(JSONObject([("version", .integer(ControlProtocol.version)), ("id", id.map { .integer($0) } ?? .null),
                                ("ok", .bool(false)), ("error", .string(message))]))
        }
    }

    /// One line, newline-terminated.
    public var line: [UInt8] { Array((json.serialized() + "\n").utf8) }

    public static func decode(_ line: [UInt8]) -> ControlResponse? {
        guard let object = (try? JSONValue.parse(line))?.objectValue, let ok = object["ok"]?.boolValue else { return nil }
        let id = object["id"]?.intValue
        if ok, let id { return .success(id: id, result: object["result"] ?? .null) }
        return .failure(id: id, message: object["error"]?.stringValue ?? "unknown error")
    }
}
