import Foundation
import PulseWire
import Testing
import TestSupport

// Table-driven tests of the wire codec against real PulseAudio 16.1 sessions
// (Fixtures/*.txt, copied from the reference captures; format in their header lines).

/// One frame of a capture: direction, descriptor, payload bytes, and the capture's annotation.
struct CapturedFrame {
    var sequence: Int
    var fromClient: Bool
    var header: FrameHeader
    var payload: [UInt8]
    /// "AUTH(8) tag=0 | …" for control packets.
    var decoded: String?

    var isControl: Bool { header.channel == FrameHeader.controlChannel }
    /// The full frame as it crossed the socket.
    var bytes: [UInt8] {
        var out: [UInt8] = []
        header.encode(into: &out)
        return out + payload
    }
}

enum Captures {
    static let directory = Bundle.module.resourceURL!.appendingPathComponent("Fixtures")
    static let names: [String] = ((try? FileManager.default.contentsOfDirectory(atPath: directory.path)) ?? [])
        .filter { $0.hasSuffix(".txt") }.sorted()

    static func hex(_ s: Substring) -> [UInt8] {
        var out: [UInt8] = []
        out.reserveCapacity(s.count / 2)
        var i = s.startIndex
        while i < s.endIndex, let j = s.index(i, offsetBy: 2, limitedBy: s.endIndex) {
            out.append(UInt8(s[i..<j], radix: 16)!)
            i = j
        }
        return out
    }

    /// Parses a capture file into its frames.
    static func frames(_ name: String) throws -> [CapturedFrame] {
        let text = try String(contentsOf: directory.appendingPathComponent(name), encoding: .utf8)
        var frames: [CapturedFrame] = []
        for line in text.split(separator: "\n") {
            if line.hasPrefix("#"), let sp = line.firstIndex(of: " "), let seq = Int(line[line.index(after: line.startIndex)..<sp]) {
                let fields = line.split(separator: " ")
                func field(_ key: String) -> Substring? { fields.first { $0.hasPrefix(key + "=") }?.dropFirst(key.count + 1) }
                guard let len = field("len").flatMap({ UInt32($0) }), let ch = field("ch"), let off = field("off").flatMap({ Int64($0) }),
                      let flags = field("flags").flatMap({ UInt32($0.dropFirst(2), radix: 16) }) else { continue }
                let channel = ch == "ctl" ? FrameHeader.controlChannel : UInt32(ch)!
                frames.append(CapturedFrame(sequence: seq, fromClient: fields.contains("C>S"),
                                            header: FrameHeader(length: len, channel: channel, offset: off, flags: flags), payload: []))
            } else if line.hasPrefix("  hex: "), !frames.isEmpty {
                frames[frames.count - 1].payload = hex(line.dropFirst(7))
            } else if line.hasPrefix("  dec: "), !frames.isEmpty {
                frames[frames.count - 1].decoded = String(line.dropFirst(7))
            }
        }
        return frames
    }

    /// Control-channel packets (tagstructs). SHMRELEASE/SHMREVOKE frames share the channel but
    /// carry no payload: their flags say so, and the block id travels in the offset field.
    static func controlFrames(_ name: String) throws -> [CapturedFrame] {
        try frames(name).filter { $0.isControl && $0.header.flags & 0xC000_0000 == 0 }
    }
}

/// Every tagstruct value the codec knows, for generic decoding and re-encoding.
enum WireValue: Equatable {
    case u32(UInt32), u8(UInt8), u64(UInt64), s64(Int64), usec(UInt64), volume(UInt32), bool(Bool)
    case string(String?), arbitrary([UInt8]), timeval(UInt32, UInt32), sampleSpec(WireSampleSpec)
    case channelMap([UInt8]), cvolume([UInt32]), proplist([String: [UInt8]], order: [String])
    case formatInfo(UInt8, [String: [UInt8]], order: [String])

    /// Reads one value of whatever type the next tag announces.
    static func read(_ r: inout WireReader, _ bytes: [UInt8]) throws -> WireValue {
        guard r.offset < bytes.count else { throw WireError(offset: r.offset, message: "no more values") }
        switch bytes[r.offset] {
        case 0x4C: return .u32(try r.u32())
        case 0x42: return .u8(try r.u8())
        case 0x52: return .u64(try r.u64())
        case 0x72: return .s64(try r.s64())
        case 0x55: return .usec(try r.usec())
        case 0x56: return .volume(try r.volume())
        case 0x30, 0x31: return .bool(try r.bool())
        case 0x74, 0x4E: return .string(try r.string())
        case 0x78: return .arbitrary(try r.arbitrary())
        case 0x54: let t = try r.timeval(); return .timeval(t.seconds, t.micros)
        case 0x61: return .sampleSpec(try r.sampleSpec())
        case 0x6D: return .channelMap(try r.channelMap())
        case 0x76: return .cvolume(try r.cvolume())
        case 0x50:
            let p = try r.proplist()
            return .proplist(Dictionary(p, uniquingKeysWith: { a, _ in a }), order: p.map(\.0))
        case 0x66:
            let f = try r.formatInfo()
            return .formatInfo(f.encoding, Dictionary(f.properties, uniquingKeysWith: { a, _ in a }), order: f.properties.map(\.0))
        default: throw WireError(offset: r.offset, message: "unknown tag 0x\(String(bytes[r.offset], radix: 16))")
        }
    }

    /// Decodes a whole control payload: every value to the end.
    static func decodeAll(_ payload: [UInt8]) throws -> [WireValue] {
        var r = WireReader(payload)
        var out: [WireValue] = []
        while !r.isAtEnd { out.append(try read(&r, payload)) }
        return out
    }

    func write(_ w: inout WireWriter) {
        switch self {
        case .u32(let v): w.u32(v)
        case .u8(let v): w.u8(v)
        case .u64(let v): w.u64(v)
        case .s64(let v): w.s64(v)
        case .usec(let v): w.usec(v)
        case .volume(let v): w.volume(v)
        case .bool(let v): w.bool(v)
        case .string(let s): w.string(s)
        case .arbitrary(let b): w.arbitrary(b)
        case .timeval(let s, let u): w.timeval(seconds: s, micros: u)
        case .sampleSpec(let s): w.sampleSpec(s)
        case .channelMap(let m): w.channelMap(m)
        case .cvolume(let v): w.cvolume(v)
        case .proplist(let d, let order): w.proplist(order.map { ($0, d[$0]!) })
        case .formatInfo(let e, let d, let order): w.formatInfo(encoding: e, properties: order.map { ($0, d[$0]!) })
        }
    }

    /// Re-encodes values (the first two, command and tag, through WireWriter's own header).
    static func encode(_ values: [WireValue]) -> [UInt8]? {
        guard values.count >= 2, case .u32(let command) = values[0], case .u32(let tag) = values[1] else { return nil }
        var w = WireWriter(command: command, tag: tag)
        for v in values.dropFirst(2) { v.write(&w) }
        return w.bytes
    }
}

@Suite("the wire codec against real PulseAudio 16.1 sessions")
struct CaptureVectorTests {
    @Test("the fixtures are there", arguments: [0])
    func fixturesPresent(_: Int) throws {
        #expect(Captures.names.count >= 30, "\(Captures.names)")
    }

    @Test("every control frame decodes to its end, matches the capture's annotation, and re-encodes to the same bytes",
          arguments: Captures.names)
    func controlFramesRoundTrip(_ name: String) throws {
        let frames = try Captures.controlFrames(name)
        #expect(!frames.isEmpty)
        for f in frames {
            #expect(Int(f.header.length) == f.payload.count, "\(name) #\(f.sequence): descriptor length vs payload")
            // The descriptor itself round-trips.
            #expect(FrameHeader(f.bytes[0..<20]) == f.header)
            let values = try WireValue.decodeAll(f.payload)
            guard case .u32(let command) = values.first, case .u32(let tag) = values.dropFirst().first else {
                Issue.record("\(name) #\(f.sequence): no command and tag"); continue
            }
            if let dec = f.decoded, let open = dec.firstIndex(of: "("), let close = dec.firstIndex(of: ")") {
                #expect(UInt32(dec[dec.index(after: open)..<close]) == command, "\(name) #\(f.sequence): \(dec)")
                let tagText = dec.split(separator: " ").first { $0.hasPrefix("tag=") }?.dropFirst(4)
                if let tagText, let t = UInt32(tagText) { #expect(t == tag, "\(name) #\(f.sequence)") }
            }
            #expect(WireValue.encode(values) == f.payload, "\(name) #\(f.sequence): re-encoding differs")
        }
    }

    @Test("SHMRELEASE frames: no payload, the block id in the offset field, the descriptor round-trips")
    func shmRelease() throws {
        let releases = try Captures.frames("memfd-nosrb-parec.txt").filter { $0.isControl && $0.header.flags == 0x4000_0000 }
        #expect(!releases.isEmpty)
        for f in releases {
            #expect(f.header.length == 0 && f.payload.isEmpty)
            #expect(FrameHeader(f.bytes[0..<20]) == f.header)
            #expect(f.header.offset >> 32 == 13_568 && f.header.offset & 0xFFFF_FFFF == 0)   // "block_id=13568" in the capture
        }
    }

    @Test("known values from the sessions: the protocol version, a stream's sample spec and proplist, the server's name")
    func knownValues() throws {
        let pacat = try Captures.controlFrames("noshm-pacat-playback.txt")
        let auth = try WireValue.decodeAll(pacat[0].payload)
        #expect(auth[0] == .u32(8) && auth[2] == .u32(35))
        guard case .arbitrary(let cookie) = auth[3] else { Issue.record("AUTH without a cookie"); return }
        #expect(cookie.count == 256)
        let create = try #require(pacat.first { $0.decoded?.hasPrefix("CREATE_PLAYBACK_STREAM(3)") == true })
        let c = try WireValue.decodeAll(create.payload)
        #expect(c[2] == .sampleSpec(WireSampleSpec(format: 3, channels: 2, rate: 48_000)))   // S16LE
        #expect(c[3] == .channelMap([1, 2]))
        let props = c.compactMap { v -> [String: [UInt8]]? in if case .proplist(let d, _) = v { return d }; return nil }.first
        #expect(props?["application.name"] == Array("pacat".utf8) + [0])
        let reply = try #require(pacat.first { $0.decoded?.hasPrefix("REPLY(2)") == true && $0.decoded!.contains("to CREATE_PLAYBACK_STREAM") })
        let rv = try WireValue.decodeAll(reply.payload)
        #expect(rv.contains(.string("nullsink")) && rv.contains(.usec(1_960_000)))

        let info = try Captures.controlFrames("noshm-pactl-info.txt")
        let server = try #require(info.first { $0.decoded?.contains("to GET_SERVER_INFO") == true })
        let sv = try WireValue.decodeAll(server.payload)
        #expect(sv[2] == .string("pulseaudio") && sv[3] == .string("16.1"))
        #expect(sv[6] == .sampleSpec(WireSampleSpec(format: 3, channels: 2, rate: 44_100)))
    }

    @Test("the captures exercise these tag types", arguments: [0])
    func tagCoverage(_: Int) throws {
        var seen = Set<UInt8>()
        for name in Captures.names {
            for f in try Captures.controlFrames(name) {
                var r = WireReader(f.payload)
                while !r.isAtEnd {
                    seen.insert(f.payload[r.offset])
                    _ = try WireValue.read(&r, f.payload)
                }
            }
        }
        // u32, string, null string, arbitrary, sample spec, channel map, cvolume, proplist,
        // usec, timeval, s64, booleans, format info, u8: all appear in real sessions.
        for t: UInt8 in [0x4C, 0x74, 0x4E, 0x78, 0x61, 0x6D, 0x76, 0x50, 0x55, 0x54, 0x72, 0x30, 0x31, 0x66, 0x42] {
            #expect(seen.contains(t), "tag 0x\(String(t, radix: 16)) never seen")
        }
    }

    @Test("a control frame cut short at any byte throws (or, at a value boundary, yields fewer values)",
          arguments: ["noshm-pacat-playback.txt", "noshm-pactl-list-sinks.txt", "noshm-pactl-subscribe.txt", "memfd-pactl-load-module.txt"])
    func truncationAtEveryOffset(_ name: String) throws {
        for f in try Captures.controlFrames(name).prefix(12) {
            let full = try WireValue.decodeAll(f.payload)
            for cut in 0..<f.payload.count {
                let prefix = Array(f.payload[0..<cut])
                if let partial = try? WireValue.decodeAll(prefix) {
                    #expect(partial.count < full.count && Array(full.prefix(partial.count)) == partial,
                            "\(name) #\(f.sequence) cut at \(cut) decoded as something else")
                }
            }
        }
    }

    @Test("random mutations of real frames never crash the reader (5,000, fixed seed)")
    func mutations() throws {
        var rng = SplitMix64(seed: 0x5EED_5EED)
        let frames = try Captures.names.prefix(12).flatMap { try Captures.controlFrames($0) }
        #expect(frames.count > 50)
        var threw = 0, decoded = 0
        for _ in 0..<5_000 {
            var bytes = frames[Int(rng.next() % UInt64(frames.count))].payload
            guard !bytes.isEmpty else { continue }
            for _ in 0..<(1 + Int(rng.next() % 4)) {
                let i = Int(rng.next() % UInt64(bytes.count))
                switch rng.next() % 3 {
                case 0: bytes[i] = UInt8(truncatingIfNeeded: rng.next())
                case 1: bytes[i] ^= 0x80
                default: bytes[i] = 0xFF
                }
            }
            if (try? WireValue.decodeAll(bytes)) != nil { decoded += 1 } else { threw += 1 }
        }
        #expect(threw > 0 && decoded > 0, "threw \(threw), decoded \(decoded)")
    }
}

/// Hand-built rows for every tag type, with their exact bytes, and the limits.
@Suite("tagstruct values, byte for byte")
struct TagstructTableTests {
    struct Row: CustomTestStringConvertible, Sendable {
        let name: String
        let bytes: [UInt8]
        let value: WireValueBox
        var testDescription: String { name }
    }
    struct WireValueBox: @unchecked Sendable { let v: WireValue }

    static let rows: [Row] = [
        Row(name: "u32", bytes: [0x4C, 0x12, 0x34, 0x56, 0x78], value: .init(v: .u32(0x1234_5678))),
        Row(name: "u8", bytes: [0x42, 0xFE], value: .init(v: .u8(0xFE))),
        Row(name: "u64", bytes: [0x52, 0, 0, 0, 1, 0, 0, 0, 2], value: .init(v: .u64(0x1_0000_0002))),
        Row(name: "s64 −1", bytes: [0x72] + [UInt8](repeating: 0xFF, count: 8), value: .init(v: .s64(-1))),
        Row(name: "usec", bytes: [0x55, 0, 0, 0, 0, 0, 0x1D, 0xE8, 0x40], value: .init(v: .usec(1_960_000))),
        Row(name: "volume", bytes: [0x56, 0, 1, 0, 0], value: .init(v: .volume(0x10000))),
        Row(name: "true", bytes: [0x31], value: .init(v: .bool(true))),
        Row(name: "false", bytes: [0x30], value: .init(v: .bool(false))),
        Row(name: "string", bytes: [0x74, 0x61, 0x62, 0], value: .init(v: .string("ab"))),
        Row(name: "empty string", bytes: [0x74, 0], value: .init(v: .string(""))),
        Row(name: "null string", bytes: [0x4E], value: .init(v: .string(nil))),
        Row(name: "arbitrary", bytes: [0x78, 0, 0, 0, 2, 9, 8], value: .init(v: .arbitrary([9, 8]))),
        Row(name: "timeval", bytes: [0x54, 0, 0, 0, 5, 0, 0, 0, 6], value: .init(v: .timeval(5, 6))),
        Row(name: "sample spec", bytes: [0x61, 3, 2, 0, 0, 0xBB, 0x80], value: .init(v: .sampleSpec(WireSampleSpec(format: 3, channels: 2, rate: 48_000)))),
        Row(name: "channel map", bytes: [0x6D, 2, 1, 2], value: .init(v: .channelMap([1, 2]))),
        Row(name: "cvolume", bytes: [0x76, 1, 0, 1, 0, 0], value: .init(v: .cvolume([0x10000]))),
        Row(name: "proplist", bytes: [0x50, 0x74, 0x6B, 0, 0x4C, 0, 0, 0, 2, 0x78, 0, 0, 0, 2, 0x76, 0, 0x4E],
            value: .init(v: .proplist(["k": [0x76, 0]], order: ["k"]))),
        Row(name: "format info", bytes: [0x66, 0x42, 1, 0x50, 0x4E], value: .init(v: .formatInfo(1, [:], order: []))),
    ]

    @Test("each value reads from and writes to exactly these bytes", arguments: rows)
    func row(_ row: Row) throws {
        var r = WireReader(row.bytes)
        #expect(try WireValue.read(&r, row.bytes) == row.value.v)
        #expect(r.isAtEnd)
        var w = WireWriter(command: 0, tag: 0)
        row.value.v.write(&w)
        #expect(Array(w.bytes.dropFirst(10)) == row.bytes)
    }

    @Test("lengths and counts that claim more than there is are refused", arguments: [
        [0x78, 0xFF, 0xFF, 0xFF, 0xFF, 1, 2],            // arbitrary of 4 GiB
        [0x78, 0, 0, 0, 9, 1, 2],                         // arbitrary longer than what follows
        [0x6D, 255, 1, 2],                                // channel map of 255 channels
        [0x76, 40] + [UInt8](repeating: 0, count: 160),   // cvolume of 40 channels
        [0x76, 2, 0, 1, 0, 0],                            // cvolume cut short
        [0x74, 0x61, 0x62],                               // string without its NUL
        [0x50, 0x74, 0x6B, 0, 0x4C, 0, 0, 0, 9, 0x78, 0, 0, 0, 2, 1, 2, 0x4E],   // proplist length mismatch
        [0x50, 0x74, 0x6B, 0, 0x4C, 0xFF, 0xFF, 0xFF, 0xFF, 0x78, 0xFF, 0xFF, 0xFF, 0xFF],  // huge entry
        [0x61, 3],                                        // sample spec cut short
        [0x99],                                           // unknown tag
    ] as [[UInt8]])
    func refused(_ bytes: [UInt8]) {
        var r = WireReader(bytes)
        #expect(throws: WireError.self) { _ = try WireValue.read(&r, bytes) }
    }

    @Test("a string longer than the limit is refused without scanning past it")
    func longString() {
        let bytes: [UInt8] = [0x74] + [UInt8](repeating: 0x61, count: WireReader.maxString + 10) + [0]
        var r = WireReader(bytes)
        #expect(throws: WireError.self) { _ = try r.string() }
    }
}
