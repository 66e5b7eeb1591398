/// A JSON object: (key, value) pairs in insertion order, keys unique. [any]
///
/// Equality compares keys, values and order. Lookup is linear; control messages are small.
public struct JSONObject: Equatable, Sendable, Sequence {
    /// One member of the object.
    public typealias Element = (key: String, value: JSONValue)

    private var pairs: [Element] = []

    /// Creates an empty object.
    public init() {}

    /// Creates an object from pairs in order; a repeated key keeps its first place and its last value.
    public init(_ pairs: [(String, JSONValue)]) {
        for (key, value) in pairs { self[key] = value }
    }

    /// The value for `key`, or nil. Setting replaces in place or appends; setting `nil` removes the key
    /// (use `.null` to store a JSON null).
    public subscript(key: String) -> JSONValue? {
        get { pairs.first { $0.key == key }?.value }
        set {
            let index = pairs.firstIndex { $0.key == key }
            switch (index, newValue) {
            case let (index?, value?): pairs[index].value = value
            case let (index?, nil): pairs.remove(at: index)
            case let (nil, value?): pairs.append((key: key, value: value))
            case (nil, nil): break
            }
        }
    }

    /// Appends without looking for `key`; the caller has checked it is new (the parser, with a set).
    mutating func appendNewMember(key: String, value: JSONValue) {
        pairs.append((key: key, value: value))
    }

    /// The keys in order.
    public var keys: [String] { pairs.map(\.key) }

    /// The number of members.
    public var count: Int { pairs.count }

    /// True when the object has no members.
    public var isEmpty: Bool { pairs.isEmpty }

    /// Iterates the members in order.
    public func makeIterator() -> IndexingIterator<[Element]> { pairs.makeIterator() }

    /// Same keys with equal values in the same order.
    public static func == (lhs: JSONObject, rhs: JSONObject) -> Bool {
        lhs.pairs.count == rhs.pairs.count
            && zip(lhs.pairs, rhs.pairs).allSatisfy { $0.key == $1.key && $0.value == $1.value }
    }
}
