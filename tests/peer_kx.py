"""An ex4 peer written in Python with PyNaCl (Debian's python3-nacl 1.5) and
hashlib's BLAKE2b, from the wire protocol in ex4_kx/README.md alone: proves
that the C++ programs interoperate with another implementation.

usage: python3 peer_kx.py client PORT MESSAGE EXPECTED_LINES
         connects to 127.0.0.1:PORT as a chat client, prints 'server key K'
         and 'synchronized' (after the server's OK opened), sends MESSAGE,
         prints each decrypted line it receives and exits after
         EXPECTED_LINES of them.
       python3 peer_kx.py server MESSAGE EXPECTED_LINES
         listens on a free port of 127.0.0.1, prints 'port P' and
         'server key K', accepts one client, prints 'synchronized' once the
         client's OK opened, sends MESSAGE, prints each decrypted line and
         exits after EXPECTED_LINES."""
import base64
import hashlib
import socket
import sys

from nacl import bindings as b

TAG_MESSAGE = b.crypto_secretstream_xchacha20poly1305_TAG_MESSAGE


def line(data):
    return base64.urlsafe_b64encode(data) + b'\n'


def unline(stream, size=None):
    data = base64.urlsafe_b64decode(stream.readline().strip())
    if size is not None and len(data) != size:
        raise ValueError('expected %d bytes, got %d' % (size, len(data)))
    return data


def combine(first, second):
    """rx = BLAKE2b-256(r1 || r2), tx = BLAKE2b-256(t1 || t2)."""
    rx = hashlib.blake2b(first[0] + second[0], digest_size=32).digest()
    tx = hashlib.blake2b(first[1] + second[1], digest_size=32).digest()
    return rx, tx


def push(state, text):
    return line(b.crypto_secretstream_xchacha20poly1305_push(state, text, None, TAG_MESSAGE))


def pull(state, stream):
    text, tag = b.crypto_secretstream_xchacha20poly1305_pull(state, unline(stream), None)
    assert tag == TAG_MESSAGE
    return text


def chat(sock, stream, receiving, sending, message, expected):
    """One message out and `expected` lines in."""
    sock.sendall(push(sending, message.encode()))
    for _ in range(expected):
        print(pull(receiving, stream).decode(), flush=True)


def client(port, message, expected):
    sock = socket.create_connection(('127.0.0.1', port), timeout=10)
    stream = sock.makefile('rb')
    server_pk = unline(stream, 32)                   # S
    print('server key', base64.urlsafe_b64encode(server_pk).decode(), flush=True)
    connection_pk = unline(stream, 32)               # Es
    pk, sk = b.crypto_kx_keypair()                   # Ec, ec
    rx, tx = combine(b.crypto_kx_client_session_keys(pk, sk, server_pk),
                     b.crypto_kx_client_session_keys(pk, sk, connection_pk))
    sending = b.crypto_secretstream_xchacha20poly1305_state()
    header = b.crypto_secretstream_xchacha20poly1305_init_push(sending, tx)
    sock.sendall(line(pk) + line(header))
    receiving = b.crypto_secretstream_xchacha20poly1305_state()
    b.crypto_secretstream_xchacha20poly1305_init_pull(receiving, unline(stream, 24), rx)
    assert pull(receiving, stream) == b'OK'          # the key confirmation
    sock.sendall(push(sending, b'OK'))
    print('synchronized', flush=True)
    chat(sock, stream, receiving, sending, message, expected)


def server(message, expected):
    listener = socket.socket()
    listener.bind(('127.0.0.1', 0))
    listener.listen(1)
    listener.settimeout(10)
    pk, sk = b.crypto_kx_keypair()                   # S, s
    print('port', listener.getsockname()[1], flush=True)
    print('server key', base64.urlsafe_b64encode(pk).decode(), flush=True)
    sock, _ = listener.accept()
    sock.settimeout(10)
    stream = sock.makefile('rb')
    epk, esk = b.crypto_kx_keypair()                 # Es, es
    sock.sendall(line(pk) + line(epk))
    client_pk = unline(stream, 32)                   # Ec
    rx, tx = combine(b.crypto_kx_server_session_keys(pk, sk, client_pk),
                     b.crypto_kx_server_session_keys(epk, esk, client_pk))
    receiving = b.crypto_secretstream_xchacha20poly1305_state()
    b.crypto_secretstream_xchacha20poly1305_init_pull(receiving, unline(stream, 24), rx)
    sending = b.crypto_secretstream_xchacha20poly1305_state()
    header = b.crypto_secretstream_xchacha20poly1305_init_push(sending, tx)
    sock.sendall(line(header) + push(sending, b'OK'))
    assert pull(receiving, stream) == b'OK'
    print('synchronized', flush=True)
    chat(sock, stream, receiving, sending, message, expected)
    sock.close()


if sys.argv[1] == 'client':
    client(int(sys.argv[2]), sys.argv[3], int(sys.argv[4]))
else:
    server(sys.argv[2], int(sys.argv[3]))
