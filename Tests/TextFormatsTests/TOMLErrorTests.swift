import Testing
import TextFormats
import TestSupport

@Suite("TOML errors")
struct TOMLErrorTests {
    @Test("every broken line is reported, with its position, and good lines still parse")
    func collectsAllErrors() {
        let text = """
            a = 1
            b =
            c = "unterminated
            d = 4
            a = 2
            e = 1979-05-27
            [graph
            f = 0x
            [ok]
            g = yes
            h = 5 6
            """
        let (table, errors) = TOML.parse(text)
        #expect(errors.map(\.position) == [at(2, 4), at(3, 5), at(5, 1), at(6, 5), at(7, 7), at(8, 5), at(10, 5), at(11, 7)])
        let messages = errors.map(\.message)
        #expect(messages.count == 8)
        if messages.count == 8 {
            #expect(messages[0].contains("expected a value"))
            #expect(messages[1].contains("unterminated string"))
            #expect(messages[2].contains("'a'") && messages[2].contains("line 1"))
            #expect(messages[3].contains("dates are not supported"))
            #expect(messages[4].contains("']'"))
            #expect(messages[5].contains("hexadecimal"))
            #expect(messages[6].contains("strings must be quoted"))
            #expect(messages[7].contains("end of the line"))
        }
        #expect(table.keys == ["a", "d", "ok"])
        #expect(table["a"]?.value == .integer(1))
        #expect(table["d"]?.value == .integer(4))
        #expect(table["ok"]?.value.tableValue?.keys == [])
    }

    @Test("a duplicate key is reported at its second occurrence, naming the key and the first line")
    func duplicateKey() {
        let (table, errors) = TOML.parse("[graph]\nrate = 48000\nquantum = 1024\nrate = 44100\n")
        #expect(errors == [TOMLError(position: at(4, 1), message: "key 'graph.rate' is defined twice; the first definition is at line 2; remove one of them")])
        #expect(table.value(at: "graph", "rate") == .integer(48000))
    }

    @Test("an unterminated string is reported at its opening quote", arguments: [
        ("name = \"speakers\n", at(1, 8)),
        ("name = 'speakers\n", at(1, 8)),
        ("x = 1\nname = \"\"\"\nnever closed\n", at(2, 8)),
        ("name = '''never closed", at(1, 8)),
    ])
    func unterminatedString(text: String, position: SourcePosition) throws {
        let (_, errors) = TOML.parse(text)
        let error = try #require(errors.first)
        #expect(errors.count == 1)
        #expect(error.position == position)
        #expect(error.message.contains("unterminated"))
    }

    @Test("redefining a table or mixing tables, arrays of tables and values is an error", arguments: [
        ("[a]\nx = 1\n[a]\n", at(3, 1), "table [a] is already defined at line 1"),
        ("[a.b]\n[a]\n[a]\n", at(3, 1), "table [a] is already defined at line 2"),
        ("a.b = 1\n[a]\n", at(2, 1), "table [a] is already defined by dotted keys at line 1"),
        ("[a]\nb.c = 1\n[a.b]\n", at(3, 1), "table [a.b] is already defined by dotted keys at line 2"),
        ("[a]\n[[a]]\n", at(2, 1), "[[a]] conflicts with table [a] defined at line 1"),
        ("[[a]]\n[a]\n", at(2, 1), "[a] conflicts with the array of tables [[a]] defined at line 1"),
        ("a = [1]\n[[a]]\n", at(2, 1), "[[a]] conflicts with key 'a', an array defined at line 1"),
        ("a = 1\n[a.b]\n", at(2, 2), "'a' is already an integer (line 1), not a table"),
        ("a = {x = 1}\n[a.b]\n", at(2, 2), "inline table"),
        ("a = {x = 1}\na.y = 2\n", at(2, 1), "inline table"),
        ("a = 1\na.b = 2\n", at(2, 1), "'a' is already an integer (line 1)"),
        ("[a.b]\nx = 1\n[a]\nb.y = 2\n", at(4, 1), "which its header at line 1 defines"),
        ("[[a]]\n[b]\na.x = 1\n[x]\n[b.a]\n", at(5, 1), "table [b.a] is already defined by dotted keys at line 3"),
        ("p = { a = 1, a = 2 }\n", at(1, 14), "key 'p.a' is defined twice"),
    ])
    func tableConflicts(text: String, position: SourcePosition, messagePart: String) throws {
        let (_, errors) = TOML.parse(text)
        let error = try #require(errors.first)
        #expect(errors.count == 1)
        #expect(error.position == position)
        #expect(error.message.contains(messagePart), "\(error.message)")
    }

    @Test("malformed values are rejected with a message that says what is wrong", arguments: [
        ("v = 007", at(1, 5), "leading zeros"),
        ("v = 1__0", at(1, 5), "'_'"),
        ("v = 1_", at(1, 5), "'_'"),
        ("v = 1.", at(1, 5), "decimal point"),
        ("v = .5", at(1, 5), "expected a value"),
        ("v = 1e", at(1, 5), "exponent"),
        ("v = +0x10", at(1, 5), "cannot have a sign"),
        ("v = 0x", at(1, 5), "hexadecimal"),
        ("v = 0b102", at(1, 5), "binary"),
        ("v = 9223372036854775808", at(1, 5), "does not fit in 64 bits"),
        ("v = 0x8000000000000000", at(1, 5), "does not fit in 64 bits"),
        ("v = 07:32:00", at(1, 5), "dates are not supported"),
        ("v = 1979-05-27T07:32:00Z", at(1, 5), "dates are not supported"),
        ("v = True", at(1, 5), "strings must be quoted"),
        (#"v = "bad \q escape""#, at(1, 10), "invalid escape"),
        (#"v = "\u12""#, at(1, 6), "4 hexadecimal digits"),
        (#"v = "\uD800""#, at(1, 6), "not a Unicode scalar value"),
        ("v = \"bell\u{07}\"", at(1, 10), "control character U+0007"),
        ("v = [1 2]", at(1, 8), "expected ',' or ']' in the array opened at 1:5"),
        ("v = [1,,2]", at(1, 8), "expected a value"),
        ("v = [1, 2", at(1, 5), "never closed"),
        ("v = { a = 1, }", at(1, 14), "cannot end with a comma"),
        ("v = { a = 1", at(1, 12), "on the same line"),
        ("v = { a = 1 b = 2 }", at(1, 13), "expected ',' or '}'"),
        ("v = \"\"\"x\"\"\"\"\"\"", at(1, 9), "too many quotes"),
        ("v", at(1, 2), "expected '='"),
        ("= 1", at(1, 1), "expected a key"),
        ("a.  = 1", at(1, 5), "expected a key"),
        ("[a.]", at(1, 4), "expected a key"),
        ("[[a]", at(1, 5), "']]'"),
        ("[a] x", at(1, 5), "expected the end of the line"),
        ("v = 1 # ok\r", at(1, 11), "carriage return"),
    ])
    func malformedValues(text: String, position: SourcePosition, messagePart: String) throws {
        let (_, errors) = TOML.parse(text)
        let error = try #require(errors.first)
        #expect(errors.count == 1, "\(errors)")
        #expect(error.position == position)
        #expect(error.message.contains(messagePart), "\(error.message)")
    }

    @Test("keys after a broken header do not land in the previous table")
    func keysAfterBrokenHeader() {
        let (table, errors) = TOML.parse("[a]\nx = 1\n[b\nx = 2\n")
        #expect(errors.count == 1)
        #expect(errors.first?.position == at(3, 3))
        #expect(table.value(at: "a", "x") == .integer(1))
        #expect(table.keys == ["a"])
    }

    @Test("nesting deeper than the limit is an error, not a stack overflow", arguments: [
        "v = " + String(repeating: "[", count: 1_000),
        "v = " + String(repeating: "{a=", count: 1_000),
        "[" + Array(repeating: "a", count: 1_000).joined(separator: ".") + "]",
        Array(repeating: "a", count: 1_000).joined(separator: ".") + " = 1",
    ])
    func deepNesting(text: String) {
        let (table, errors) = TOML.parse(text)
        #expect(errors.count == 1)
        #expect(errors.first?.message.contains("64") == true)
        #expect(table.entries == [])
    }

    @Test("truncated and corrupted configs never trap and report errors inside the text")
    func fuzzedInputs() {
        let seed = Array(TOMLExampleConfigTests.config.unicodeScalars)
        let replacements: [Unicode.Scalar] = ["[", "]", "{", "}", "\"", "'", "=", ".", ",", "\n", "\\", "#", "0", "x", "\u{0}", "\r", "_", "e", " "]
        var generator = SplitMix64(seed: 0x5EED)
        for round in 0..<2_000 {
            var scalars = seed
            if round % 3 == 0 {
                scalars = Array(scalars.prefix(Int(generator.next() % UInt64(seed.count + 1))))
            } else {
                for _ in 0..<(1 + generator.next() % 4) where !scalars.isEmpty {
                    let index = Int(generator.next() % UInt64(scalars.count))
                    scalars[index] = replacements[Int(generator.next() % UInt64(replacements.count))]
                }
            }
            var text = ""
            text.unicodeScalars.append(contentsOf: scalars)
            let lineCount = scalars.count { $0 == "\n" } + 1
            let (_, errors) = TOML.parse(text)
            for error in errors {
                #expect((1...lineCount).contains(error.position.line) && error.position.column >= 1, "\(error) in \(text)")
            }
        }
    }
}
