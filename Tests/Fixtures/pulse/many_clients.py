#!/usr/bin/python3
"""Connects N raw clients to a pulse socket and authenticates each (protocol 35, no SHM).
Usage: many_clients.py SOCKET N. Prints 'authenticated K' and keeps them open until stdin closes."""
import resource, socket, struct, sys

path, n = sys.argv[1], int(sys.argv[2])
soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))
auth = struct.pack('>IIIII', 5 + 5 + 5 + 5 + 256, 0xFFFFFFFF, 0, 0, 0) + b'L' + struct.pack('>I', 8) + b'L' + struct.pack('>I', 0) \
    + b'L' + struct.pack('>I', 35) + b'x' + struct.pack('>I', 256) + bytes(256)
clients = []
ok = 0
for i in range(n):
    s = socket.socket(socket.AF_UNIX)
    s.connect(path)          # blocking: waits while the server's backlog is full
    s.settimeout(10)
    s.sendall(auth)
    clients.append(s)
for s in clients:
    data = b''
    while len(data) < 20:
        chunk = s.recv(20 - len(data))
        if not chunk:
            break
        data += chunk
    if len(data) == 20:
        length = struct.unpack('>I', data[:4])[0]
        body = b''
        while len(body) < length:
            body += s.recv(length - len(body))
        if struct.unpack('>I', body[1:5])[0] == 2:   # REPLY
            ok += 1
sys.stdout.write('authenticated %d\n' % ok)   # one write, even under PYTHONUNBUFFERED
sys.stdout.flush()
sys.stdin.read()
