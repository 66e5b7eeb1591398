import TextFormats

/// Text rendering helpers for tables.
enum Table {
    /// Left-aligned columns separated by two spaces.
    static func render(_ header: [String], _ rows: [[String]]) -> String {
        var widths = header.map(\.count)
        for r in rows { for (i, c) in r.enumerated() where i < widths.count { widths[i] = max(widths[i], c.count) } }
        func line(_ cells: [String]) -> String {
            var s = ""
            for (i, c) in cells.enumerated() {
                s += c
                if i < cells.count - 1 { s += String(repeating: " ", count: widths[i] - c.count + 2) }
            }
            return s
        }
        return ([line(header)] + rows.map(line)).joined(separator: "\n")
    }

    static func micros(_ nanos: Int64?) -> String {
        guard let nanos else { return "-" }
        let tenths = (nanos + 50) / 100
        return "\(tenths / 10).\(tenths % 10)"
    }
}

extension JSONValue {
    var strings: [String] { arrayValue?.compactMap(\.stringValue) ?? [] }
}
