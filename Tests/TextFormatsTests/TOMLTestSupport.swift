import TextFormats

/// Shorthand for positions in expectations.
func at(_ line: Int, _ column: Int) -> SourcePosition {
    SourcePosition(line: line, column: column)
}

/// Parses `v = <valueText>` and returns the value of `v`, or nil if anything went wrong.
func parseSingleValue(_ valueText: String) -> TOMLValue? {
    let (table, errors) = TOML.parse("v = \(valueText)\n")
    guard errors.isEmpty else { return nil }
    return table["v"]?.value
}

extension TOMLValue {
    var tableValue: TOMLTable? {
        if case .table(let table) = self { return table }
        return nil
    }

    var arrayValue: [TOMLValue]? {
        if case .array(let array) = self { return array }
        return nil
    }
}

extension TOMLTable {
    /// Follows a key path through nested tables.
    func value(at path: String...) -> TOMLValue? {
        var table = self
        for key in path.dropLast() {
            guard let next = table[key]?.value.tableValue else { return nil }
            table = next
        }
        return path.last.flatMap { table[$0]?.value }
    }
}
