import Testing
import TextFormats

@Suite("TOML source positions")
struct TOMLPositionTests {
    static let text = """
        # comment line
        top = "x"
        [graph]
          rate   = 48000
        \t[ "driver" . timer ]
        note = \"\"\"
        two
        lines\"\"\"
        after = { "é" = 1, k = 2 } # é is one column
        [[node]]
        name = "n"
        """

    @Test("keys and values report the exact line and column where they start", arguments: [
        (["top"], at(2, 1), at(2, 7)),
        (["graph", "rate"], at(4, 3), at(4, 12)),
        (["driver", "timer", "note"], at(6, 1), at(6, 8)),
        (["driver", "timer", "after"], at(9, 1), at(9, 9)),
        (["driver", "timer", "after", "k"], at(9, 20), at(9, 24)),
    ])
    func entryPositions(path: [String], key: SourcePosition, value: SourcePosition) throws {
        let (root, errors) = TOML.parse(Self.text)
        #expect(errors == [])
        var table = root
        for name in path.dropLast() {
            table = try #require(table[name]?.value.tableValue)
        }
        let last = try #require(path.last)
        let entry = try #require(table[last])
        #expect(entry.keyPosition == key)
        #expect(entry.valuePosition == value)
    }

    @Test("headers give their table the position of the opening bracket")
    func headerPositions() throws {
        let (root, errors) = TOML.parse(Self.text)
        #expect(errors == [])
        #expect(root.position == at(1, 1))
        #expect(root["graph"]?.value.tableValue?.position == at(3, 1))
        let driver = try #require(root["driver"]?.value.tableValue)
        #expect(driver.position == at(5, 2))   // implicit: the header that created it
        #expect(driver["timer"]?.value.tableValue?.position == at(5, 2))
        #expect(driver["timer"]?.keyPosition == at(5, 15))
        #expect(root["node"]?.value.arrayValue?.first?.tableValue?.position == at(10, 1))
        #expect(root["node"]?.value.arrayValue?.first?.tableValue?["name"]?.keyPosition == at(11, 1))
    }

    @Test("description is line:column")
    func description() {
        #expect(at(12, 7).description == "12:7")
        #expect(TOMLError(position: at(3, 1), message: "bad").description == "3:1: bad")
    }
}
