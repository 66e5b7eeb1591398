#!/usr/bin/python3
"""A raw pulse client that takes the srbchannel sluiced offers, for the tests.
Usage: srb_client.py SOCKET honest|badcount
  honest:   sends STAT through the ring and reads the reply from the ring.
  badcount: then writes an impossible byte count into the shared header and signals.
Prints one result line per step."""
import mmap, os, select, socket, struct, sys

path, mode = sys.argv[1], sys.argv[2]
s = socket.socket(socket.AF_UNIX)
s.connect(path)
s.settimeout(3)
buffered = b''
pending_fds = []

def frame(payload, channel=0xFFFFFFFF, offset=0, flags=0):
    return struct.pack('>IIIII', len(payload), channel, offset >> 32, offset & 0xFFFFFFFF, flags) + payload

def u32(v):
    return b'L' + struct.pack('>I', v)

def fill(n):
    global buffered
    while len(buffered) < n:
        # Read no further than the frame in hand, as libpulse does: the kernel hands fds over with
        # the bytes they were sent with, so over-reading would attach a later frame's fds to this one.
        data, fds, _, _ = socket.recv_fds(s, n - len(buffered), 8)
        if not data:
            return False
        buffered += data
        pending_fds.extend(fds)
    return True

def recv_frame():
    """(head, body, fds received with it) or None at EOF."""
    global buffered
    if not fill(20):
        return None
    length = struct.unpack('>I', buffered[:4])[0]
    if not fill(20 + length):
        return None
    head, body = buffered[:20], buffered[20:20 + length]
    buffered = buffered[20 + length:]
    fds = pending_fds[:]
    pending_fds.clear()
    return head, body, fds

s.sendall(frame(u32(8) + u32(0) + u32(0xC0000023) + b'x' + struct.pack('>I', 256) + bytes(256)))
pools, tag, sems, ring = {}, None, None, None
while ring is None:
    got = recv_frame()
    if got is None:
        print('disconnected during setup')
        sys.exit(0)
    head, body, fds = got
    channel, flags = struct.unpack('>I', head[4:8])[0], struct.unpack('>I', head[16:20])[0]
    if channel == 0xFFFFFFFF:
        command, t = struct.unpack('>I', body[1:5])[0], struct.unpack('>I', body[6:10])[0]
        if command == 103:
            pools[struct.unpack('>I', body[11:15])[0]] = fds[0]
        elif command == 101:
            tag, sems = t, fds
    elif channel == 0 and flags == 0xA0800000:
        block, shm_id, index, length = struct.unpack('>IIII', body)
        ring = (pools[shm_id], index, length)
print('offered', 'tag' if tag is not None else 'no tag', len(sems), 'eventfds')

fd, index, length = ring
try:
    os.ftruncate(fd, 0)
    print('ring truncate allowed')
except PermissionError:
    print('ring truncate refused')
m = mmap.mmap(fd, length + index, mmap.MAP_SHARED, mmap.PROT_READ | mmap.PROT_WRITE)
capacity, readbuf, writebuf = struct.unpack_from('=iii', m, index + 32)
print('ring capacity', capacity)
# We are the client: we write the server's receive ring (readbuf, count at 0) and read its send
# ring (writebuf, count at 4). Our read semaphore is the server's write one (data at 20, fd 2).
server_read_efd, server_write_efd = sems
struct.pack_into('=i', m, index + 20, 1)          # we wait on our read semaphore
s.sendall(frame(u32(101) + u32(tag)))             # acknowledge on the socket

def ring_write(data):
    m[index + readbuf:index + readbuf + len(data)] = data
    struct.pack_into('=i', m, index + 0, struct.unpack_from('=i', m, index + 0)[0] + len(data))
    struct.pack_into('=i', m, index + 12, 1)      # signalled
    os.write(server_read_efd, struct.pack('=Q', 1))

def ring_read(timeout=3.0):
    r, _, _ = select.select([server_write_efd], [], [], timeout)
    if not r:
        return b''
    os.read(server_write_efd, 8)
    struct.pack_into('=i', m, index + 24, 0)
    n = struct.unpack_from('=i', m, index + 4)[0]
    data = bytes(m[index + writebuf:index + writebuf + n])
    struct.pack_into('=i', m, index + 4, 0)
    return data

ring_write(frame(u32(13) + u32(77)))              # STAT, tag 77, through the ring
reply = ring_read()
ok = len(reply) >= 20 + 10 and struct.unpack('>I', reply[21:25])[0] == 2 and struct.unpack('>I', reply[26:30])[0] == 77
print('stat through the ring:', 'answered' if ok else 'no answer (%d bytes)' % len(reply))

if mode == 'badcount':
    struct.pack_into('=i', m, index + 0, 0x7FFFFFFF)
    struct.pack_into('=i', m, index + 12, 1)
    os.write(server_read_efd, struct.pack('=Q', 1))
    try:
        got = recv_frame()
        print('bad count:', 'disconnected' if got is None else 'answered')
    except (ConnectionResetError, BrokenPipeError):
        print('bad count: disconnected')
    except socket.timeout:
        print('bad count: timeout')
