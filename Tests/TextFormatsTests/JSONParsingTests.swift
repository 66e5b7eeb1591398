import Testing
import TextFormats

@Suite("JSON parsing")
struct JSONParsingTests {
    @Test("each value kind parses to the expected JSONValue", arguments: [
        ("null", JSONValue.null),
        ("true", .bool(true)),
        ("false", .bool(false)),
        ("42", .integer(42)),
        ("-7", .integer(-7)),
        ("\"text\"", .string("text")),
        ("[]", .array([])),
        ("{}", .object(JSONObject())),
        (" [1, \"a\", null, [true]] ", .array([.integer(1), .string("a"), .null, .array([.bool(true)])])),
        ("{\"b\": 1, \"a\": {\"c\": []}}", .object(JSONObject([("b", .integer(1)), ("a", .object(JSONObject([("c", .array([]))])))]))),
        ("\t\r\n 1 \n", .integer(1)),
    ])
    func valueKinds(text: String, expected: JSONValue) throws {
        #expect(try JSONValue.parse(text) == expected)
    }

    @Test("numbers keep integers exact and fall back to doubles beyond Int64", arguments: [
        ("9223372036854775807", JSONValue.integer(Int64.max)),
        ("-9223372036854775808", .integer(Int64.min)),
        ("9223372036854775808", .double(9_223_372_036_854_775_808.0)),
        ("-9223372036854775809", .double(-9_223_372_036_854_775_809.0)),
        ("0", .integer(0)),
        ("-0", .integer(0)),
        ("1.0", .double(1)),
        ("0.5", .double(0.5)),
        ("1e300", .double(1e300)),
        ("1E+2", .double(100)),
        ("2.5e-3", .double(0.0025)),
        ("5e-324", .double(Double.leastNonzeroMagnitude)),
        ("1.7976931348623157e308", .double(Double.greatestFiniteMagnitude)),
    ])
    func numbers(text: String, expected: JSONValue) throws {
        #expect(try JSONValue.parse(text) == expected)
    }

    @Test("negative zero parses as a double with its sign")
    func negativeZero() throws {
        let value = try JSONValue.parse("-0.0")
        let number = try #require(value.doubleValue)
        #expect(value == .double(0))
        #expect(number.sign == .minus)
        #expect(value.serialized() == "-0.0")
    }

    @Test("escapes decode to the characters they stand for", arguments: [
        (#""\"\\\/""#, "\"\\/"),
        (#""\b\f\n\r\t""#, "\u{08}\u{0C}\n\r\t"),
        (#""\u0041\u00e9\u20AC""#, "Aé€"),
        (#""\u0000""#, "\u{0}"),
        (#""\ud83d\ude00""#, "😀"),
        (#""\uD834\uDD1E clef""#, "𝄞 clef"),
        ("\"raw é € 😀\"", "raw é € 😀"),
    ])
    func escapes(text: String, expected: String) throws {
        #expect(try JSONValue.parse(text) == .string(expected))
    }

    @Test("the byte-array overload reads UTF-8 and agrees with the string overload")
    func byteOverload() throws {
        let bytes: [UInt8] = [0x7B, 0x22, 0xC3, 0xA9, 0x22, 0x3A, 0x31, 0x7D]   // {"é":1}
        #expect(try JSONValue.parse(bytes) == .object(JSONObject([("é", .integer(1))])))
        #expect(try JSONValue.parse(bytes) == JSONValue.parse("{\"é\":1}"))
    }

    @Test("malformed input is rejected at the byte where it goes wrong", arguments: [
        ("", 0, "expected a value, found end of input"),
        ("   ", 3, "expected a value"),
        ("[1,]", 3, "expected a value, found ']'"),
        ("[1 2]", 3, "expected ',' or ']'"),
        ("[1", 2, "expected ',' or ']' in array, found end of input"),
        ("{\"a\" 1}", 5, "expected ':'"),
        ("{\"a\":1 \"b\":2}", 7, "expected ',' or '}'"),
        ("{1:2}", 1, "expected a string key"),
        ("{\"a\":1,}", 7, "expected a string key"),
        ("{\"a\":1,\"a\":2}", 7, "duplicate key \"a\""),
        ("1 2", 2, "unexpected '2' after the JSON value"),
        ("{} x", 3, "after the JSON value"),
        ("01", 0, "leading zeros"),
        ("-01", 1, "leading zeros"),
        ("-", 1, "expected a digit"),
        ("-a", 1, "expected a digit"),
        ("+1", 0, "expected a value, found '+'"),
        (".5", 0, "expected a value"),
        ("1.", 2, "expected a digit after '.'"),
        ("1.e5", 2, "expected a digit after '.'"),
        ("1e", 2, "expected a digit in the exponent"),
        ("1e+", 3, "expected a digit in the exponent"),
        ("1e400", 0, "out of range"),
        ("-1e400", 0, "out of range"),
        ("tru", 0, "expected 'true'"),
        ("nul!", 0, "expected 'null'"),
        ("falsey", 5, "after the JSON value"),
        ("NaN", 0, "expected a value"),
        ("\"abc", 0, "unterminated string"),
        ("\"a\u{01}\"", 2, "control character 0x01"),
        ("\"tab\there\"", 4, "control character 0x09"),
        (#""\x""#, 1, #"invalid escape '\x'"#),
        (#""\"#, 1, "unterminated escape"),
        (#""\u12G4""#, 1, "4 hexadecimal digits"),
        (#""\u12""#, 1, "4 hexadecimal digits"),
        (#""\ud83d""#, 1, #"unpaired surrogate \uD83D"#),
        (#""\ud83d\u0041""#, 1, "unpaired surrogate"),
        (#""\ude00""#, 1, #"unpaired surrogate \uDE00"#),
        ("'single'", 0, "expected a value"),
    ] as [(String, Int, String)])
    func malformed(text: String, offset: Int, messagePart: String) {
        #expect {
            _ = try JSONValue.parse(text)
        } throws: { error in
            guard let error = error as? JSONError else { return false }
            return error.offset == offset && error.message.contains(messagePart)
        }
    }

    @Test("invalid UTF-8 is rejected at the offending byte", arguments: [
        ([0x22, 0xC3, 0x28, 0x22], 2, "unexpected byte 0x28"),        // lead byte without continuation
        ([0x22, 0x80, 0x22], 1, "cannot start a character"),          // stray continuation byte
        ([0x22, 0xC0, 0xAF, 0x22], 1, "cannot start a character"),    // overlong '/'
        ([0x22, 0xED, 0xA0, 0x80, 0x22], 2, "unexpected byte 0xA0"),   // encoded surrogate
        ([0x22, 0xF4, 0x90, 0x80, 0x80, 0x22], 2, "unexpected byte"),  // above U+10FFFF
        ([0x22, 0xE2, 0x82], 3, "cut short"),
        ([0xEF, 0xBB, 0xBF, 0x31], 0, "expected a value"),             // byte-order mark
    ] as [([UInt8], Int, String)])
    func invalidUTF8(bytes: [UInt8], offset: Int, messagePart: String) {
        #expect {
            _ = try JSONValue.parse(bytes)
        } throws: { error in
            guard let error = error as? JSONError else { return false }
            return error.offset == offset && error.message.contains(messagePart)
        }
    }

    @Test("nesting up to maxDepth is accepted and one level more is rejected where it opens", arguments: [
        ("[", "]"), ("{\"k\":", "}"),
    ])
    func depthLimit(open: String, close: String) throws {
        let accepted = String(repeating: open, count: 64) + "1" + String(repeating: close, count: 64)
        #expect(throws: Never.self) { try JSONValue.parse(accepted) }
        let rejected = String(repeating: open, count: 65) + "1" + String(repeating: close, count: 65)
        let openWidth = open.utf8.count
        #expect(throws: JSONError(offset: 64 * openWidth, message: "arrays and objects are nested more than 64 deep")) {
            try JSONValue.parse(rejected)
        }
    }

    @Test("a smaller maxDepth is honoured")
    func customDepth() {
        #expect(throws: Never.self) { try JSONValue.parse("[[1]]", maxDepth: 2) }
        #expect(throws: JSONError(offset: 2, message: "arrays and objects are nested more than 2 deep")) {
            try JSONValue.parse("[[[1]]]", maxDepth: 2)
        }
    }

    @Test("absurdly deep input is refused without exhausting the stack")
    func hugeNesting() {
        let text = String(repeating: "[", count: 1_000_000)
        #expect(throws: JSONError(offset: 512, message: "arrays and objects are nested more than 512 deep")) {
            try JSONValue.parse(text, maxDepth: .max)
        }
    }

    @Test("an error describes itself with its byte offset")
    func errorDescription() {
        #expect(JSONError(offset: 3, message: "bad").description == "byte 3: bad")
    }
}
