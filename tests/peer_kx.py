"""An ex4 peer written in Python with PyNaCl (Debian's python3-nacl 1.5), from
the wire protocol in ex4_kx/README.md alone: proves that the C++ programs
interoperate with another implementation.

usage: python3 peer_kx.py client PORT MESSAGE EXPECTED_LINES
         connects to 127.0.0.1:PORT as a chat client, prints 'server key K'
         and 'synchronized', sends MESSAGE, prints each decrypted line it
         receives and exits after EXPECTED_LINES of them.
       python3 peer_kx.py server MESSAGE EXPECTED_LINES
         listens on a free port of 127.0.0.1, prints 'port P' and
         'server key K', accepts one client, sends MESSAGE once the handshake
         is done, prints each decrypted line and exits after EXPECTED_LINES."""
import base64
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


def chat(sock, stream, rx, tx, message, expected):
    """Both streams, then one message out and `expected` lines in."""
    sending = b.crypto_secretstream_xchacha20poly1305_state()
    header = b.crypto_secretstream_xchacha20poly1305_init_push(sending, tx)
    sock.sendall(line(header))
    receiving = b.crypto_secretstream_xchacha20poly1305_state()
    b.crypto_secretstream_xchacha20poly1305_init_pull(receiving, unline(stream, 24), rx)
    print('synchronized', flush=True)
    sock.sendall(line(b.crypto_secretstream_xchacha20poly1305_push(
        sending, message.encode(), None, TAG_MESSAGE)))
    for _ in range(expected):
        text, tag = b.crypto_secretstream_xchacha20poly1305_pull(
            receiving, unline(stream), None)
        assert tag == TAG_MESSAGE
        print(text.decode(), flush=True)


def client(port, message, expected):
    sock = socket.create_connection(('127.0.0.1', port), timeout=10)
    stream = sock.makefile('rb')
    server_pk = unline(stream, 32)
    print('server key', base64.urlsafe_b64encode(server_pk).decode(), flush=True)
    pk, sk = b.crypto_kx_keypair()
    rx, tx = b.crypto_kx_client_session_keys(pk, sk, server_pk)
    sock.sendall(line(pk))
    chat(sock, stream, rx, tx, message, expected)


def server(message, expected):
    listener = socket.socket()
    listener.bind(('127.0.0.1', 0))
    listener.listen(1)
    listener.settimeout(10)
    pk, sk = b.crypto_kx_keypair()
    print('port', listener.getsockname()[1], flush=True)
    print('server key', base64.urlsafe_b64encode(pk).decode(), flush=True)
    sock, _ = listener.accept()
    sock.settimeout(10)
    stream = sock.makefile('rb')
    sock.sendall(line(pk))
    client_pk = unline(stream, 32)
    rx, tx = b.crypto_kx_server_session_keys(pk, sk, client_pk)
    chat(sock, stream, rx, tx, message, expected)
    sock.close()


if sys.argv[1] == 'client':
    client(int(sys.argv[2]), sys.argv[3], int(sys.argv[4]))
else:
    server(sys.argv[2], int(sys.argv[3]))
