/// A problem in a TOML document: where it is and what is wrong. [any]
public struct TOMLError: Error, Equatable, Sendable, CustomStringConvertible {
    /// Where the problem starts (the offending key, value, header or character).
    public let position: SourcePosition
    /// What is wrong and how to fix it, in one sentence without the position.
    public let message: String

    /// Creates an error at `position`.
    public init(position: SourcePosition, message: String) {
        self.position = position
        self.message = message
    }

    /// `line:column: message`; callers prefix the file name.
    public var description: String { "\(position): \(message)" }
}
