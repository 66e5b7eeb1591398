/// The pulse-native wire codec: the 20-byte frame descriptor and the tagstruct, every tag type.
/// Pure functions over byte buffers, bounds-checked: every length and count is checked against
/// the bytes present before use; malformed input throws `WireError`, never traps.
/// Reference: ../shared/reference/pulse-native-protocol.md; tests: Tests/PulseWireTests.
public struct WireError: Error, CustomStringConvertible {
    public let offset: Int
    public let message: String
    public init(offset: Int, message: String) {
        self.offset = offset
        self.message = message
    }
    public var description: String { "byte \(offset): \(message)" }
}

/// The 20-byte frame descriptor.
public struct FrameHeader: Equatable {
    public static let size = 20
    public static let controlChannel: UInt32 = 0xFFFF_FFFF
    public var length: UInt32
    public var channel: UInt32
    public var offset: Int64
    public var flags: UInt32

    public init(length: UInt32, channel: UInt32, offset: Int64 = 0, flags: UInt32 = 0) {
        self.length = length
        self.channel = channel
        self.offset = offset
        self.flags = flags
    }

    /// Decodes a descriptor from exactly `size` bytes (callers check the count first).
    public init(_ b: ArraySlice<UInt8>) {
        precondition(b.count >= Self.size, "a frame descriptor is 20 bytes")
        func u32(_ i: Int) -> UInt32 {
            let s = b.startIndex + i
            return UInt32(b[s]) << 24 | UInt32(b[s + 1]) << 16 | UInt32(b[s + 2]) << 8 | UInt32(b[s + 3])
        }
        length = u32(0)
        channel = u32(4)
        offset = Int64(bitPattern: UInt64(u32(8)) << 32 | UInt64(u32(12)))
        flags = u32(16)
    }

    public func encode(into out: inout [UInt8]) {
        for v in [length, channel, UInt32(truncatingIfNeeded: UInt64(bitPattern: offset) >> 32),
                  UInt32(truncatingIfNeeded: UInt64(bitPattern: offset)), flags] {
            out.append(UInt8(v >> 24)); out.append(UInt8((v >> 16) & 0xFF)); out.append(UInt8((v >> 8) & 0xFF)); out.append(UInt8(v & 0xFF))
        }
    }
}

/// Sample spec as on the wire.
public struct WireSampleSpec: Equatable {
    public var format: UInt8
    public var channels: UInt8
    public var rate: UInt32
    public init(format: UInt8, channels: UInt8, rate: UInt32) {
        self.format = format
        self.channels = channels
        self.rate = rate
    }
}

/// Reads tagstruct items from one packet's payload.
public struct WireReader {
    private let bytes: [UInt8]
    public private(set) var offset = 0
    public static let maxString = 64 * 1024
    public static let maxArbitrary = 16 * 1024 * 1024

    public init(_ bytes: [UInt8]) { self.bytes = bytes }

    public var isAtEnd: Bool { offset >= bytes.count }

    private mutating func tag(_ expected: UInt8) throws(WireError) {
        guard offset < bytes.count else { throw WireError(offset: offset, message: "truncated: expected tag '\(Character(Unicode.Scalar(expected)))'") }
        guard bytes[offset] == expected else {
            throw WireError(offset: offset, message: "expected tag '\(Character(Unicode.Scalar(expected)))', found 0x\(String(bytes[offset], radix: 16))")
        }
        offset += 1
    }

    private mutating func raw(_ n: Int) throws(WireError) -> ArraySlice<UInt8> {
        guard n >= 0, bytes.count - offset >= n else { throw WireError(offset: offset, message: "truncated: need \(n) bytes") }
        defer { offset += n }
        return bytes[offset..<(offset + n)]
    }

    private mutating func rawU32() throws(WireError) -> UInt32 {
        let s = try raw(4)
        return s.reduce(0) { $0 << 8 | UInt32($1) }
    }

    public mutating func u32() throws(WireError) -> UInt32 { try tag(0x4C); return try rawU32() }
    public mutating func u8() throws(WireError) -> UInt8 { try tag(0x42); return try raw(1).first! }
    public mutating func u64() throws(WireError) -> UInt64 { try tag(0x52); return UInt64(try rawU32()) << 32 | UInt64(try rawU32()) }
    public mutating func s64() throws(WireError) -> Int64 { try tag(0x72); return Int64(bitPattern: UInt64(try rawU32()) << 32 | UInt64(try rawU32())) }
    public mutating func usec() throws(WireError) -> UInt64 { try tag(0x55); return UInt64(try rawU32()) << 32 | UInt64(try rawU32()) }
    public mutating func volume() throws(WireError) -> UInt32 { try tag(0x56); return try rawU32() }

    public mutating func bool() throws(WireError) -> Bool {
        guard offset < bytes.count else { throw WireError(offset: offset, message: "truncated: expected a boolean") }
        switch bytes[offset] {
        case 0x31: offset += 1; return true
        case 0x30: offset += 1; return false
        default: throw WireError(offset: offset, message: "expected a boolean tag")
        }
    }

    /// A string, or nil for the null string.
    public mutating func string() throws(WireError) -> String? {
        guard offset < bytes.count else { throw WireError(offset: offset, message: "truncated: expected a string") }
        if bytes[offset] == 0x4E { offset += 1; return nil }
        try tag(0x74)
        guard let end = bytes[offset...].prefix(Self.maxString + 1).firstIndex(of: 0) else {
            throw WireError(offset: offset, message: "string without terminator within \(Self.maxString) bytes")
        }
        defer { offset = end + 1 }
        return String(decoding: bytes[offset..<end], as: UTF8.self)
    }

    public mutating func arbitrary() throws(WireError) -> [UInt8] {
        try tag(0x78)
        let n = Int(try rawU32())
        guard n <= Self.maxArbitrary else { throw WireError(offset: offset, message: "arbitrary of \(n) bytes exceeds the limit") }
        return Array(try raw(n))
    }

    public mutating func timeval() throws(WireError) -> (seconds: UInt32, micros: UInt32) {
        try tag(0x54)
        return (try rawU32(), try rawU32())
    }

    public mutating func sampleSpec() throws(WireError) -> WireSampleSpec {
        try tag(0x61)
        let s = try raw(2)
        return WireSampleSpec(format: s[s.startIndex], channels: s[s.startIndex + 1], rate: try rawU32())
    }

    public mutating func channelMap() throws(WireError) -> [UInt8] {
        try tag(0x6D)
        let n = Int(try raw(1).first!)
        guard n <= 32 else { throw WireError(offset: offset, message: "channel map of \(n) channels (max 32)") }
        return Array(try raw(n))
    }

    public mutating func cvolume() throws(WireError) -> [UInt32] {
        try tag(0x76)
        let n = Int(try raw(1).first!)
        guard n <= 32 else { throw WireError(offset: offset, message: "cvolume of \(n) channels (max 32)") }
        var out: [UInt32] = []
        for _ in 0..<n { out.append(try rawU32()) }
        return out
    }

    public mutating func proplist() throws(WireError) -> [(String, [UInt8])] {
        try tag(0x50)
        var out: [(String, [UInt8])] = []
        while true {
            guard let key = try string() else { return out }
            guard out.count < 1024 else { throw WireError(offset: offset, message: "proplist with more than 1024 entries") }
            let n = try u32()
            let value = try arbitrary()
            guard value.count == Int(n) else { throw WireError(offset: offset, message: "proplist value length mismatch") }
            out.append((key, value))
        }
    }

    /// Format info: encoding then proplist.
    public mutating func formatInfo() throws(WireError) -> (encoding: UInt8, properties: [(String, [UInt8])]) {
        try tag(0x66)
        return (try u8(), try proplist())
    }
}

/// Appends tagstruct items to a packet.
public struct WireWriter {
    public private(set) var bytes: [UInt8] = []

    public init(command: UInt32, tag: UInt32) {
        u32(command)
        u32(tag)
    }

    private mutating func rawU32(_ v: UInt32) {
        bytes.append(UInt8(v >> 24)); bytes.append(UInt8((v >> 16) & 0xFF)); bytes.append(UInt8((v >> 8) & 0xFF)); bytes.append(UInt8(v & 0xFF))
    }
    public mutating func u32(_ v: UInt32) { bytes.append(0x4C); rawU32(v) }
    public mutating func u8(_ v: UInt8) { bytes.append(0x42); bytes.append(v) }
    public mutating func u64(_ v: UInt64) { bytes.append(0x52); rawU32(UInt32(v >> 32)); rawU32(UInt32(v & 0xFFFF_FFFF)) }
    public mutating func s64(_ v: Int64) { bytes.append(0x72); let u = UInt64(bitPattern: v); rawU32(UInt32(u >> 32)); rawU32(UInt32(u & 0xFFFF_FFFF)) }
    public mutating func usec(_ v: UInt64) { bytes.append(0x55); rawU32(UInt32(v >> 32)); rawU32(UInt32(v & 0xFFFF_FFFF)) }
    public mutating func volume(_ v: UInt32) { bytes.append(0x56); rawU32(v) }
    public mutating func bool(_ v: Bool) { bytes.append(v ? 0x31 : 0x30) }
    public mutating func string(_ s: String?) {
        guard let s else { bytes.append(0x4E); return }
        bytes.append(0x74)
        bytes.append(contentsOf: s.utf8.filter { $0 != 0 })
        bytes.append(0)
    }
    public mutating func arbitrary(_ b: [UInt8]) { bytes.append(0x78); rawU32(UInt32(b.count)); bytes.append(contentsOf: b) }
    public mutating func timeval(seconds: UInt32, micros: UInt32) { bytes.append(0x54); rawU32(seconds); rawU32(micros) }
    public mutating func sampleSpec(_ s: WireSampleSpec) { bytes.append(0x61); bytes.append(s.format); bytes.append(s.channels); rawU32(s.rate) }
    public mutating func channelMap(_ m: [UInt8]) { bytes.append(0x6D); bytes.append(UInt8(m.count)); bytes.append(contentsOf: m) }
    public mutating func cvolume(_ v: [UInt32]) { bytes.append(0x76); bytes.append(UInt8(v.count)); for x in v { rawU32(x) } }
    public mutating func proplist(_ p: [(String, [UInt8])]) {
        bytes.append(0x50)
        for (k, v) in p {
            string(k)
            u32(UInt32(v.count))
            arbitrary(v)
        }
        string(nil)
    }
    public mutating func formatInfo(encoding: UInt8, properties: [(String, [UInt8])]) {
        bytes.append(0x66)
        u8(encoding)
        proplist(properties)
    }

    /// The packet as a complete frame (descriptor + payload).
    public var frame: [UInt8] {
        var out: [UInt8] = []
        out.reserveCapacity(FrameHeader.size + bytes.count)
        FrameHeader(length: UInt32(bytes.count), channel: FrameHeader.controlChannel).encode(into: &out)
        out.append(contentsOf: bytes)
        return out
    }
}

/// Proplist helpers: string values carry their NUL.
public enum Props {
    public static func string(_ s: String) -> [UInt8] { Array(s.utf8) + [0] }
    public static func value(_ props: [(String, [UInt8])], _ key: String) -> String? {
        guard let v = props.last(where: { $0.0 == key })?.1 else { return nil }
        return String(decoding: v.last == 0 ? v.dropLast() : v[...], as: UTF8.self)
    }
}

/// Reads raw big-endian u32s from a fixed-size payload whose length the caller checked.
public struct WireReaderRaw {
    private let bytes: [UInt8]
    private var offset = 0
    public init(_ bytes: [UInt8]) { self.bytes = bytes }
    public mutating func u32() -> UInt32 {
        guard offset + 4 <= bytes.count else { return 0 }
        defer { offset += 4 }
        return bytes[offset..<(offset + 4)].reduce(0) { $0 << 8 | UInt32($1) }
    }
}
