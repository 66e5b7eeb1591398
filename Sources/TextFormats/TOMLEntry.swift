/// One key of a TOML table with its value and where both were written. [any]
public struct TOMLEntry: Equatable, Sendable {
    /// The key within its table (one segment of a dotted key, unquoted).
    public let key: String
    /// The value stored under the key.
    public let value: TOMLValue
    /// Where the key was written: in `k = v`, in a dotted key, or in the header that created the table.
    public let keyPosition: SourcePosition
    /// Where the value starts; for tables made by headers, the header's `[`.
    public let valuePosition: SourcePosition

    /// Creates an entry; the parser makes these, tests and tools may too.
    public init(key: String, value: TOMLValue, keyPosition: SourcePosition, valuePosition: SourcePosition) {
        self.key = key
        self.value = value
        self.keyPosition = keyPosition
        self.valuePosition = valuePosition
    }
}
