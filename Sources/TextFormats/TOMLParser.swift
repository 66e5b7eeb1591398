/// Recursive-descent TOML reader over Unicode scalars, tracking line and column as it goes.
///
/// Statement-level errors are collected and the parser resumes at the next line (`parseDocument`).
/// Every read of `text` is bounds-checked through `peek`, so no input can trap.
struct TOMLParser {
    /// Key paths longer than this are rejected, so the finished tree (and freezing it) stays shallow.
    static let maxKeySegments = 64
    /// Arrays and inline tables nested deeper than this are rejected, to bound recursion.
    static let maxValueDepth = 64

    struct KeySegment {
        let name: String
        let position: SourcePosition
    }

    let text: [Unicode.Scalar]
    var index = 0
    var line = 1
    var lineStart = 0
    private var errors: [TOMLError] = []
    private let root: TOMLTableBuilder
    private var current: TOMLTableBuilder

    init(_ source: String) {
        text = Array(source.unicodeScalars)
        root = TOMLTableBuilder(origin: .root, position: SourcePosition(line: 1, column: 1), path: [])
        current = root
        if text.first == "\u{FEFF}" {   // a byte-order mark is not content and does not count as a column
            index = 1
            lineStart = 1
        }
    }

    // MARK: - Cursor

    var position: SourcePosition { SourcePosition(line: line, column: index - lineStart + 1) }

    var peek: Unicode.Scalar? { index < text.count ? text[index] : nil }

    func peek(ahead distance: Int) -> Unicode.Scalar? {
        let target = index + distance
        return target >= 0 && target < text.count ? text[target] : nil
    }

    mutating func advance(by count: Int = 1) {
        for _ in 0..<count {
            guard index < text.count else { return }
            if text[index] == "\n" {
                line += 1
                lineStart = index + 1
            }
            index += 1
        }
    }

    /// True at `\n` or `\r\n`.
    var isAtNewline: Bool {
        peek == "\n" || (peek == "\r" && peek(ahead: 1) == "\n")
    }

    mutating func skipBlanks() {
        while peek == " " || peek == "\t" { advance() }
    }

    /// Skips a comment up to the line break; stops early at a control character (not allowed in comments).
    mutating func skipComment() {
        guard peek == "#" else { return }
        while let scalar = peek, scalar == "\t" || (scalar.value >= 0x20 && scalar.value != 0x7F) {
            advance()
        }
    }

    /// Skips blanks, newlines and comments (inside arrays).
    mutating func skipBlanksNewlinesAndComments() throws(TOMLError) {
        while true {
            skipBlanks()
            if peek == "#" {
                skipComment()
            } else if peek == "\n" {
                advance()
            } else if peek == "\r" {
                guard peek(ahead: 1) == "\n" else { throw error("carriage return without a following newline; save the file with \\n or \\r\\n line endings") }
                advance(by: 2)
            } else {
                return
            }
        }
    }

    /// Requires the rest of the line to be blank or a comment; stops before the line break.
    mutating func checkEndOfLine() throws(TOMLError) {
        skipBlanks()
        skipComment()
        if peek == nil || isAtNewline { return }
        if peek == "\r" {
            throw error("carriage return without a following newline; save the file with \\n or \\r\\n line endings")
        }
        throw error("expected the end of the line, found \(describe(peek)); put each key = value on its own line")
    }

    mutating func consumeNewline() {
        if peek == "\n" {
            advance()
        } else if peek == "\r" && peek(ahead: 1) == "\n" {
            advance(by: 2)
        }
    }

    mutating func skipRestOfLine() {
        while let scalar = peek, scalar != "\n" { advance() }
        advance()
    }

    func error(_ message: String, at position: SourcePosition? = nil) -> TOMLError {
        TOMLError(position: position ?? self.position, message: message)
    }

    func describe(_ scalar: Unicode.Scalar?) -> String {
        guard let scalar else { return "the end of the file" }
        switch scalar {
        case "\n": return "the end of the line"
        case "\r": return peek(ahead: 1) == "\n" ? "the end of the line" : "a carriage return"
        case "'": return "\"'\""
        default:
            if scalar.value < 0x20 || scalar.value == 0x7F { return "control character \(scalar.hexCode)" }
            return "'\(scalar)'"
        }
    }

    // MARK: - Document

    mutating func parseDocument() -> (table: TOMLTable, errors: [TOMLError]) {
        while index < text.count {
            skipBlanks()
            guard let scalar = peek else { break }
            // Each statement is read, then the rest of its line is checked, and only then does it change the
            // tree: a line with an error contributes nothing.
            do throws(TOMLError) {
                switch scalar {
                case "\n", "#", "\r":
                    break
                case "[":
                    let header = try parseHeader()
                    try checkEndOfLine()
                    try apply(header)
                default:
                    let statement = try parseKeyValue(path: current.path)
                    try checkEndOfLine()
                    try insert(statement.value, at: statement.keys, valuePosition: statement.valuePosition, into: current)
                }
                try checkEndOfLine()
                consumeNewline()
            } catch {
                errors.append(error)
                skipRestOfLine()
            }
        }
        return (root.freeze(), errors)
    }

    // MARK: - Keys

    mutating func parseKeyPath() throws(TOMLError) -> [KeySegment] {
        var segments: [KeySegment] = []
        while true {
            skipBlanks()
            let start = position
            let name: String
            switch peek {
            case "\""?:
                guard !(peek(ahead: 1) == "\"" && peek(ahead: 2) == "\"") else {
                    throw error("a multi-line string cannot be a key; use \"...\" on one line")
                }
                name = try parseBasicString()
            case "'"?:
                guard !(peek(ahead: 1) == "'" && peek(ahead: 2) == "'") else {
                    throw error("a multi-line string cannot be a key; use '...' on one line")
                }
                name = try parseLiteralString()
            case let scalar? where scalar.isBareKeyCharacter:
                var bare = ""
                while let scalar = peek, scalar.isBareKeyCharacter {
                    bare.unicodeScalars.append(scalar)
                    advance()
                }
                name = bare
            default:
                throw error("expected a key, found \(describe(peek)); keys are A-Z a-z 0-9 _ - or quoted")
            }
            segments.append(KeySegment(name: name, position: start))
            guard segments.count <= Self.maxKeySegments else {
                throw error("key has more than \(Self.maxKeySegments) dotted parts", at: start)
            }
            skipBlanks()
            guard peek == "." else { return segments }
            advance()
        }
    }

    struct KeyValue {
        let keys: [KeySegment]
        let value: TOMLValue
        let valuePosition: SourcePosition
    }

    struct Header {
        let keys: [KeySegment]
        let isArray: Bool
        let position: SourcePosition
    }

    /// Reads `key = value` without storing it; `path` is the enclosing table's, for messages.
    mutating func parseKeyValue(path: [String]) throws(TOMLError) -> KeyValue {
        let keys = try parseKeyPath()
        skipBlanks()
        guard peek == "=" else {
            throw error("expected '=' after key '\(displayKey(keys.map(\.name)))', found \(describe(peek))")
        }
        advance()
        skipBlanks()
        let valuePosition = position
        let value = try parseValue(depth: 0, path: path + keys.map(\.name))
        return KeyValue(keys: keys, value: value, valuePosition: valuePosition)
    }

    /// Stores `value` under a (possibly dotted) key, creating the intermediate tables dotted keys imply.
    mutating func insert(_ value: TOMLValue, at keys: [KeySegment], valuePosition: SourcePosition, into base: TOMLTableBuilder) throws(TOMLError) {
        guard let last = keys.last else { return }
        var table = base
        for segment in keys.dropLast() {
            let path = table.path + [segment.name]
            if let slot = table.slot(named: segment.name) {
                switch slot.item {
                case .table(let child) where child.origin == .dotted || child.origin == .implicit:
                    child.origin = .dotted
                    table = child
                case .table(let child):
                    throw error("dotted key '\(displayKey(path)).…' adds to table [\(displayKey(path))], which its header at line \(child.position.line) defines; put the key under that header", at: segment.position)
                case .tables:
                    throw error("'\(displayKey(path))' is an array of tables (line \(slot.keyPosition.line)); add keys under a [[\(displayKey(path))]] header instead", at: segment.position)
                case .value(.table):
                    throw error("'\(displayKey(path))' is an inline table (line \(slot.keyPosition.line)) and cannot be extended; add the key inside its braces", at: segment.position)
                case .value(let existing):
                    throw error("'\(displayKey(path))' is already \(existing.typeName.withArticle) (line \(slot.keyPosition.line)), so it cannot hold sub-keys", at: segment.position)
                }
            } else {
                let child = TOMLTableBuilder(origin: .dotted, position: segment.position, path: path)
                table.append(.init(key: segment.name, item: .table(child), keyPosition: segment.position, valuePosition: segment.position))
                table = child
            }
        }
        if let existing = table.slot(named: last.name) {
            throw error("key '\(displayKey(table.path + [last.name]))' is defined twice; the first definition is at line \(existing.keyPosition.line); remove one of them", at: last.position)
        }
        table.append(.init(key: last.name, item: .value(value), keyPosition: last.position, valuePosition: valuePosition))
    }

    // MARK: - Headers

    /// Reads `[a.b]` or `[[a.b]]` without applying it.
    mutating func parseHeader() throws(TOMLError) -> Header {
        let headerPosition = position
        // Until the header is known good, keys go nowhere: adding them to the previous table would
        // report bogus duplicates on top of the real error.
        current = TOMLTableBuilder(origin: .detached, position: headerPosition, path: [])
        advance()
        let isArray = peek == "["
        if isArray { advance() }
        let keys = try parseKeyPath()
        guard peek == "]" else {
            throw error("expected '\(isArray ? "]]" : "]")' to close the header, found \(describe(peek))")
        }
        advance()
        if isArray {
            guard peek == "]" else { throw error("expected ']]' to close the array-of-tables header, found \(describe(peek))") }
            advance()
        }
        return Header(keys: keys, isArray: isArray, position: headerPosition)
    }

    /// Finds or creates the table a header names and makes it current.
    mutating func apply(_ header: Header) throws(TOMLError) {
        let headerPosition = header.position
        let isArray = header.isArray
        let keys = header.keys
        guard let last = keys.last else { return }

        var table = root
        for segment in keys.dropLast() {
            let path = table.path + [segment.name]
            if let slot = table.slot(named: segment.name) {
                switch slot.item {
                case .table(let child):
                    table = child
                case .tables(let array):
                    guard let newest = array.tables.last else { throw error("internal: empty array of tables '\(displayKey(path))'", at: segment.position) }
                    table = newest
                case .value(.table):
                    throw error("'\(displayKey(path))' is an inline table (line \(slot.keyPosition.line)) and cannot be extended by a header; move its keys under the header", at: segment.position)
                case .value(let existing):
                    throw error("'\(displayKey(path))' is already \(existing.typeName.withArticle) (line \(slot.keyPosition.line)), not a table", at: segment.position)
                }
            } else {
                let child = TOMLTableBuilder(origin: .implicit, position: headerPosition, path: path)
                table.append(.init(key: segment.name, item: .table(child), keyPosition: segment.position, valuePosition: headerPosition))
                table = child
            }
        }

        let path = table.path + [last.name]
        let name = displayKey(path)
        let existing = table.slot(named: last.name)
        if isArray {
            let element = TOMLTableBuilder(origin: .header, position: headerPosition, path: path)
            switch existing?.item {
            case nil:
                table.append(.init(key: last.name, item: .tables(TOMLTableArrayBuilder(first: element)), keyPosition: last.position, valuePosition: headerPosition))
            case .tables(let array)?:
                array.tables.append(element)
            case .table(let child)?:
                throw error("[[\(name)]] conflicts with table [\(name)] defined at line \(child.position.line); use one form or the other", at: headerPosition)
            case .value(let value)?:
                throw error("[[\(name)]] conflicts with key '\(name)', \(value.typeName.withArticle) defined at line \(existing?.keyPosition.line ?? 0)", at: headerPosition)
            }
            current = element
        } else {
            switch existing?.item {
            case nil:
                let child = TOMLTableBuilder(origin: .header, position: headerPosition, path: path)
                table.append(.init(key: last.name, item: .table(child), keyPosition: last.position, valuePosition: headerPosition))
                current = child
            case .table(let child)? where child.origin == .implicit:
                child.origin = .header
                child.position = headerPosition
                table.reposition(key: last.name, keyPosition: last.position, valuePosition: headerPosition)
                current = child
            case .table(let child)?:
                let how = child.origin == .dotted ? "by dotted keys " : ""
                throw error("table [\(name)] is already defined \(how)at line \(child.position.line); merge the two sections", at: headerPosition)
            case .tables?:
                throw error("[\(name)] conflicts with the array of tables [[\(name)]] defined at line \(existing?.keyPosition.line ?? 0)", at: headerPosition)
            case .value(let value)?:
                throw error("[\(name)] conflicts with key '\(name)', \(value.typeName.withArticle) defined at line \(existing?.keyPosition.line ?? 0)", at: headerPosition)
            }
        }
    }

    // MARK: - Values

    mutating func parseValue(depth: Int, path: [String]) throws(TOMLError) -> TOMLValue {
        guard depth <= Self.maxValueDepth else {
            throw error("arrays and inline tables are nested more than \(Self.maxValueDepth) deep")
        }
        guard let scalar = peek else { throw error("expected a value, found the end of the file") }
        switch scalar {
        case "\"":
            if peek(ahead: 1) == "\"" && peek(ahead: 2) == "\"" { return .string(try parseMultilineBasicString()) }
            return .string(try parseBasicString())
        case "'":
            if peek(ahead: 1) == "'" && peek(ahead: 2) == "'" { return .string(try parseMultilineLiteralString()) }
            return .string(try parseLiteralString())
        case "[":
            return try parseArray(depth: depth, path: path)
        case "{":
            return try parseInlineTable(depth: depth, path: path)
        case "+", "-", "0"..."9":
            return try parseNumber()
        case "a"..."z", "A"..."Z":
            return try parseWord()
        case "\n", "\r":
            throw error("expected a value, found the end of the line")
        default:
            throw error("expected a value (string, number, boolean, array or inline table), found \(describe(scalar))")
        }
    }

    /// `true`, `false`, `inf`, `nan`, or an unquoted word someone meant as a string.
    mutating func parseWord() throws(TOMLError) -> TOMLValue {
        let start = position
        var word = ""
        while let scalar = peek, scalar.isBareKeyCharacter {
            word.unicodeScalars.append(scalar)
            advance()
        }
        switch word {
        case "true": return .boolean(true)
        case "false": return .boolean(false)
        case "inf": return .float(.infinity)
        case "nan": return .float(.nan)
        default: throw error("unknown value '\(word)'; strings must be quoted: \"\(word)\"", at: start)
        }
    }

    mutating func parseNumber() throws(TOMLError) -> TOMLValue {
        let start = position
        var token = ""
        while let scalar = peek, scalar.isNumberTokenCharacter {
            token.unicodeScalars.append(scalar)
            advance()
        }
        switch TOMLNumber.interpret(token) {
        case .success(let value): return value
        case .failure(let message): throw error(message, at: start)
        }
    }

    mutating func parseArray(depth: Int, path: [String]) throws(TOMLError) -> TOMLValue {
        let open = position
        advance()
        var items: [TOMLValue] = []
        while true {
            try skipBlanksNewlinesAndComments()
            guard let scalar = peek else { throw error("array opened here is never closed; add ']'", at: open) }
            if scalar == "]" {
                advance()
                return .array(items)
            }
            items.append(try parseValue(depth: depth + 1, path: path))
            try skipBlanksNewlinesAndComments()
            switch peek {
            case ","?:
                advance()
            case "]"?:
                advance()
                return .array(items)
            case nil:
                throw error("array opened here is never closed; add ']'", at: open)
            case let other?:
                throw error("expected ',' or ']' in the array opened at \(open), found \(describe(other))")
            }
        }
    }

    mutating func parseInlineTable(depth: Int, path: [String]) throws(TOMLError) -> TOMLValue {
        let open = position
        advance()
        let table = TOMLTableBuilder(origin: .inline, position: open, path: path)
        skipBlanks()
        if peek == "}" {
            advance()
            return .table(table.freeze())
        }
        while true {
            let keys = try parseKeyPath()
            skipBlanks()
            guard peek == "=" else {
                throw error("expected '=' after key '\(displayKey(keys.map(\.name)))' in the inline table, found \(describe(peek))")
            }
            advance()
            skipBlanks()
            let valuePosition = position
            let value = try parseValue(depth: depth + 1, path: path + keys.map(\.name))
            try insert(value, at: keys, valuePosition: valuePosition, into: table)
            skipBlanks()
            switch peek {
            case ","?:
                advance()
                skipBlanks()
                if peek == "}" { throw error("an inline table cannot end with a comma; remove it") }
            case "}"?:
                advance()
                return .table(table.freeze())
            case nil, "\n"?, "\r"?:
                throw error("the inline table opened at \(open) must be closed with '}' on the same line")
            case let other?:
                throw error("expected ',' or '}' in the inline table opened at \(open), found \(describe(other))")
            }
        }
    }
}

extension Unicode.Scalar {
    /// A-Z a-z 0-9 _ - (TOML bare keys).
    var isBareKeyCharacter: Bool {
        switch self {
        case "A"..."Z", "a"..."z", "0"..."9", "_", "-": true
        default: false
        }
    }

    /// Characters that can continue a number (or a date, which is read only to reject it).
    var isNumberTokenCharacter: Bool {
        switch self {
        case "A"..."Z", "a"..."z", "0"..."9", "_", "-", "+", ".", ":": true
        default: false
        }
    }

    /// `U+001F` style, for messages about invisible characters.
    var hexCode: String {
        let digits = String(value, radix: 16, uppercase: true)
        return "U+" + String(repeating: "0", count: max(0, 4 - digits.count)) + digits
    }
}

extension String {
    /// "an integer", "a string": for messages that name a type.
    var withArticle: String {
        (first.map { "aeiou".contains($0) } ?? false ? "an " : "a ") + self
    }
}

/// Writes a key path as TOML would, quoting parts that are not bare keys.
func displayKey(_ path: [String]) -> String {
    path.map { part in
        if !part.isEmpty && part.unicodeScalars.allSatisfy(\.isBareKeyCharacter) { return part }
        var quoted = "\""
        for scalar in part.unicodeScalars {
            switch scalar {
            case "\"": quoted += "\\\""
            case "\\": quoted += "\\\\"
            default:
                if scalar.value < 0x20 || scalar.value == 0x7F { quoted += "\\u" + scalar.hexCode.dropFirst(2) } else { quoted.unicodeScalars.append(scalar) }
            }
        }
        return quoted + "\""
    }.joined(separator: ".")
}
