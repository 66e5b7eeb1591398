/// A value read from a TOML document. Dates and times are not represented: the parser rejects them. [any]
public indirect enum TOMLValue: Equatable, Sendable {
    /// A basic, literal or multi-line string, escapes already resolved.
    case string(String)
    /// A decimal, hexadecimal, octal or binary integer.
    case integer(Int64)
    /// A floating-point number, including `inf` and `nan`.
    case float(Double)
    /// `true` or `false`.
    case boolean(Bool)
    /// A static array `[...]`, or the tables of an array of tables `[[name]]`.
    case array([TOMLValue])
    /// A table: a `[header]` section, a dotted-key group or an inline table `{ ... }`.
    case table(TOMLTable)

    /// The TOML name of this value's type ("string", "integer", "float", "boolean", "array", "table"), for error messages.
    public var typeName: String {
        switch self {
        case .string: "string"
        case .integer: "integer"
        case .float: "float"
        case .boolean: "boolean"
        case .array: "array"
        case .table: "table"
        }
    }
}
