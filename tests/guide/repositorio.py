# The lab guide's repositorio.py (Exemplo 3) with the printed listing's
# indentation repaired (as printed, the block that checks the name and sends
# the file falls out of receive_file and `else:` is a SyntaxError), and the
# address, port and image folder taken from the command line so the tests can
# run it on a free port: python3 repositorio.py PORT IMAGE_DIR
# Used to prove that the C++ client works against the original server.
import threading
import socket
import os
import sys

server_socket = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
IP, PORT = '127.0.0.1', int(sys.argv[1])
print(f'Iniciando servidor em {IP}:{PORT}', flush=True)
server_socket.bind((IP, PORT))
server_socket.listen(5)

img_path = sys.argv[2] + '/'

def receive_file( client_socket ):
    data = client_socket.recv(1024)
    if data.startswith(b'GET'):
        file_name = data.split()[1].decode()
        print( f'Cliente solicitou o arquivo {file_name}' )
        if file_name in [
            'cachorro.jpg',
            'gato.jpg',
            'iguana.jpg',
            'tucano.jpg'
        ]:
            print(f'Arquivo {file_name} encontrado.')
            with open( img_path + file_name, 'rb') as f:
                count = 0
                while True:
                    data = f.read(1024)
                    if not data:
                        break
                    client_socket.send(data)
                    count += 1
                    print( f'Enviado o segmento número {count}')
                print('Envio concluído' )
                client_socket.send( b'OK' )
        else:
            print(f'Arquivo {file_name} NÃO encontrado.')
            data = f'ERROR "O arquivo {file_name} não existe"'
            client_socket.send( data.encode() )
    client_socket.close()

while True:
    print('Aguardando conexão...', flush=True)
    client_socket, client_address = server_socket.accept()
    print(f'Cliente conectado: {client_address[0]}:{client_address[1]}')
    client = threading.Thread(target = receive_file, args = ( client_socket, ))
    client.start()
