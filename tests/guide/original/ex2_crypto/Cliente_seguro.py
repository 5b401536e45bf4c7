import threading
import socket
from cryptography.fernet import Fernet

# Cria um socket TCP/IP
client_socket = socket.socket( socket.AF_INET, socket.SOCK_STREAM )
IP, PORTA = 'localhost', 8000

# Conecta ao servidor
client_socket.connect( (IP, PORTA) )

# Aguarda a chave de criptografia única e gera o encriptador Fernet
UNIQUE_KEY = client_socket.recv( 1024 )
f = Fernet( UNIQUE_KEY )

# Responde um b'OK' criptografado para sinalizar
# o recebimento da chave
client_socket.send( f.encrypt( b'OK' ) )

# Função que fica aguardando o recebimento de novas mensagens
def listen( socket : socket ):
    while True:
        # Recebe os dados do servidor
        data = socket.recv(1024)
        # Quebra a criptografia dos dados e transforma o bytearray em str
        data = f.decrypt( data ).decode()
        # Printa na tela a mensagem
        print( data , end = '\n>' )
# Se sincronizou, inicia uma Thread para ficar ouvindo o servidor
client_listen = threading.Thread(
    target = listen,
    args = (client_socket, )
)
client_listen.start()

while True:
    # Lê a mensagem do usuário
    message = input('> ')

    # Envia a mensagem para o servidor
    client_socket.send( f.encrypt( message.encode() ) )
