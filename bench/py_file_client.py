# Baseline for the ex3 benchmark: a client of the guide's shape (cliente.py):
# recv 1024 bytes, write them, until the server closes.
#   python3 py_file_client.py PORT NAME OUTPUT
import socket
import sys

client_socket = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
client_socket.connect(('127.0.0.1', int(sys.argv[1])))
client_socket.send(f'GET {sys.argv[2]}'.encode())
with open(sys.argv[3], 'wb') as f:
    while True:
        data = client_socket.recv(1024)
        if not data:
            break
        f.write(data)
client_socket.close()
