# The lab guide's cliente.py (Exemplo 3), as printed in the guide, with only
# the port and the download folder taken from the command line:
#   python3 cliente.py PORT DOWNLOAD_DIR     (the file name is read from stdin)
# Used to prove that the C++ server works with the original client.
import socket
import os
import sys

client_socket = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
HOST, PORT = '127.0.0.1', int(sys.argv[1])
print(f'Iniciando conexão com o servidor em {HOST}:{PORT}')
client_socket.connect((HOST, PORT))

file_name = input('Digite o nome do arquivo para fazer download: ')
client_socket.send(f'GET {file_name}'.encode())

download_path = sys.argv[2] + '/'

with open( download_path + file_name, 'wb') as f:
    while True:
        data = client_socket.recv(1024)
        if not data:
            break
        f.write(data)

client_socket.close()
