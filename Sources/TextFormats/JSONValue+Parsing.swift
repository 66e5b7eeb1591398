extension JSONValue {
    /// The deepest nesting `parse` will follow whatever `maxDepth` says, so recursion stays within a thread's stack.
    public static let depthCeiling = 512

    /// Parses one JSON value (RFC 8259) from `text`. [any]
    ///
    /// Throws `JSONError` with the UTF-8 byte offset for: trailing characters, leading zeros, control
    /// characters in strings, bad escapes or unpaired surrogates, invalid UTF-8, duplicate object keys,
    /// numbers out of range, and arrays/objects nested deeper than `maxDepth` (capped at `depthCeiling`).
    public static func parse(_ text: String, maxDepth: Int = 64) throws(JSONError) -> JSONValue {
        try parse(Array(text.utf8), maxDepth: maxDepth)
    }

    /// Parses one JSON value from UTF-8 bytes; see `parse(_:maxDepth:)` for the errors. [any]
    public static func parse(_ bytes: [UInt8], maxDepth: Int = 64) throws(JSONError) -> JSONValue {
        var parser = JSONParser(bytes: bytes, maxDepth: min(maxDepth, depthCeiling))
        return try parser.parseDocument()
    }
}
