import Testing
import TextFormats

@Suite("TOML example config")
struct TOMLExampleConfigTests {
    static let config = """
        # sluiced configuration
        [graph]
        rate = 48000
        quantum = 1024
        [realtime]
        priority = 80
        [driver]
        type = "timer"
        [[node]]
        type = "null-sink"
        name = "speakers"
        params = { channels = 2 }
        [[node]]
        type = "sine"
        name = "tone"
        params = { freq = 1000.0, amplitude = 0.5 }
        [[link]]
        from = "tone"
        to = "speakers"

        """

    @Test("the example sluiced config parses without errors into its sections")
    func sections() {
        let (table, errors) = TOML.parse(Self.config)
        #expect(errors == [])
        #expect(table.keys == ["graph", "realtime", "driver", "node", "link"])
        #expect(table.value(at: "graph", "rate") == .integer(48000))
        #expect(table.value(at: "graph", "quantum") == .integer(1024))
        #expect(table.value(at: "realtime", "priority") == .integer(80))
        #expect(table.value(at: "driver", "type") == .string("timer"))
        #expect(table["graph"]?.value.tableValue?.position == at(2, 1))
        #expect(table["driver"]?.value.tableValue?.position == at(7, 1))
    }

    @Test("the example's nodes are an array of two tables with their own params")
    func nodes() throws {
        let (table, _) = TOML.parse(Self.config)
        let nodes = try #require(table["node"]?.value.arrayValue)
        let expected = [
            TOMLValue.table(TOMLTable(position: at(9, 1), entries: [
                TOMLEntry(key: "type", value: .string("null-sink"), keyPosition: at(10, 1), valuePosition: at(10, 8)),
                TOMLEntry(key: "name", value: .string("speakers"), keyPosition: at(11, 1), valuePosition: at(11, 8)),
                TOMLEntry(key: "params", value: .table(TOMLTable(position: at(12, 10), entries: [
                    TOMLEntry(key: "channels", value: .integer(2), keyPosition: at(12, 12), valuePosition: at(12, 23)),
                ])), keyPosition: at(12, 1), valuePosition: at(12, 10)),
            ])),
            TOMLValue.table(TOMLTable(position: at(13, 1), entries: [
                TOMLEntry(key: "type", value: .string("sine"), keyPosition: at(14, 1), valuePosition: at(14, 8)),
                TOMLEntry(key: "name", value: .string("tone"), keyPosition: at(15, 1), valuePosition: at(15, 8)),
                TOMLEntry(key: "params", value: .table(TOMLTable(position: at(16, 10), entries: [
                    TOMLEntry(key: "freq", value: .float(1000), keyPosition: at(16, 12), valuePosition: at(16, 19)),
                    TOMLEntry(key: "amplitude", value: .float(0.5), keyPosition: at(16, 27), valuePosition: at(16, 39)),
                ])), keyPosition: at(16, 1), valuePosition: at(16, 10)),
            ])),
        ]
        #expect(nodes == expected)
    }

    @Test("the example's link is an array holding one table")
    func links() throws {
        let (table, _) = TOML.parse(Self.config)
        let links = try #require(table["link"]?.value.arrayValue)
        #expect(links.count == 1)
        let link = try #require(links.first?.tableValue)
        #expect(link.position == at(17, 1))
        #expect(link["from"]?.value == .string("tone"))
        #expect(link["to"]?.value == .string("speakers"))
    }
}
