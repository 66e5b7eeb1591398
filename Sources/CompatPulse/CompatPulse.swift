/// The PulseAudio native-protocol server (issue #4): connections, authentication, command
/// handlers, the memfd/srbchannel transport and stream nodes. Codecs live in `PulseWire`.
public enum CompatPulse {}
