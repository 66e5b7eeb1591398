import Testing
import TextFormats

@Suite("TOML values")
struct TOMLValueTests {
    @Test("each scalar value kind parses to the expected value", arguments: [
        (#""hello""#, TOMLValue.string("hello")),
        (#""""#, .string("")),
        (#""quote \" backslash \\ tab \t newline \n""#, .string("quote \" backslash \\ tab \t newline \n")),
        (#""\b\f\r""#, .string("\u{08}\u{0C}\r")),
        (#""caf\u00e9 \U0001F600""#, .string("café 😀")),
        (#""raw café""#, .string("raw café")),
        (#"'C:\Users\no\escapes'"#, .string(#"C:\Users\no\escapes"#)),
        ("42", .integer(42)),
        ("+17", .integer(17)),
        ("-5", .integer(-5)),
        ("0", .integer(0)),
        ("-0", .integer(0)),
        ("1_000_000", .integer(1_000_000)),
        ("0xDEAD_beef", .integer(0xDEAD_BEEF)),
        ("0x7FFFFFFFFFFFFFFF", .integer(Int64.max)),
        ("0o755", .integer(0o755)),
        ("0b1010", .integer(10)),
        ("9223372036854775807", .integer(Int64.max)),
        ("-9223372036854775808", .integer(Int64.min)),
        ("3.14", .float(3.14)),
        ("-0.5", .float(-0.5)),
        ("1e6", .float(1e6)),
        ("1E+2", .float(100)),
        ("6.626e-34", .float(6.626e-34)),
        ("1_000.000_5", .float(1000.0005)),
        ("inf", .float(.infinity)),
        ("+inf", .float(.infinity)),
        ("-inf", .float(-.infinity)),
        ("true", .boolean(true)),
        ("false", .boolean(false)),
    ])
    func scalarValue(text: String, expected: TOMLValue) {
        #expect(parseSingleValue(text) == expected)
    }

    @Test("nan parses to a float that is not a number", arguments: ["nan", "+nan", "-nan"])
    func notANumber(text: String) throws {
        let value = try #require(parseSingleValue(text))
        guard case .float(let number) = value else {
            Issue.record("expected a float, got \(value)")
            return
        }
        #expect(number.isNaN)
    }

    @Test("negative zero keeps its sign")
    func negativeZero() throws {
        let value = try #require(parseSingleValue("-0.0"))
        guard case .float(let number) = value else {
            Issue.record("expected a float, got \(value)")
            return
        }
        #expect(number == 0 && number.sign == .minus)
    }

    @Test("arrays hold values of any kind, including nested arrays", arguments: [
        ("[1, 2, 3]", TOMLValue.array([.integer(1), .integer(2), .integer(3)])),
        ("[ ]", .array([])),
        ("[1, \"two\", 3.0, [true]]", .array([.integer(1), .string("two"), .float(3), .array([.boolean(true)])])),
        ("[ [1, 2], ['a'] ]", .array([.array([.integer(1), .integer(2)]), .array([.string("a")])])),
        ("[1,2,]", .array([.integer(1), .integer(2)])),
    ])
    func arrays(text: String, expected: TOMLValue) {
        #expect(parseSingleValue(text) == expected)
    }

    @Test("a multi-line array may have comments, blank lines and a trailing comma")
    func multilineArray() {
        let text = """
            v = [
              1, # one

              2,
              # a whole-line comment
              3,
            ]
            w = 4
            """
        let (table, errors) = TOML.parse(text)
        #expect(errors == [])
        #expect(table["v"]?.value == .array([.integer(1), .integer(2), .integer(3)]))
        #expect(table["w"]?.value == .integer(4))
        #expect(table["w"]?.keyPosition == at(8, 1))
    }

    @Test("multi-line strings follow the TOML trimming rules", arguments: [
        ("\"\"\"\nline one\nline two\"\"\"", "line one\nline two"),
        ("\"\"\"no leading newline\"\"\"", "no leading newline"),
        ("\"\"\"\nThe quick \\\n    brown \\\n\n    fox\"\"\"", "The quick brown fox"),
        ("\"\"\"tab\\there \\u00e9\"\"\"", "tab\there é"),
        ("\"\"\"one \"quoted\" word\"\"\"", "one \"quoted\" word"),
        ("\"\"\"ends with quotes\"\"\"\"\"", "ends with quotes\"\""),
        ("\"\"\"\r\nwindows\r\nlines\"\"\"", "windows\nlines"),
        ("'''\nraw \\n stays\n'''", "raw \\n stays\n"),
        ("'''it's'''", "it's"),
    ])
    func multilineStrings(text: String, expected: String) {
        #expect(parseSingleValue(text) == .string(expected))
    }

    @Test("an inline table keeps its keys in order and records where its brace is")
    func inlineTable() throws {
        let (table, errors) = TOML.parse(#"params = { channels = 2, name = "x", gain.db = -3.5 }"#)
        #expect(errors == [])
        let params = try #require(table["params"]?.value.tableValue)
        #expect(params.position == at(1, 10))
        #expect(params.keys == ["channels", "name", "gain"])
        #expect(params["channels"]?.value == .integer(2))
        #expect(params["channels"]?.keyPosition == at(1, 12))
        #expect(params["channels"]?.valuePosition == at(1, 23))
        #expect(params["name"]?.value == .string("x"))
        #expect(params.value(at: "gain", "db") == .float(-3.5))
    }

    @Test("an empty inline table is an empty table")
    func emptyInlineTable() {
        #expect(parseSingleValue("{}")?.tableValue?.entries == [])
    }

    @Test("bare, quoted and literal keys name the same kind of entry")
    func keyForms() {
        let text = """
            bare-key_1 = 1
            "quoted key" = 2
            'literal "key"' = 3
            "" = 4
            site."example.com" = true
            """
        let (table, errors) = TOML.parse(text)
        #expect(errors == [])
        #expect(table.keys == ["bare-key_1", "quoted key", "literal \"key\"", "", "site"])
        #expect(table.value(at: "site", "example.com") == .boolean(true))
    }

    @Test("dotted keys build nested tables that later dotted keys extend")
    func dottedKeys() throws {
        let text = """
            a.b = 1
            a . c = "two"
            a.d.e = 3
            """
        let (table, errors) = TOML.parse(text)
        #expect(errors == [])
        let a = try #require(table["a"]?.value.tableValue)
        #expect(a.keys == ["b", "c", "d"])
        #expect(a.position == at(1, 1))
        #expect(table.value(at: "a", "c") == .string("two"))
        #expect(table.value(at: "a", "d", "e") == .integer(3))
    }

    @Test("a header path creates the tables above it, which a later header may still define")
    func implicitTables() throws {
        let text = """
            [a.b.c]
            x = 1
            [a]
            y = 2
            [a.b.d]
            z = 3
            """
        let (table, errors) = TOML.parse(text)
        #expect(errors == [])
        let a = try #require(table["a"]?.value.tableValue)
        #expect(a.position == at(3, 1))
        #expect(a.keys == ["b", "y"])
        #expect(table.value(at: "a", "b", "c", "x") == .integer(1))
        #expect(table.value(at: "a", "b", "d", "z") == .integer(3))
    }

    @Test("a header can add a sub-table to a table that dotted keys created")
    func headerBelowDottedTable() {
        let text = """
            [fruit]
            apple.color = "red"
            [fruit.apple.texture]
            smooth = true
            """
        let (table, errors) = TOML.parse(text)
        #expect(errors == [])
        #expect(table.value(at: "fruit", "apple", "color") == .string("red"))
        #expect(table.value(at: "fruit", "apple", "texture", "smooth") == .boolean(true))
    }

    @Test("arrays of tables collect one table per header, and sub-headers go into the newest one")
    func arrayOfTables() throws {
        let text = """
            [[node]]
            name = "a"
            [node.params]
            gain = 1
            [[node]]
            name = "b"
            """
        let (table, errors) = TOML.parse(text)
        #expect(errors == [])
        let nodes = try #require(table["node"]?.value.arrayValue)
        #expect(nodes.count == 2)
        let first = try #require(nodes.first?.tableValue)
        let second = try #require(nodes.last?.tableValue)
        #expect(first.position == at(1, 1))
        #expect(second.position == at(5, 1))
        #expect(first["name"]?.value == .string("a"))
        #expect(first.value(at: "params", "gain") == .integer(1))
        #expect(second.keys == ["name"])
        #expect(table["node"]?.keyPosition == at(1, 3))
        #expect(table["node"]?.valuePosition == at(1, 1))
    }

    @Test("a byte-order mark at the start is ignored and does not shift columns")
    func byteOrderMark() {
        let (table, errors) = TOML.parse("\u{FEFF}a = 1")
        #expect(errors == [])
        #expect(table["a"]?.keyPosition == at(1, 1))
    }

    @Test("comments and CRLF line endings are accepted")
    func commentsAndCRLF() {
        let (table, errors) = TOML.parse("# top\r\na = 1 # trailing\r\n\r\nb = 2\r\n")
        #expect(errors == [])
        #expect(table["a"]?.value == .integer(1))
        #expect(table["b"]?.keyPosition == at(4, 1))
    }

    @Test("typeName names each value kind", arguments: [
        (TOMLValue.string(""), "string"), (.integer(0), "integer"), (.float(0), "float"),
        (.boolean(false), "boolean"), (.array([]), "array"), (.table(TOMLTable()), "table"),
    ])
    func typeNames(value: TOMLValue, name: String) {
        #expect(value.typeName == name)
    }
}
