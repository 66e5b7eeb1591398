/// Entry point of the TOML 1.0 reader (without dates and times). [any]
public enum TOML {
    /// Parses `text` and returns the root table with every error found.
    ///
    /// After an error the parser skips to the next line and goes on, so one run reports every broken line
    /// (what `--check` prints). Lines with errors contribute nothing to the table. Never traps on any input.
    ///
    /// ```swift
    /// let (table, errors) = TOML.parse("[graph]\nrate = 48000\n")
    /// // table["graph"]?.value, errors.isEmpty == true
    /// ```
    public static func parse(_ text: String) -> (table: TOMLTable, errors: [TOMLError]) {
        var parser = TOMLParser(text)
        return parser.parseDocument()
    }
}
