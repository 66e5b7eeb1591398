import Testing
import TextFormats

@Suite("JSON values and objects")
struct JSONValueTests {
    @Test("literals build the matching cases and dictionary literals keep their order")
    func literals() {
        let value: JSONValue = ["s": "x", "i": 3, "d": 1.5, "b": false, "a": [1, "two"], "n": nil, "o": ["z": 1, "y": 2]]
        let expected = JSONValue.object(JSONObject([
            ("s", .string("x")), ("i", .integer(3)), ("d", .double(1.5)), ("b", .bool(false)),
            ("a", .array([.integer(1), .string("two")])), ("n", .null),
            ("o", .object(JSONObject([("z", .integer(1)), ("y", .integer(2))]))),
        ]))
        #expect(value == expected)
        #expect(value.objectValue?.keys == ["s", "i", "d", "b", "a", "n", "o"])
        #expect(value["o"]?.objectValue?.keys == ["z", "y"])
    }

    @Test("accessors return the payload only for the matching kind", arguments: [
        (JSONValue.string("x"), "string"), (.integer(2), "integer"), (.double(2.0), "integral double"),
        (.double(2.5), "double"), (.bool(true), "bool"), (.array([]), "array"), (.object(JSONObject()), "object"), (.null, "null"),
    ])
    func accessors(value: JSONValue, kind: String) {
        #expect((value.stringValue != nil) == (kind == "string"))
        #expect((value.intValue != nil) == (kind == "integer" || kind == "integral double"))
        #expect((value.doubleValue != nil) == (kind == "integer" || kind.hasSuffix("double")))
        #expect((value.boolValue != nil) == (kind == "bool"))
        #expect((value.arrayValue != nil) == (kind == "array"))
        #expect((value.objectValue != nil) == (kind == "object"))
        #expect(value.isNull == (kind == "null"))
    }

    @Test("intValue converts only integral doubles that fit in Int64", arguments: [
        (JSONValue.double(2.0), Int64?.some(2)), (.double(-0.0), 0), (.double(2.5), nil),
        (.double(1e19), nil), (.double(-9_223_372_036_854_775_808.0), Int64.min), (.integer(Int64.max), Int64.max),
    ])
    func intValue(value: JSONValue, expected: Int64?) {
        #expect(value.intValue == expected)
    }

    @Test("doubleValue widens integers")
    func doubleValue() {
        #expect(JSONValue.integer(-3).doubleValue == -3.0)
        #expect(JSONValue.string("3").doubleValue == nil)
    }

    @Test("subscripting a value by key reads object members and is nil for anything else")
    func valueSubscript() {
        let value: JSONValue = ["reply": ["ok": true]]
        #expect(value["reply"]?["ok"] == .bool(true))
        #expect(value["missing"] == nil)
        #expect(JSONValue.array([1])["reply"] == nil)
    }

    @Test("setting a member replaces in place, appends new keys, and nil removes")
    func objectMutation() {
        var object = JSONObject([("a", 1), ("b", 2)])
        object["a"] = "one"
        object["c"] = .null
        object["b"] = nil
        object["missing"] = nil
        #expect(object.keys == ["a", "c"])
        #expect(object["a"] == .string("one"))
        #expect(object["c"] == .null)
        #expect(object.count == 2)
        #expect(Array(object.map(\.key)) == ["a", "c"])
    }

    @Test("a repeated key in the pairs initializer keeps its first place and last value")
    func repeatedKeyInInit() {
        let object = JSONObject([("a", 1), ("b", 2), ("a", 3)])
        #expect(object.keys == ["a", "b"])
        #expect(object["a"] == .integer(3))
    }

    @Test("object equality compares order as well as members")
    func objectEqualityIsOrdered() {
        #expect(JSONObject([("a", 1), ("b", 2)]) == JSONObject([("a", 1), ("b", 2)]))
        #expect(JSONObject([("a", 1), ("b", 2)]) != JSONObject([("b", 2), ("a", 1)]))
        #expect(JSONObject([("a", 1)]) != JSONObject([("a", 2)]))
        #expect(JSONObject() == JSONObject([]))
    }
}
