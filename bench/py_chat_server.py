# Baseline for the ex1 benchmark: the guide's Servidor.py (Exemplo 1) as
# printed, with only the port from the command line and the prints flushed.
import socket
import sys
import threading

server_socket = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
IP, PORT = '127.0.0.1', int(sys.argv[1])
print(f'Iniciando servidor em {IP}:{PORT}', flush=True)
server_socket.bind((IP, PORT))
server_socket.listen(5)
clients = []

def broadcast(message):
    for client in clients:
        client.send(message)

def handle_client(client_socket, client_address):
    clients.append(client_socket)
    while True:
        try:
            message = client_socket.recv(1024)
            if message:
                broadcast(message)
            else:
                clients.remove(client_socket)
                client_socket.close()
                break
        except:
            clients.remove(client_socket)
            client_socket.close()
            break

while True:
    print('Aguardando conexao...', flush=True)
    client_socket, client_address = server_socket.accept()
    client_thread = threading.Thread(target=handle_client, args=(client_socket, client_address))
    client_thread.start()
