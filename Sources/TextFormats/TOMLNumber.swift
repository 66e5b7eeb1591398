/// Turns the text of a TOML number into a value, or says what is wrong with it. Pure.
enum TOMLNumber {
    enum Outcome {
        case success(TOMLValue)
        case failure(String)
    }

    static func interpret(_ token: String) -> Outcome {
        var body = Substring(token)
        var sign = ""
        if let first = body.first, first == "+" || first == "-" {
            sign = String(first)
            body = body.dropFirst()
        }
        if body == "inf" { return .success(.float(sign == "-" ? -.infinity : .infinity)) }
        if body == "nan" { return .success(.float(.nan)) }

        for (prefix, radix, name) in [("0x", 16, "hexadecimal"), ("0o", 8, "octal"), ("0b", 2, "binary")] where body.hasPrefix(prefix) {
            guard sign.isEmpty else { return .failure("\(name) integers cannot have a sign: '\(token)'") }
            guard let digits = cleanDigits(body.dropFirst(2), radix: radix) else {
                return .failure("invalid \(name) integer '\(token)'; write digits after \(prefix), with '_' only between digits")
            }
            guard let value = Int64(digits, radix: radix) else {
                return .failure("integer '\(token)' does not fit in 64 bits")
            }
            return .success(.integer(value))
        }

        if looksLikeDateOrTime(body) {
            return .failure("dates are not supported (found '\(token)'); quote the value to use it as a string")
        }

        // Decimal: integer part, optional fraction, optional exponent; '_' only between digits.
        var rest = body
        let integerPart = rest.prefix { $0.isASCIIDigitOrUnderscore }
        rest = rest.dropFirst(integerPart.count)
        guard let integerDigits = cleanDigits(integerPart, radix: 10) else {
            return .failure("invalid number '\(token)'; write digits, with '_' only between digits")
        }
        guard integerDigits.count == 1 || integerDigits.first != "0" else {
            return .failure("leading zeros are not allowed in '\(token)'")
        }
        var text = sign + integerDigits
        var isFloat = false
        if rest.first == "." {
            rest = rest.dropFirst()
            let fraction = rest.prefix { $0.isASCIIDigitOrUnderscore }
            rest = rest.dropFirst(fraction.count)
            guard let fractionDigits = cleanDigits(fraction, radix: 10) else {
                return .failure("invalid number '\(token)'; a decimal point must have digits on both sides")
            }
            text += "." + fractionDigits
            isFloat = true
        }
        if rest.first == "e" || rest.first == "E" {
            rest = rest.dropFirst()
            var exponentSign = ""
            if let first = rest.first, first == "+" || first == "-" {
                exponentSign = String(first)
                rest = rest.dropFirst()
            }
            let exponent = rest.prefix { $0.isASCIIDigitOrUnderscore }
            rest = rest.dropFirst(exponent.count)
            guard let exponentDigits = cleanDigits(exponent, radix: 10) else {
                return .failure("invalid number '\(token)'; an exponent needs digits after 'e'")
            }
            text += "e" + exponentSign + exponentDigits
            isFloat = true
        }
        guard rest.isEmpty else {
            return .failure("invalid number '\(token)'")
        }
        if isFloat {
            guard let value = Double(text) else { return .failure("invalid number '\(token)'") }
            return .success(.float(value))
        }
        guard let value = Int64(text) else {
            return .failure("integer '\(token)' does not fit in 64 bits (\(Int64.min) to \(Int64.max)); write it as a float if you need it")
        }
        return .success(.integer(value))
    }

    /// The digits with underscores removed, or nil if empty, not all digits of `radix`, or with a `_`
    /// that is not between two digits.
    static func cleanDigits(_ text: Substring, radix: Int) -> String? {
        var digits = ""
        var previousWasDigit = false
        for character in text {
            if character == "_" {
                guard previousWasDigit else { return nil }
                previousWasDigit = false
                continue
            }
            guard let value = character.hexDigitValue, value < radix else { return nil }
            digits.append(character)
            previousWasDigit = true
        }
        return previousWasDigit ? digits : nil
    }

    /// `1979-05-27…` or `07:32:00…`: read only so it can be rejected with a clear message.
    static func looksLikeDateOrTime(_ text: Substring) -> Bool {
        let characters = Array(text.prefix(5))
        func digits(_ range: Range<Int>) -> Bool {
            range.upperBound <= characters.count && characters[range].allSatisfy { $0.isASCII && $0.isNumber }
        }
        if digits(0..<4) && characters.count > 4 && characters[4] == "-" { return true }
        if digits(0..<2) && characters.count > 2 && characters[2] == ":" { return true }
        return false
    }
}

extension Character {
    var isASCIIDigitOrUnderscore: Bool { self == "_" || ("0"..."9").contains(self) }
}
