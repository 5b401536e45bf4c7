# Baseline for the ex3 benchmark: a server of the guide's shape (repositorio.py):
# read 1024 bytes, send them, repeat; then OK. Without the per-segment print,
# to compare with the C++ server's --quiet.   python3 py_file_server.py PORT DIR [CHUNK]
# (CHUNK: bytes per read/send, 1024 as in the guide unless given; bench/curves.sh)
import os
import socket
import sys
import threading

server_socket = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
server_socket.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
server_socket.bind(('127.0.0.1', int(sys.argv[1])))
server_socket.listen(5)
folder = sys.argv[2]
chunk = int(sys.argv[3]) if len(sys.argv) > 3 else 1024

def receive_file(client_socket):
    data = client_socket.recv(1024)
    file_name = data.split()[1].decode()
    with open(os.path.join(folder, file_name), 'rb') as f:
        while True:
            data = f.read(chunk)
            if not data:
                break
            client_socket.sendall(data)
    client_socket.sendall(b'OK')
    client_socket.close()

print('Aguardando conexão...', flush=True)
while True:
    client_socket, _ = server_socket.accept()
    threading.Thread(target=receive_file, args=(client_socket,)).start()
