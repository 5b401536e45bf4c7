"""An ex2 peer written in Python with PyNaCl, from the wire protocol alone:
proves that the C++ programs interoperate with another implementation.

usage: python3 peer_pynacl.py PORT MESSAGE EXPECTED_LINES
Connects to 127.0.0.1:PORT, synchronizes, sends MESSAGE, then prints each
decrypted line it receives, and exits after EXPECTED_LINES of them."""
import base64
import socket
import sys

import nacl.secret

port, message, expected = int(sys.argv[1]), sys.argv[2], int(sys.argv[3])
s = socket.create_connection(('127.0.0.1', port), timeout=10)
stream = s.makefile('rb')
key = base64.urlsafe_b64decode(stream.readline().strip())
box = nacl.secret.SecretBox(key)
s.sendall(base64.urlsafe_b64encode(box.encrypt(b'OK')) + b'\n')
s.sendall(base64.urlsafe_b64encode(box.encrypt(message.encode())) + b'\n')
print('synchronized', flush=True)
for _ in range(expected):
    line = stream.readline()
    print(box.decrypt(base64.urlsafe_b64decode(line.strip())).decode(), flush=True)
