// Exemplo 4 - a chave do servidor, do lado do cliente: recebê-la (a primeira
// linha), conferir se é mesmo a do servidor e, na primeira conexão, guardá-la.
// Fica fora de client.cpp, como o client_key.h do Exemplo 2, para que lá cada
// passo caiba numa linha.
//
// A conferência: com --chave-servidor CHAVE, a chave recebida tem que ser
// exatamente essa. Sem a opção, vale a guardada em servidores_conhecidos.txt,
// ao lado do programa, uma linha "ENDEREÇO:PORTA CHAVE" por servidor
// ("confiança no primeiro uso", TOFU, como o ~/.ssh/known_hosts do SSH). Um
// endereço que não está lá é uma primeira conexão, e a chave só é guardada
// depois que o servidor provou tê-la (o "OK" cifrado dele abriu): é o
// StrictHostKeyChecking=accept-new do SSH. Um arquivo que existe mas não pode
// ser lido, ou que tem uma linha estragada, é um erro, nunca uma primeira
// conexão: senão bastaria estragá-lo para o cliente aceitar qualquer chave.
#pragma once

#include <cerrno>
#include <cstdio>
#include <iostream>
#include <sstream>
#include <string>

#include "../common/line_reader.h"
#include "../common/net.h"
#include "kx.h"

#ifdef _WIN32
#include <fcntl.h>
#include <io.h>
#include <process.h>
#include <sys/stat.h>
inline int process_id() { return _getpid(); }
#else
#include <fcntl.h>
#include <sys/file.h>
#include <unistd.h>
inline int process_id() { return static_cast<int>(getpid()); }
#endif

constexpr const char* KNOWN_SERVERS_FILE = "servidores_conhecidos.txt";

// O que o cliente diz quando o "OK" cifrado do servidor não abre.
static const std::string NOT_THE_SERVER =
    "ATENÇÃO: este servidor não tem a chave que diz ter: o \"OK\" cifrado dele não abre.\n"
    "Pode ser um impostor que copiou a chave pública do servidor, ou uma resposta gravada\n"
    "de outra conexão. Conexão encerrada; nada do que você digitou foi enviado.";

// O servidor do Exemplo 2 também começa com uma linha igual à chave pública (a
// chave dele), mas depois dela espera o "OK" do cliente, calado; o deste exemplo
// envia logo a segunda chave, a desta conexão. Se ela não vem, o servidor é
// provavelmente o do Exemplo 2.
static const std::string ONLY_ONE_KEY =
    ".\nChegou uma chave e nada mais: isto parece o servidor do Exemplo 2; este cliente é "
    "do Exemplo 4. Use o cliente do Exemplo 2 (../ex2_crypto/client)";

// A chave pública de longo prazo do servidor: a primeira linha, base64url de
// 32 bytes (44 caracteres). Devolve "", depois de explicar o erro, se ela não
// chegar dentro do prazo ou não for uma chave. Linhas que chegarem depois dela
// ficam em `reader`.
inline std::string receive_key(socket_t client_socket, net::LineReader& reader,
                               const net::Deadline& deadline) {
    std::string key, why;
    unsigned char bytes[kx::KEY_BYTES];
    if (net::receive_line(client_socket, reader, key, why, &deadline) != net::Received::Line) {
        std::cerr << "Erro: o servidor não enviou a chave (" << why
                  << "). É o servidor do Exemplo 4?\n";
        return "";
    }
    if (kx::read_key(key, bytes)) return key;
    std::cerr << "Erro: chave inválida recebida do servidor\n";
    return "";
}

// "localhost:8000", "127.0.0.1:8000", "[::1]:8000" (IPv6 entre colchetes, como no SSH)
inline std::string server_name(const std::string& ip, const std::string& port) {
    return net::host_port(ip, port);
}

inline std::string known_servers_path(const char* argv0) {
    return net::program_folder(argv0) + "/" + KNOWN_SERVERS_FILE;
}

// Lê `path` inteiro em `content`. Um arquivo que não existe é vazio (true);
// um que existe mas não pode ser lido é um erro (false, `error`).
inline bool read_known_servers(const std::string& path, std::string& content,
                               std::string& error) {
    content.clear();
    std::FILE* in = std::fopen(path.c_str(), "rb");
    if (!in && errno == ENOENT) return true;
    bool ok = in != nullptr;
    char buffer[4096];
    while (ok) {
        std::size_t got = std::fread(buffer, 1, sizeof buffer, in);
        content.append(buffer, got);
        if (got < sizeof buffer) ok = !std::ferror(in);
        if (got < sizeof buffer || content.size() > (1u << 20)) break;
    }
    if (!ok) error = "não foi possível ler " + path + ": " + kx::file_error(errno);
    if (ok && content.size() > (1u << 20)) {
        error = path + " é grande demais (mais de 1 MiB)";
        ok = false;
    }
    if (in) std::fclose(in);
    return ok;
}

// A chave guardada para `server` em `content` (o arquivo); "" se não há. false
// (e `error`) se alguma linha não é "ENDEREÇO:PORTA CHAVE" com uma chave válida.
inline bool find_known_key(const std::string& content, const std::string& path,
                           const std::string& server, std::string& key, std::string& error) {
    std::istringstream lines(content);
    std::string line, name, value, extra;
    unsigned char bytes[kx::KEY_BYTES];
    for (int number = 1; std::getline(lines, line); ++number) {
        if (!line.empty() && line.back() == '\r') line.pop_back();
        std::istringstream words(line);
        if (!(words >> name) || name[0] == '#') continue;  // vazia ou comentário
        if (!(words >> value) || (words >> extra) || !kx::read_key(value, bytes)) {
            error = path + " está estragado: a linha " + std::to_string(number) +
                    " não é \"ENDEREÇO:PORTA CHAVE\". Corrija-a ou apague o arquivo (as chaves"
                    " dos servidores serão conferidas de novo, como na primeira vez)";
            return false;
        }
        if (name == server && key.empty()) key = value;
    }
    return true;
}

// true se `received` pode ser a chave do servidor em IP:PORTA (o endereço como
// foi digitado): a de --chave-servidor (`pinned`), a guardada, ou, se não há
// nenhuma guardada, a primeira vista (`first_use` = true; ela só é guardada por
// save_server_key(), depois do "OK" do servidor). Senão, o aviso, e false.
inline bool trust_server_key(const std::string& received, const std::string& pinned,
                             const std::string& ip, const std::string& port, const char* argv0,
                             bool& first_use) {
    const std::string server = server_name(ip, port), path = known_servers_path(argv0);
    std::string expected = pinned, source = "dada com --chave-servidor", content, error;
    if (expected.empty()) {
        if (!read_known_servers(path, content, error) ||
            !find_known_key(content, path, server, expected, error)) {
            std::cerr << "Erro: " << error << ".\nConexão encerrada; nada foi enviado.\n";
            return false;
        }
        source = "salva em " + path;
    }
    first_use = expected.empty();
    if (first_use || received == expected) return true;
    std::cerr << "ATENÇÃO: a chave do servidor " << server << " não é a esperada!\n"
              << "  esperada: " << expected << " (" << source << ")\n"
              << "  recebida: " << received << "\n"
              << "Alguém pode estar no meio do caminho (ataque \"man-in-the-middle\"), lendo\n"
              << "a conversa, ou o servidor trocou de chave. "
              << "Conexão encerrada; nada foi enviado.\n";
    if (pinned.empty())
        std::cerr << "Se a troca foi legítima, apague a linha de " << server << " em " << path
                  << ".\n";
    return false;
}

// O arquivo servidores_conhecidos.txt é lido, acrescido e trocado por
// outros clientes ao mesmo tempo, talvez numa pasta que outros usuários
// também podem escrever. Duas proteções:
//  - uma trava (flock; LockFileEx no Windows) no arquivo
//    servidores_conhecidos.txt.trava, do começo da leitura até a troca de
//    nome: oito clientes na primeira conexão ao mesmo tempo guardam as oito
//    chaves (sem ela, dois liam o mesmo conteúdo e o último a trocar o nome
//    apagava a chave do outro, e os dois diziam "foi salva");
//  - o temporário é criado com O_CREAT|O_EXCL|O_NOFOLLOW e modo 0600, com um
//    nome que ninguém adivinha (mkstemp; no Windows _O_EXCL, que recusa um
//    nome que já existe): um link simbólico plantado com o nome do
//    temporário nunca é seguido, então ninguém faz o cliente escrever num
//    arquivo escolhido por outro usuário.
class KnownServersLock {
public:
    explicit KnownServersLock(const std::string& path) {
#ifdef _WIN32
        file_ = CreateFileA((path + ".trava").c_str(), GENERIC_READ | GENERIC_WRITE,
                            FILE_SHARE_READ | FILE_SHARE_WRITE, nullptr, OPEN_ALWAYS,
                            FILE_ATTRIBUTE_NORMAL, nullptr);
        OVERLAPPED all{};
        locked_ = file_ != INVALID_HANDLE_VALUE &&
                  LockFileEx(file_, LOCKFILE_EXCLUSIVE_LOCK, 0, 1, 0, &all) != 0;
#else
        fd_ = ::open((path + ".trava").c_str(), O_RDWR | O_CREAT | O_NOFOLLOW | O_CLOEXEC, 0600);
        // Espera pela vez dele, até 10 s (quem segura a trava por mais tempo não é um cliente).
        for (int i = 0; fd_ >= 0 && i < 1000 && !locked_; ++i) {
            locked_ = flock(fd_, LOCK_EX | LOCK_NB) == 0;
            if (!locked_) usleep(10000);
        }
#endif
    }
    ~KnownServersLock() {
#ifdef _WIN32
        if (file_ != INVALID_HANDLE_VALUE) CloseHandle(file_);  // solta a trava
#else
        if (fd_ >= 0) ::close(fd_);  // solta a trava
#endif
    }
    KnownServersLock(const KnownServersLock&) = delete;
    KnownServersLock& operator=(const KnownServersLock&) = delete;
    bool locked() const { return locked_; }

private:
#ifdef _WIN32
    HANDLE file_ = INVALID_HANDLE_VALUE;
#else
    int fd_ = -1;
#endif
    bool locked_ = false;
};

// Grava `content` num temporário novo na pasta de `path` (veja acima) e o
// troca de nome para `path`: o arquivo nunca fica pela metade.
inline bool replace_known_servers(const std::string& path, const std::string& content) {
#ifdef _WIN32
    std::string temp;
    int fd = -1;
    for (int i = 0; i < 100 && fd < 0; ++i) {
        temp = path + ".tmp" + std::to_string(process_id()) + "-" + std::to_string(i);
        fd = _open(temp.c_str(), _O_WRONLY | _O_CREAT | _O_EXCL | _O_BINARY, _S_IREAD | _S_IWRITE);
    }
#else
    std::string temp = path + ".tmpXXXXXX";
    int fd = mkstemp(&temp[0]);  // O_CREAT|O_EXCL, modo 0600, nome imprevisível
#endif
    if (fd < 0) return false;
    bool ok = true;
    for (std::size_t done = 0; ok && done < content.size();) {
#ifdef _WIN32
        int n = _write(fd, content.data() + done, static_cast<unsigned>(content.size() - done));
#else
        ssize_t n = ::write(fd, content.data() + done, content.size() - done);
#endif
        ok = n > 0;
        if (ok) done += static_cast<std::size_t>(n);
    }
#ifdef _WIN32
    ok = _close(fd) == 0 && ok;
    ok = ok && MoveFileExA(temp.c_str(), path.c_str(), MOVEFILE_REPLACE_EXISTING) != 0;
#else
    ok = ::close(fd) == 0 && ok;
    ok = ok && std::rename(temp.c_str(), path.c_str()) == 0;
#endif
    const int saved = errno;
    if (!ok) std::remove(temp.c_str());
    errno = saved;
    return ok;
}

// Primeira conexão, e o servidor provou ter a chave: guarda-a em
// servidores_conhecidos.txt (com a trava, lendo de novo: outro cliente pode
// ter escrito nele) e mostra como conferi-la.
inline bool save_server_key(const std::string& received, const std::string& ip,
                            const std::string& port, const char* argv0) {
    const std::string server = server_name(ip, port), path = known_servers_path(argv0);
    std::string content, error;
    KnownServersLock lock(path);
    bool ok = lock.locked();
    if (!ok) error = "não foi possível travar " + path + ".trava: " + kx::file_error(errno);
    ok = ok && read_known_servers(path, content, error);
    if (ok && !content.empty() && content.back() != '\n') content += "\n";
    content += server + " " + received + "\n";
    if (ok && !replace_known_servers(path, content)) {
        error = "não foi possível gravar " + path + ": " + kx::file_error(errno);
        ok = false;
    }
    if (!ok) {
        std::cerr << "Erro: " << error << "\n";
        return false;
    }
    std::cout << "Primeira conexão com " << server << ". A chave pública do servidor é\n"
              << "  " << received << "\n"
              << "Confira se é a mesma da linha \"Chave pública do servidor: ...\" que o\n"
              << "servidor mostrou ao iniciar (no terminal dele, ou pergunte a quem o iniciou).\n"
              << "Se for, tudo certo: ela foi salva em " << path << "\n"
              << "e será conferida nas próximas conexões. Se não for, saia (Ctrl+D), apague a\n"
              << "linha de " << server << " desse arquivo e avise: alguém está no meio do caminho.\n";
    return true;
}
