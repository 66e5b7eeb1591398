/// Protocol numbers the server uses (protocol 35; see Docs/pulse-compat.md).
enum Command: UInt32 {
    case error = 0, reply = 2, createPlaybackStream = 3, deletePlaybackStream = 4, createRecordStream = 5
    case deleteRecordStream = 6, exit = 7, auth = 8, setClientName = 9, lookupSink = 10, lookupSource = 11
    case drainPlaybackStream = 12, stat = 13, getPlaybackLatency = 14
    case getServerInfo = 20, getSinkInfo = 21, getSinkInfoList = 22, getSourceInfo = 23, getSourceInfoList = 24
    case getModuleInfo = 25, getModuleInfoList = 26, getClientInfo = 27, getClientInfoList = 28
    case getSinkInputInfo = 29, getSinkInputInfoList = 30, getSourceOutputInfo = 31, getSourceOutputInfoList = 32
    case getSampleInfo = 33, getSampleInfoList = 34, subscribe = 35
    case setSinkVolume = 36, setSinkInputVolume = 37, setSourceVolume = 38, setSinkMute = 39, setSourceMute = 40
    case corkPlaybackStream = 41, flushPlaybackStream = 42, triggerPlaybackStream = 43
    case setDefaultSink = 44, setDefaultSource = 45, setPlaybackStreamName = 46, setRecordStreamName = 47
    case killClient = 48, killSinkInput = 49, killSourceOutput = 50, loadModule = 51, unloadModule = 52
    case getRecordLatency = 57, corkRecordStream = 58, flushRecordStream = 59, prebufPlaybackStream = 60
    case request = 61, overflow = 62, underflow = 63, playbackStreamKilled = 64, recordStreamKilled = 65
    case subscribeEvent = 66, moveSinkInput = 67, moveSourceOutput = 68, setSinkInputMute = 69
    case suspendSink = 70, suspendSource = 71, setPlaybackStreamBufferAttr = 72, setRecordStreamBufferAttr = 73
    case updateRecordStreamProplist = 80, updatePlaybackStreamProplist = 81, updateClientProplist = 82
    case removeRecordStreamProplist = 83, removePlaybackStreamProplist = 84, removeClientProplist = 85
    case started = 86, `extension` = 87, getCardInfo = 88, getCardInfoList = 89, setCardProfile = 90
    case setSinkPort = 96, setSourcePort = 97, setSourceOutputVolume = 98, setSourceOutputMute = 99
    case enableSrbchannel = 101, registerMemfdShmid = 103
}

/// Error codes sent after ERROR.
enum PulseErrorCode: UInt32 {
    case access = 1, command = 2, invalid = 3, exist = 4, noEntity = 5, `protocol` = 7, version = 17, tooLarge = 18
    case notSupported = 19, noExtension = 21, notImplemented = 23
}

enum Subscription {
    static let sink: UInt32 = 0x0001, source: UInt32 = 0x0002, sinkInput: UInt32 = 0x0004, sourceOutput: UInt32 = 0x0008
    static let module: UInt32 = 0x0010, client: UInt32 = 0x0020, server: UInt32 = 0x0080, card: UInt32 = 0x0200
    static let all: UInt32 = 0x02FF
    // Event types: facility | type.
    static let facilitySink: UInt32 = 0, facilitySource: UInt32 = 1, facilitySinkInput: UInt32 = 2
    static let facilitySourceOutput: UInt32 = 3, facilityClient: UInt32 = 5, facilityServer: UInt32 = 7, facilityCard: UInt32 = 9
    static let new: UInt32 = 0x00, change: UInt32 = 0x10, remove: UInt32 = 0x20
}

let invalidIndex: UInt32 = 0xFFFF_FFFF
let volumeNorm: UInt32 = 0x10000
let protocolVersion: UInt32 = 35

/// Pulse's software volume is cubic: amplitude = (v / NORM)³.
func linearGain(_ v: UInt32) -> Float {
    let x = Double(v) / Double(volumeNorm)
    return Float(x * x * x)
}

/// Channel position names as `pactl` prints them.
func channelPositionName(_ p: UInt8) -> String {
    let names = ["mono", "front-left", "front-right", "front-center", "rear-center", "rear-left", "rear-right", "lfe",
                 "front-left-of-center", "front-right-of-center", "side-left", "side-right"]
    if Int(p) < names.count { return names[Int(p)] }
    if (12...43).contains(p) { return "aux\(p - 12)" }
    let top = ["top-center", "top-front-left", "top-front-right", "top-front-center", "top-rear-left", "top-rear-right", "top-rear-center"]
    if (44...50).contains(p) { return top[Int(p - 44)] }
    return "invalid"
}
