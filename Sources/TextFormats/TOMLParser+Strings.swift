extension TOMLParser {
    /// `"..."` on one line, with escapes.
    mutating func parseBasicString() throws(TOMLError) -> String {
        let open = position
        advance()
        var result = ""
        while true {
            guard let scalar = peek, !isAtNewline else {
                throw error("unterminated string; close it with '\"' on the same line, or use \"\"\" for several lines", at: open)
            }
            switch scalar {
            case "\"":
                advance()
                return result
            case "\\":
                try parseEscape(into: &result)
            default:
                try checkNotControl(scalar)
                result.unicodeScalars.append(scalar)
                advance()
            }
        }
    }

    /// `'...'` on one line, taken verbatim.
    mutating func parseLiteralString() throws(TOMLError) -> String {
        let open = position
        advance()
        var result = ""
        while true {
            guard let scalar = peek, !isAtNewline else {
                throw error("unterminated string; close it with \"'\" on the same line, or use ''' for several lines", at: open)
            }
            if scalar == "'" {
                advance()
                return result
            }
            try checkNotControl(scalar)
            result.unicodeScalars.append(scalar)
            advance()
        }
    }

    /// `"""..."""`: escapes, newlines kept (as `\n`), a newline right after the opening quotes dropped,
    /// and a backslash at the end of a line swallowing the line break and the next line's indentation.
    mutating func parseMultilineBasicString() throws(TOMLError) -> String {
        let open = position
        advance(by: 3)
        skipNewlineAfterOpeningDelimiter()
        var result = ""
        while true {
            guard let scalar = peek else {
                throw error("unterminated multi-line string; close it with \"\"\"", at: open)
            }
            switch scalar {
            case "\"":
                if try consumeQuoteRun("\"", into: &result) { return result }
            case "\\":
                if isLineEndingBackslash {
                    advance()
                    while peek == " " || peek == "\t" || isAtNewline { advance() }
                } else {
                    try parseEscape(into: &result)
                }
            default:
                try appendMultilineContent(scalar, to: &result)
            }
        }
    }

    /// `'''...'''`: verbatim, newlines kept (as `\n`), a newline right after the opening quotes dropped.
    mutating func parseMultilineLiteralString() throws(TOMLError) -> String {
        let open = position
        advance(by: 3)
        skipNewlineAfterOpeningDelimiter()
        var result = ""
        while true {
            guard let scalar = peek else {
                throw error("unterminated multi-line string; close it with '''", at: open)
            }
            if scalar == "'" {
                if try consumeQuoteRun("'", into: &result) { return result }
            } else {
                try appendMultilineContent(scalar, to: &result)
            }
        }
    }

    private mutating func skipNewlineAfterOpeningDelimiter() {
        if peek == "\n" {
            advance()
        } else if peek == "\r" && peek(ahead: 1) == "\n" {
            advance(by: 2)
        }
    }

    /// Reads a run of quotes inside a multi-line string. Three or more close it, and up to two before the
    /// closing three belong to the content (`"""a""""` is `a"`). Returns true when the string is closed.
    private mutating func consumeQuoteRun(_ quote: Unicode.Scalar, into result: inout String) throws(TOMLError) -> Bool {
        let start = position
        var count = 0
        while peek == quote {
            count += 1
            advance()
        }
        if count < 3 {
            for _ in 0..<count { result.unicodeScalars.append(quote) }
            return false
        }
        guard count <= 5 else {
            throw error("too many quotes: at most two may come right before the closing \(String(repeating: String(quote), count: 3)); escape the others", at: start)
        }
        for _ in 0..<(count - 3) { result.unicodeScalars.append(quote) }
        return true
    }

    private mutating func appendMultilineContent(_ scalar: Unicode.Scalar, to result: inout String) throws(TOMLError) {
        if scalar == "\n" {
            result.unicodeScalars.append("\n")
            advance()
        } else if scalar == "\r" && peek(ahead: 1) == "\n" {
            result.unicodeScalars.append("\n")   // newlines are normalised to \n
            advance(by: 2)
        } else {
            try checkNotControl(scalar)
            result.unicodeScalars.append(scalar)
            advance()
        }
    }

    /// A `\` followed only by blanks up to the end of the line.
    private var isLineEndingBackslash: Bool {
        var distance = 1
        while peek(ahead: distance) == " " || peek(ahead: distance) == "\t" { distance += 1 }
        return peek(ahead: distance) == "\n" || (peek(ahead: distance) == "\r" && peek(ahead: distance + 1) == "\n")
    }

    /// TOML strings may hold tabs but no other control characters; they must be escaped.
    private func checkNotControl(_ scalar: Unicode.Scalar) throws(TOMLError) {
        if (scalar.value < 0x20 && scalar != "\t") || scalar.value == 0x7F {
            throw error("control character \(scalar.hexCode) in a string; write it as an escape such as \\u\(scalar.hexCode.dropFirst(2))")
        }
    }

    /// Reads one escape sequence starting at the backslash.
    private mutating func parseEscape(into result: inout String) throws(TOMLError) {
        let start = position
        advance()
        guard let scalar = peek, !isAtNewline else {
            throw error("unterminated string; a backslash must be followed by an escape character", at: start)
        }
        advance()
        switch scalar {
        case "b": result.unicodeScalars.append("\u{08}")
        case "t": result.unicodeScalars.append("\t")
        case "n": result.unicodeScalars.append("\n")
        case "f": result.unicodeScalars.append("\u{0C}")
        case "r": result.unicodeScalars.append("\r")
        case "\"": result.unicodeScalars.append("\"")
        case "\\": result.unicodeScalars.append("\\")
        case "u", "U":
            let digitCount = scalar == "u" ? 4 : 8
            var value: UInt32 = 0
            for _ in 0..<digitCount {
                guard let digit = peek.flatMap(hexValue) else {
                    throw error("\\\(scalar) must be followed by \(digitCount) hexadecimal digits", at: start)
                }
                value = value << 4 | digit
                advance()
            }
            guard let decoded = Unicode.Scalar(value) else {
                throw error("escape \\\(scalar)\(String(value, radix: 16, uppercase: true)) is not a Unicode scalar value (surrogates and values above 10FFFF are not allowed)", at: start)
            }
            result.unicodeScalars.append(decoded)
        default:
            throw error("invalid escape '\\\(scalar)'; valid escapes are \\b \\t \\n \\f \\r \\\" \\\\ \\uXXXX \\UXXXXXXXX, or use a literal string '...'", at: start)
        }
    }
}

/// The value of an ASCII hexadecimal digit, or nil.
func hexValue(_ scalar: Unicode.Scalar) -> UInt32? {
    switch scalar {
    case "0"..."9": scalar.value - 0x30
    case "a"..."f": scalar.value - 0x61 + 10
    case "A"..."F": scalar.value - 0x41 + 10
    default: nil
    }
}
