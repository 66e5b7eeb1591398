/// A JSON value as the control socket sends and receives it; objects keep their key order. [any]
///
/// ```swift
/// let reply: JSONValue = ["ok": true, "nodes": [1, 2]]
/// reply.serialized()   // {"ok":true,"nodes":[1,2]}
/// ```
public indirect enum JSONValue: Equatable, Sendable {
    /// `null`.
    case null
    /// `true` or `false`.
    case bool(Bool)
    /// A number written without fraction or exponent that fits in 64 bits.
    case integer(Int64)
    /// Any other number; never NaN or infinite when parsed.
    case double(Double)
    /// A string, escapes resolved.
    case string(String)
    /// An array.
    case array([JSONValue])
    /// An object with its keys in order.
    case object(JSONObject)
}
