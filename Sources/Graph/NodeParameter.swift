/// A parameter as introspection shows it: name, current value as text, and what it accepts.
public struct NodeParameter: Sendable, Equatable {
    public let name: String
    public let value: String
    public let help: String
    public init(name: String, value: String, help: String) {
        self.name = name
        self.value = value
        self.help = help
    }
}

/// Parsing helpers for node parameters given as text (CLI, config).
public enum ParameterParse {
    /// A finite number in `range`, or an `invalidParameter` error naming the node and parameter.
    public static func number(_ text: String, node: String, parameter: String, in range: ClosedRange<Double>) throws(GraphError) -> Double {
        guard let v = Double(text), v.isFinite, range.contains(v) else {
            throw .invalidParameter(node: node, parameter: parameter, value: text,
                                    expected: "a number from \(trim(range.lowerBound)) to \(trim(range.upperBound))")
        }
        return v
    }

    /// An integer in `range`.
    public static func integer(_ text: String, node: String, parameter: String, in range: ClosedRange<Int>) throws(GraphError) -> Int {
        guard let v = Int(text), range.contains(v) else {
            throw .invalidParameter(node: node, parameter: parameter, value: text,
                                    expected: "an integer from \(range.lowerBound) to \(range.upperBound)")
        }
        return v
    }

    /// true/false, yes/no, on/off, 1/0.
    public static func boolean(_ text: String, node: String, parameter: String) throws(GraphError) -> Bool {
        switch text.lowercased() {
        case "true", "yes", "on", "1": return true
        case "false", "no", "off", "0": return false
        default: throw .invalidParameter(node: node, parameter: parameter, value: text, expected: "true or false")
        }
    }

    /// A number printed without a trailing ".0" when integral.
    public static func trim(_ v: Double) -> String {
        if v == v.rounded(), abs(v) < 1e15 { return String(Int64(v)) }
        return String(v)
    }
}
