#!/usr/bin/python3
"""A hostile pulse client for sluiced's tests: registers a memfd pool, then tries to truncate it
and to make the server read outside it. Usage: hostile_memfd.py SOCKET sealable|unsealable
Prints one result line per step; exits 0 when it ran to the end."""
import os, socket, struct, sys

path, mode = sys.argv[1], sys.argv[2]
s = socket.socket(socket.AF_UNIX)
s.connect(path)
s.settimeout(3)

def frame(payload, channel=0xFFFFFFFF, offset=0, flags=0):
    return struct.pack('>IIIII', len(payload), channel, offset >> 32, offset & 0xFFFFFFFF, flags) + payload

def u32(v):
    return b'L' + struct.pack('>I', v)

def recv_frame():
    head = b''
    while len(head) < 20:
        chunk = s.recv(20 - len(head))
        if not chunk:
            return None
        head += chunk
    length = struct.unpack('>I', head[:4])[0]
    body = b''
    while len(body) < length:
        chunk = s.recv(length - len(body))
        if not chunk:
            return None
        body += chunk
    return head, body

def recv_reply():
    """The next frame that is not one the server pushes unasked after AUTH (REGISTER_MEMFD_SHMID,
    ENABLE_SRBCHANNEL and the ring's block reference; this client never takes the srbchannel)."""
    while True:
        got = recv_frame()
        if got is None:
            return None
        head, body = got
        channel, flags = struct.unpack('>I', head[4:8])[0], struct.unpack('>I', head[16:20])[0]
        if channel == 0xFFFFFFFF and flags == 0 and len(body) >= 5 and struct.unpack('>I', body[1:5])[0] in (101, 103):
            continue
        if channel == 0 and flags == 0xA0800000:
            continue
        return got

# AUTH, protocol 35 with SHM and memfd.
s.sendall(frame(u32(8) + u32(0) + u32(0xC0000023) + b'x' + struct.pack('>I', 256) + bytes(256)))
head, body = recv_frame()
version = struct.unpack('>I', body[11:15])[0]
print('auth', hex(version))

flags = os.MFD_CLOEXEC | (os.MFD_ALLOW_SEALING if mode == 'sealable' else 0)
fd = os.memfd_create('hostile', flags)
os.ftruncate(fd, 65536)
os.pwrite(fd, b'\x01' * 65536, 0)
shm_id = 4242
socket.send_fds(s, [frame(u32(103) + u32(0xFFFFFFFF) + u32(shm_id))], [fd])
# Round trip (STAT) so the server has handled the registration before we attack.
s.sendall(frame(u32(13) + u32(1)))
reply = recv_reply()
print('registered' if reply else 'disconnected at registration')

try:
    os.ftruncate(fd, 0)
    print('truncate allowed')
except PermissionError:
    print('truncate refused')

def reference(index, length):
    return frame(struct.pack('>IIII', 7, shm_id, index, length), channel=0, flags=0xA0000000)

def is_release(got):
    return got is not None and struct.unpack('>I', got[0][16:20])[0] == 0x40000000

# A reference inside the pool (to a channel with no stream: ignored after validation). The server
# hands the block back with the next frame it sends: here the reply to a STAT.
try:
    s.sendall(reference(0, 1024))
    s.sendall(frame(u32(13) + u32(2)))
    got = recv_reply()
except (ConnectionResetError, BrokenPipeError):
    got = None   # an unsealable pool read short: disconnected before the STAT
print('in-range reference:', 'released' if is_release(got) else 'disconnected')
if is_release(got):
    recv_reply()   # the STAT's reply
    # Without any other traffic, releases still come back once 16 blocks are held.
    for _ in range(16):
        s.sendall(reference(0, 1024))
    try:
        released = sum(1 for _ in range(16) if is_release(recv_reply()))
    except socket.timeout:
        released = 0
    print('held releases returned:', released)

# A reference beyond the end (of a truncated pool, or of any pool).
try:
    s.sendall(reference(60000, 8192))
    got = recv_reply()
    print('out-of-range reference:', 'disconnected' if got is None else 'answered')
except (ConnectionResetError, BrokenPipeError):
    print('out-of-range reference: disconnected')
except socket.timeout:
    print('out-of-range reference: timeout')
