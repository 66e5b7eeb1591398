/// A place in a text file, counted from 1; columns count Unicode scalars. [any]
public struct SourcePosition: Equatable, Hashable, Sendable, CustomStringConvertible {
    /// The 1-based line number.
    public let line: Int
    /// The 1-based column, in Unicode scalars from the start of the line.
    public let column: Int

    /// Creates a position from a 1-based line and column.
    public init(line: Int, column: Int) {
        self.line = line
        self.column = column
    }

    /// The position written as `line:column`, the form editors and compilers use.
    public var description: String { "\(line):\(column)" }
}
