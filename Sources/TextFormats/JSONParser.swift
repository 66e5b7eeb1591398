/// Recursive-descent JSON reader over UTF-8 bytes. Every subscript is guarded by a bounds check.
struct JSONParser {
    let bytes: [UInt8]
    let maxDepth: Int
    var offset = 0

    init(bytes: [UInt8], maxDepth: Int) {
        self.bytes = bytes
        self.maxDepth = maxDepth
    }

    var peek: UInt8? { offset < bytes.count ? bytes[offset] : nil }

    mutating func parseDocument() throws(JSONError) -> JSONValue {
        skipWhitespace()
        let value = try parseValue(depth: 0)
        skipWhitespace()
        if let byte = peek {
            throw JSONError(offset: offset, message: "unexpected \(describe(byte)) after the JSON value; send exactly one value")
        }
        return value
    }

    mutating func skipWhitespace() {
        while let byte = peek, byte == 0x20 || byte == 0x09 || byte == 0x0A || byte == 0x0D { offset += 1 }
    }

    func describe(_ byte: UInt8?) -> String {
        guard let byte else { return "end of input" }
        if byte >= 0x20 && byte < 0x7F { return "'\(Character(Unicode.Scalar(byte)))'" }
        return "byte 0x\(hex2(byte))"
    }

    mutating func parseValue(depth: Int) throws(JSONError) -> JSONValue {
        guard let byte = peek else {
            throw JSONError(offset: offset, message: "expected a value, found end of input")
        }
        switch byte {
        case UInt8(ascii: "{"): return try parseObject(depth: depth + 1)
        case UInt8(ascii: "["): return try parseArray(depth: depth + 1)
        case UInt8(ascii: "\""): return .string(try parseString())
        case UInt8(ascii: "t"): return try parseLiteral("true", .bool(true))
        case UInt8(ascii: "f"): return try parseLiteral("false", .bool(false))
        case UInt8(ascii: "n"): return try parseLiteral("null", .null)
        case UInt8(ascii: "-"), UInt8(ascii: "0")...UInt8(ascii: "9"): return try parseNumber()
        default: throw JSONError(offset: offset, message: "expected a value, found \(describe(byte))")
        }
    }

    mutating func parseLiteral(_ word: StaticString, _ value: JSONValue) throws(JSONError) -> JSONValue {
        let start = offset
        let count = word.utf8CodeUnitCount
        guard bytes.count - offset >= count else {
            throw JSONError(offset: start, message: "invalid literal; expected '\(word)'")
        }
        let matches = word.withUTF8Buffer { expected in
            (0..<count).allSatisfy { bytes[start + $0] == expected[$0] }
        }
        guard matches else { throw JSONError(offset: start, message: "invalid literal; expected '\(word)'") }
        offset += count
        return value
    }

    mutating func checkDepth(_ depth: Int) throws(JSONError) {
        guard depth <= maxDepth else {
            throw JSONError(offset: offset, message: "arrays and objects are nested more than \(maxDepth) deep")
        }
    }

    mutating func parseArray(depth: Int) throws(JSONError) -> JSONValue {
        try checkDepth(depth)
        offset += 1
        var elements: [JSONValue] = []
        skipWhitespace()
        if peek == UInt8(ascii: "]") {
            offset += 1
            return .array(elements)
        }
        while true {
            skipWhitespace()
            elements.append(try parseValue(depth: depth))
            skipWhitespace()
            switch peek {
            case UInt8(ascii: ","): offset += 1
            case UInt8(ascii: "]"):
                offset += 1
                return .array(elements)
            case let byte: throw JSONError(offset: offset, message: "expected ',' or ']' in array, found \(describe(byte))")
            }
        }
    }

    mutating func parseObject(depth: Int) throws(JSONError) -> JSONValue {
        try checkDepth(depth)
        offset += 1
        var object = JSONObject()
        var seenKeys: Set<String> = []   // JSONObject lookup is linear; a set keeps many-key objects O(n)
        skipWhitespace()
        if peek == UInt8(ascii: "}") {
            offset += 1
            return .object(object)
        }
        while true {
            skipWhitespace()
            let keyOffset = offset
            guard peek == UInt8(ascii: "\"") else {
                throw JSONError(offset: offset, message: "expected a string key, found \(describe(peek))")
            }
            let key = try parseString()
            // Duplicate keys are ambiguous (parsers disagree on which wins), so they are refused.
            guard seenKeys.insert(key).inserted else {
                throw JSONError(offset: keyOffset, message: "duplicate key \"\(key)\" in object")
            }
            skipWhitespace()
            guard peek == UInt8(ascii: ":") else {
                throw JSONError(offset: offset, message: "expected ':' after key, found \(describe(peek))")
            }
            offset += 1
            skipWhitespace()
            object.appendNewMember(key: key, value: try parseValue(depth: depth))
            skipWhitespace()
            switch peek {
            case UInt8(ascii: ","): offset += 1
            case UInt8(ascii: "}"):
                offset += 1
                return .object(object)
            case let byte: throw JSONError(offset: offset, message: "expected ',' or '}' in object, found \(describe(byte))")
            }
        }
    }

    mutating func parseNumber() throws(JSONError) -> JSONValue {
        let start = offset
        if peek == UInt8(ascii: "-") { offset += 1 }
        guard let first = peek, isDigit(first) else {
            throw JSONError(offset: offset, message: "expected a digit, found \(describe(peek))")
        }
        if first == UInt8(ascii: "0") {
            if let next = bytes.dropFirst(offset + 1).first, isDigit(next) {
                throw JSONError(offset: offset, message: "leading zeros are not allowed in numbers")
            }
            offset += 1
        } else {
            skipDigits()
        }
        var isInteger = true
        if peek == UInt8(ascii: ".") {
            offset += 1
            guard let byte = peek, isDigit(byte) else {
                throw JSONError(offset: offset, message: "expected a digit after '.', found \(describe(peek))")
            }
            skipDigits()
            isInteger = false
        }
        if peek == UInt8(ascii: "e") || peek == UInt8(ascii: "E") {
            offset += 1
            if peek == UInt8(ascii: "+") || peek == UInt8(ascii: "-") { offset += 1 }
            guard let byte = peek, isDigit(byte) else {
                throw JSONError(offset: offset, message: "expected a digit in the exponent, found \(describe(peek))")
            }
            skipDigits()
            isInteger = false
        }
        let text = String(decoding: bytes[start..<offset], as: UTF8.self)
        if isInteger, let value = Int64(text) { return .integer(value) }
        guard let value = Double(text), value.isFinite else {
            throw JSONError(offset: start, message: "number \(text) is out of range for a 64-bit float")
        }
        return .double(value)
    }

    func isDigit(_ byte: UInt8) -> Bool { byte >= UInt8(ascii: "0") && byte <= UInt8(ascii: "9") }

    mutating func skipDigits() {
        while let byte = peek, isDigit(byte) { offset += 1 }
    }

    mutating func parseString() throws(JSONError) -> String {
        let start = offset
        offset += 1
        var utf8: [UInt8] = []
        while true {
            guard let byte = peek else {
                throw JSONError(offset: start, message: "unterminated string; add the closing '\"'")
            }
            switch byte {
            case UInt8(ascii: "\""):
                offset += 1
                return String(decoding: utf8, as: UTF8.self)   // validated below as it was read
            case UInt8(ascii: "\\"):
                try parseEscape(into: &utf8)
            case 0x00..<0x20:
                throw JSONError(offset: offset, message: "control character 0x\(hex2(byte)) in string; escape it as \\u00\(hex2(byte))")
            case 0x80...:
                let length = try validUTF8SequenceLength(at: offset)
                utf8.append(contentsOf: bytes[offset..<offset + length])
                offset += length
            default:
                utf8.append(byte)
                offset += 1
            }
        }
    }

    mutating func parseEscape(into utf8: inout [UInt8]) throws(JSONError) {
        let start = offset
        offset += 1
        guard let byte = peek else {
            throw JSONError(offset: start, message: "unterminated escape at end of input")
        }
        offset += 1
        switch byte {
        case UInt8(ascii: "\""), UInt8(ascii: "\\"), UInt8(ascii: "/"): utf8.append(byte)
        case UInt8(ascii: "b"): utf8.append(0x08)
        case UInt8(ascii: "f"): utf8.append(0x0C)
        case UInt8(ascii: "n"): utf8.append(0x0A)
        case UInt8(ascii: "r"): utf8.append(0x0D)
        case UInt8(ascii: "t"): utf8.append(0x09)
        case UInt8(ascii: "u"):
            var value = try readHex4(escapeStart: start)
            switch value {
            case 0xD800...0xDBFF:
                let lowStart = offset
                guard peek == UInt8(ascii: "\\"), bytes.dropFirst(offset + 1).first == UInt8(ascii: "u") else {
                    throw JSONError(offset: start, message: "unpaired surrogate \\u\(hex4(value)); a high surrogate must be followed by a \\uDC00-\\uDFFF escape")
                }
                offset += 2
                let low = try readHex4(escapeStart: lowStart)
                guard (0xDC00...0xDFFF).contains(low) else {
                    throw JSONError(offset: start, message: "unpaired surrogate \\u\(hex4(value)); a high surrogate must be followed by a \\uDC00-\\uDFFF escape")
                }
                value = 0x10000 + ((value - 0xD800) << 10) + (low - 0xDC00)
            case 0xDC00...0xDFFF:
                throw JSONError(offset: start, message: "unpaired surrogate \\u\(hex4(value)); a low surrogate must follow a high one")
            default:
                break
            }
            guard let scalar = Unicode.Scalar(value) else {
                throw JSONError(offset: start, message: "escape is not a Unicode scalar value")
            }
            UTF8.encode(scalar) { utf8.append($0) }
        default:
            throw JSONError(offset: start, message: "invalid escape '\\\(describe(byte).trimmingQuotes)'; valid escapes are \\\" \\\\ \\/ \\b \\f \\n \\r \\t \\uXXXX")
        }
    }

    mutating func readHex4(escapeStart: Int) throws(JSONError) -> UInt32 {
        var value: UInt32 = 0
        for _ in 0..<4 {
            guard let byte = peek, let digit = hexValue(Unicode.Scalar(byte)) else {
                throw JSONError(offset: escapeStart, message: "\\u must be followed by 4 hexadecimal digits")
            }
            value = value << 4 | digit
            offset += 1
        }
        return value
    }

    /// The length of the well-formed UTF-8 sequence starting at `start` (RFC 3629 table: no overlongs,
    /// no surrogates, nothing above U+10FFFF), or a thrown error naming where it breaks.
    func validUTF8SequenceLength(at start: Int) throws(JSONError) -> Int {
        guard start < bytes.count else { throw JSONError(offset: start, message: "invalid UTF-8") }
        let lead = bytes[start]
        let length: Int
        let secondRange: ClosedRange<UInt8>
        switch lead {
        case 0xC2...0xDF: (length, secondRange) = (2, 0x80...0xBF)
        case 0xE0: (length, secondRange) = (3, 0xA0...0xBF)
        case 0xE1...0xEC, 0xEE...0xEF: (length, secondRange) = (3, 0x80...0xBF)
        case 0xED: (length, secondRange) = (3, 0x80...0x9F)
        case 0xF0: (length, secondRange) = (4, 0x90...0xBF)
        case 0xF1...0xF3: (length, secondRange) = (4, 0x80...0xBF)
        case 0xF4: (length, secondRange) = (4, 0x80...0x8F)
        default: throw JSONError(offset: start, message: "invalid UTF-8: byte 0x\(hex2(lead)) cannot start a character")
        }
        for index in 1..<length {
            let position = start + index
            guard position < bytes.count else {
                throw JSONError(offset: position, message: "invalid UTF-8: character cut short by the end of input")
            }
            let allowed: ClosedRange<UInt8> = index == 1 ? secondRange : 0x80...0xBF
            guard allowed.contains(bytes[position]) else {
                throw JSONError(offset: position, message: "invalid UTF-8: unexpected byte 0x\(hex2(bytes[position])) inside a character")
            }
        }
        return length
    }
}

private func hex2(_ byte: UInt8) -> String {
    let digits = String(byte, radix: 16, uppercase: true)
    return digits.count < 2 ? "0" + digits : digits
}

private func hex4(_ value: UInt32) -> String {
    let digits = String(value, radix: 16, uppercase: true)
    return String(repeating: "0", count: max(0, 4 - digits.count)) + digits
}

private extension String {
    /// `'x'` → `x`, for quoting a described byte inside an escape.
    var trimmingQuotes: Substring {
        hasPrefix("'") && hasSuffix("'") && count >= 2 ? dropFirst().dropLast() : Substring(self)
    }
}
