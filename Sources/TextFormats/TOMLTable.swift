/// A TOML table: its entries in the order the file wrote them, and where it was opened. [any]
public struct TOMLTable: Equatable, Sendable {
    /// The header's `[` (or `[[`), 1:1 for the root table, the `{` of an inline table, or the first key of a dotted-key table.
    public var position: SourcePosition
    /// The entries in file order; keys are unique.
    public var entries: [TOMLEntry]

    /// Creates a table; by default the empty root table at 1:1.
    public init(position: SourcePosition = SourcePosition(line: 1, column: 1), entries: [TOMLEntry] = []) {
        self.position = position
        self.entries = entries
    }

    /// The entry stored under `key`, or nil. Linear: config tables are small.
    public subscript(key: String) -> TOMLEntry? {
        entries.first { $0.key == key }
    }

    /// The keys in file order.
    public var keys: [String] { entries.map(\.key) }
}
