import Testing
import TextFormats

@Suite("JSON serialization")
struct JSONSerializationTests {
    @Test("compact text survives a parse and serialize round trip unchanged", arguments: [
        "null", "true", "false", "0", "-1",
        "9223372036854775807", "-9223372036854775808",
        "1.5", "-0.0", "1e+300", "5e-324", "0.1", "100.0",
        #""""#, #""plain""#, #""é € 😀""#,
        #""quote\" backslash\\ nl\n cr\r tab\t bs\b ff\f""#,
        #""\u0000\u001f\u007f""#,
        "[]", "{}", "[1,[2,[3]],{}]",
        #"{"z":1,"a":[true,null],"m":{"k":"v"}}"#,
    ])
    func roundTrip(text: String) throws {
        #expect(try JSONValue.parse(text).serialized() == text.replacingDEL())
    }

    @Test("values survive serialize then parse, in both layouts", arguments: [false, true])
    func valueRoundTrip(pretty: Bool) throws {
        let value: JSONValue = [
            "ints": [0, 1, -1, .integer(Int64.max), .integer(Int64.min)],
            "doubles": [0.1, 1e300, -2.5e-10, 123456789.125],
            "text": "line\nbreak \"quoted\" \u{1} é 😀",
            "nested": ["a": ["b": [nil, true, false]]],
            "empty": [:],
            "none": [],
        ]
        #expect(try JSONValue.parse(value.serialized(pretty: pretty)) == value)
    }

    @Test("control characters are escaped, short forms where JSON has them", arguments: [
        ("\u{0}", #""\u0000""#),
        ("\u{1F}", #""\u001f""#),
        ("\u{08}\u{0C}\n\r\t", #""\b\f\n\r\t""#),
        ("\"\\/", #""\"\\/""#),
        ("\u{7F}é", "\"\u{7F}é\""),
    ])
    func stringEscaping(string: String, expected: String) {
        #expect(JSONValue.string(string).serialized() == expected)
    }

    @Test("doubles use the shortest round-trip form and non-finite values become null", arguments: [
        (1e300, "1e+300"), (0.1, "0.1"), (-0.0, "-0.0"), (1.0, "1.0"), (2.5e-8, "2.5e-08"),
        (.nan, "null"), (.infinity, "null"), (-.infinity, "null"),
    ])
    func doubles(value: Double, expected: String) {
        #expect(JSONValue.double(value).serialized() == expected)
    }

    @Test("pretty output indents by two spaces with a space after each colon")
    func prettyOutput() {
        let value: JSONValue = ["ok": true, "nodes": [1, 2], "empty": [:], "none": [], "node": ["name": "tone", "gain": 0.5]]
        let expected = """
            {
              "ok": true,
              "nodes": [
                1,
                2
              ],
              "empty": {},
              "none": [],
              "node": {
                "name": "tone",
                "gain": 0.5
              }
            }
            """
        #expect(value.serialized(pretty: true) == expected)
    }

    @Test("compact output has no whitespace")
    func compactOutput() {
        let value: JSONValue = ["ok": true, "nodes": [1, 2], "name": nil]
        #expect(value.serialized() == #"{"ok":true,"nodes":[1,2],"name":null}"#)
    }
}

private extension String {
    /// DEL is not a JSON control character, so the serializer writes it raw; the input spelled it as an escape.
    func replacingDEL() -> String {
        var result = ""
        var rest = Substring(self)
        while let range = rest.firstRange(of: "\\u007f") {
            result += rest[..<range.lowerBound] + "\u{7F}"
            rest = rest[range.upperBound...]
        }
        return result + rest
    }
}
