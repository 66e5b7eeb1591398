#!/usr/bin/python3
"""A raw pulse client that writes with every seek mode, for the tests (libpulse's tools never
seek backwards). Usage: seek_client.py SOCKET corked|playing|extreme|attr
Creates an s16 stereo 48 kHz playback stream without prebuffering and writes constant levels
(the same on both channels), then drains and prints 'drained'. What should play, in frames:
  corked:  writes with RELATIVE, ABSOLUTE, RELATIVE_END and RELATIVE_ON_READ seeks while the
           stream is corked, then uncorks:
           5000 x 4800, 1000 x 7200, 2000 x 12000, 0 x 12000, 3000 x 6000, 4000 x 3000, 3000 x 3000
  playing: 1 s of 1000; 0.3 s later 0.1 s of 2000 at 0.2 s past the read index (RELATIVE_ON_READ);
           0.5 s later a FLUSH and 0.2 s of 3000:
           1000 x a, 2000 x 4800, 1000 x b (a + 4800 + b well short of 48000), 3000 x 9600
  extreme: seeks to the ends of the 64-bit range in every mode (and odd byte counts), then
           a FLUSH and 0.1 s of 6000: the server must stay up and play exactly that
  attr:    asks (SET_PLAYBACK_STREAM_BUFFER_ATTR) for an 8 s tlength on a stream made with the
           default 2 s, prints 'tlength N' as granted, writes N bytes of 7000 and drains: what is
           granted must fit, so no OVERFLOW ('overflows N' is printed too)"""
import socket, struct, sys, time

s = socket.socket(socket.AF_UNIX)
s.connect(sys.argv[1])
mode = sys.argv[2]
s.settimeout(10)
RELATIVE, ABSOLUTE, RELATIVE_ON_READ, RELATIVE_END = 0, 1, 2, 3
FRAME = 4          # s16 stereo
SECOND = 48000 * FRAME

def frame(payload, channel=0xFFFFFFFF, offset=0, flags=0):
    offset &= 0xFFFFFFFFFFFFFFFF
    return struct.pack('>IIIII', len(payload), channel, offset >> 32, offset & 0xFFFFFFFF, flags) + payload

def u32(v):
    return b'L' + struct.pack('>I', v)

def recv_frame():
    def exactly(n):
        data = b''
        while len(data) < n:
            chunk = s.recv(n - len(data))
            if not chunk:
                raise SystemExit('disconnected')
            data += chunk
        return data
    head = exactly(20)
    return head, exactly(struct.unpack('>I', head[:4])[0])

def reply_to(tag):
    """The reply to `tag`, skipping what the server pushes unasked (REQUEST, STARTED, …)."""
    while True:
        head, body = recv_frame()
        if struct.unpack('>I', head[4:8])[0] != 0xFFFFFFFF:
            continue
        command, t = struct.unpack('>I', body[1:5])[0], struct.unpack('>I', body[6:10])[0]
        if t == tag and command in (0, 2):       # ERROR or REPLY
            if command == 0:
                raise SystemExit(f'error reply to tag {tag}')
            return body

# AUTH, protocol 35, no shared memory: audio travels inline.
s.sendall(frame(u32(8) + u32(0) + u32(35) + b'x' + struct.pack('>I', 256) + bytes(256)))
reply_to(0)
# SET_CLIENT_NAME and CREATE_PLAYBACK_STREAM as pacat sends them (captured from PulseAudio 16.1),
# the stream corked and with prebuf 0.
s.sendall(frame(bytes.fromhex('4c000000094c0000000150746170706c69636174696f6e2e6e616d65004c0000000c780000000c7365656b2d636c69656e74004e')))
reply_to(1)
create = bytes.fromhex(
    '4c000000034c000000026103020000bb806d0201024cffffffff4e4cffffffff' + ('31' if mode == 'corked' else '30') + '4cffffffff4c000000004cffffffff'
    '4c000000007602000100000001000030303030303030303050746170706c69636174696f6e2e6e616d65004c0000000c'
    '780000000c7365656b2d636c69656e74004e303030303030304200')
s.sendall(frame(create))
body = reply_to(2)
channel = struct.unpack('>I', body[11:15])[0]

def write(level, frames, seek=RELATIVE, offset=0):
    s.sendall(frame(struct.pack('<hh', level, level) * frames, channel=channel, offset=offset, flags=seek))

if mode == 'corked':
    write(1000, 24000)                                        # [0, 0.5 s)
    write(2000, 12000, RELATIVE, -SECOND // 4)                # [0.25, 0.5 s) rewritten
    write(3000, 12000, ABSOLUTE, SECOND * 3 // 4)             # [0.75, 1 s), after 0.25 s of silence
    write(4000, 3000, RELATIVE_END, -SECOND // 8)             # [0.875, 0.9375 s); the rest stays 3000
    write(5000, 4800, RELATIVE_ON_READ, 0)                    # [0, 0.1 s): nothing has played yet
    s.sendall(frame(u32(41) + u32(3) + u32(channel) + b'0'))  # uncork
    reply_to(3)
elif mode == 'attr':
    s.sendall(frame(u32(72) + u32(3) + u32(channel) + u32(0xFFFFFFFF) + u32(8 * SECOND) + u32(0) + u32(0xFFFFFFFF) + b'0' + b'0'))
    body = reply_to(3)
    granted = struct.unpack('>I', body[16:20])[0]
    print('tlength', granted)
    write(7000, granted // FRAME)
    overflows = 0
    s.sendall(frame(u32(12) + u32(4) + u32(channel)))         # drain, counting OVERFLOWs on the way
    while True:
        head, body = recv_frame()
        if struct.unpack('>I', head[4:8])[0] != 0xFFFFFFFF:
            continue
        command, t = struct.unpack('>I', body[1:5])[0], struct.unpack('>I', body[6:10])[0]
        if command == 62:
            overflows += 1
        if command == 2 and t == 4:
            break
    print('overflows', overflows)
    print('drained')
    sys.exit(0)
elif mode == 'extreme':
    for seek in (RELATIVE, ABSOLUTE, RELATIVE_ON_READ, RELATIVE_END):
        for offset in (-(1 << 63), (1 << 63) - 1, -1, 1, -(1 << 40), 1 << 40):
            s.sendall(frame(b'\x01\x02\x03', channel=channel, offset=offset, flags=seek))
    s.sendall(frame(u32(42) + u32(3) + u32(channel)))         # flush
    reply_to(3)
    s.sendall(frame(u32(41) + u32(5) + u32(channel) + b'0'))  # uncork
    reply_to(5)
    write(6000, 4800)
else:
    write(1000, 48000)
    time.sleep(0.3)
    write(2000, 4800, RELATIVE_ON_READ, SECOND // 5)
    time.sleep(0.5)
    s.sendall(frame(u32(42) + u32(3) + u32(channel)))         # flush
    reply_to(3)
    write(3000, 9600)
s.sendall(frame(u32(12) + u32(4) + u32(channel)))             # drain
reply_to(4)
print('drained')
