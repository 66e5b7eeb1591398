/// Why a JSON text was rejected, and at which byte of its UTF-8 encoding. [any]
public struct JSONError: Error, Equatable, Sendable, CustomStringConvertible {
    /// The 0-based UTF-8 byte offset where the problem was found.
    public let offset: Int
    /// What is wrong, in one sentence without the offset.
    public let message: String

    /// Creates an error at byte `offset`.
    public init(offset: Int, message: String) {
        self.offset = offset
        self.message = message
    }

    /// `byte N: message`.
    public var description: String { "byte \(offset): \(message)" }
}
