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
// E ele só é usado se ninguém além do usuário pode trocá-lo (como o
// StrictModes do OpenSSH): veja "Quem pode trocar o arquivo", abaixo.
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
#include <aclapi.h>
#include <fcntl.h>
#include <io.h>
#include <process.h>
#include <sys/stat.h>
inline int process_id() { return _getpid(); }
#else
#include <fcntl.h>
#include <grp.h>
#include <pwd.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include <climits>
#include <cstdlib>
#include <cstring>
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

// ---- Quem pode trocar o arquivo --------------------------------------------
// O arquivo diz em que chave confiar; então só vale se ninguém além do
// usuário pode trocá-lo, como o StrictModes do OpenSSH exige do ~/.ssh. Numa
// pasta de laboratório que a turma inteira pode escrever, outro aluno
// plantaria ali o seu servidores_conhecidos.txt (ou um link simbólico para
// um arquivo dele) com a chave de um intruso, e o cliente a aceitaria como
// já conhecida. Por isso:
//  - a pasta do arquivo não pode ser escrita pelo grupo nem por outros (nem
//    com o sticky bit: lá outro usuário ainda cria o arquivo antes), e as
//    pastas acima dela também não, a não ser com o sticky bit (o /tmp); cada
//    uma é do usuário ou do root;
//  - o arquivo e a trava são abertos sem seguir links simbólicos
//    (O_NOFOLLOW), e têm que ser arquivos comuns do usuário que o grupo e
//    os outros não podem alterar.
// O grupo conta como "só do usuário" quando é o grupo particular dele (o de
// mesmo nome, sem outros membros: o Debian e o Ubuntu criam um por usuário,
// e lá a umask 002 deixa as pastas com g+w), como no OpenSSH do Debian.
// No Windows: links e junções (reparse points) são recusados, e o dono do
// arquivo tem que ser o usuário (ou Administradores/SYSTEM); as permissões da
// pasta (ACLs) não são conferidas.
#ifndef _WIN32
inline bool private_group(gid_t gid) {
    const passwd* me = getpwuid(geteuid());
    const group* g = getgrgid(gid);
    if (!me || !g || me->pw_gid != gid || std::strcmp(g->gr_name, me->pw_name) != 0) return false;
    for (char** member = g->gr_mem; *member; ++member)
        if (std::strcmp(*member, me->pw_name) != 0) return false;
    return true;
}

// Alguém além do usuário pode escrever? (w de outros, ou do grupo se não é o particular)
inline bool others_can_write(const struct stat& st) {
    return (st.st_mode & S_IWOTH) || ((st.st_mode & S_IWGRP) && !private_group(st.st_gid));
}

inline std::string user_name(uid_t uid) {
    const passwd* p = getpwuid(uid);
    return p ? p->pw_name : std::to_string(uid);
}

// "modo 2775, do usuário ana, grupo turma"
inline std::string describe(const struct stat& st) {
    char mode[8];
    std::snprintf(mode, sizeof mode, "%04o", static_cast<unsigned>(st.st_mode & 07777));
    const group* g = getgrgid(st.st_gid);
    return std::string("modo ") + mode + ", do usuário " + user_name(st.st_uid) + ", grupo " +
           (g ? g->gr_name : std::to_string(st.st_gid));
}
#endif

// true se só o usuário pode trocar o que está na pasta de `path` (acima).
inline bool safe_folder(const std::string& path, std::string& error) {
#ifdef _WIN32
    (void)path;
    (void)error;
    return true;
#else
    const std::string given = path.substr(0, path.find_last_of('/'));
    char* real = realpath(given.empty() ? "/" : given.c_str(), nullptr);
    if (!real) {
        error = "não foi possível abrir a pasta " + given + ": " + kx::file_error(errno);
        return false;
    }
    std::string folder = real;
    std::free(real);
    for (bool own_folder = true;; own_folder = false) {
        struct stat st {};
        if (stat(folder.c_str(), &st) != 0) {
            error = "não foi possível abrir a pasta " + folder + ": " + kx::file_error(errno);
            return false;
        }
        const bool others = st.st_uid != 0 && st.st_uid != geteuid();
        if (others || (others_can_write(st) && (own_folder || !(st.st_mode & S_ISVTX)))) {
            error = "a pasta " + folder + " (" + describe(st) + ") pode ser alterada por outros "
                    "usuários: qualquer um deles poderia pôr ali o seu " + KNOWN_SERVERS_FILE +
                    ", e o cliente aceitaria a chave de um intruso como já conhecida.\n"
                    "Rode o cliente de uma pasta só sua (por exemplo: mkdir -p ~/ex4 && cp " +
                    given + "/client ~/ex4/ && ~/ex4/client ...),\ntire a escrita dos outros "
                    "(chmod go-w " + folder + ", se a pasta é sua) ou dê a chave com "
                    "--chave-servidor CHAVE\n(aí o arquivo não é usado)";
            return false;
        }
        if (folder == "/") return true;
        const auto slash = folder.find_last_of('/');
        folder = slash == 0 ? "/" : folder.substr(0, slash);
    }
#endif
}

#ifdef _WIN32
// O dono do arquivo aberto é o usuário (ou Administradores, ou SYSTEM)?
inline bool owned_by_user(HANDLE file) {
    PSID owner = nullptr;
    PSECURITY_DESCRIPTOR descriptor = nullptr;
    if (GetSecurityInfo(file, SE_FILE_OBJECT, OWNER_SECURITY_INFORMATION, &owner, nullptr,
                        nullptr, nullptr, &descriptor) != ERROR_SUCCESS)
        return false;
    bool mine = IsWellKnownSid(owner, WinBuiltinAdministratorsSid) ||
                IsWellKnownSid(owner, WinLocalSystemSid);
    HANDLE token = nullptr;
    union { TOKEN_USER user; char bytes[256]; } me;
    DWORD size = 0;
    if (!mine && OpenProcessToken(GetCurrentProcess(), TOKEN_QUERY, &token)) {
        mine = GetTokenInformation(token, TokenUser, &me, sizeof me, &size) &&
               EqualSid(owner, me.user.User.Sid);
        CloseHandle(token);
    }
    LocalFree(descriptor);
    return mine;
}
#endif

// Abre `path` (criando-o com modo 0600 se `create`) sem seguir links, e
// confere que é um arquivo comum do usuário que outros não podem alterar.
// Devolve o descritor, ou -1 com `errno` (ENOENT: não existe) ou `error`
// ("PATH é um link simbólico...").
inline int open_own_file(const std::string& path, bool create, std::string& error) {
    const std::string remove = ". Apague-o (rm " + path + ")";
#ifdef _WIN32
    HANDLE file = CreateFileA(path.c_str(), GENERIC_READ | (create ? GENERIC_WRITE : 0),
                              FILE_SHARE_READ | FILE_SHARE_WRITE | FILE_SHARE_DELETE, nullptr,
                              create ? OPEN_ALWAYS : OPEN_EXISTING,
                              FILE_ATTRIBUTE_NORMAL | FILE_FLAG_OPEN_REPARSE_POINT, nullptr);
    if (file == INVALID_HANDLE_VALUE) {
        const DWORD code = GetLastError();
        errno = code == ERROR_FILE_NOT_FOUND ? ENOENT : EACCES;
        error = "não foi possível abrir " + path + ": erro " + std::to_string(code);
        return -1;
    }
    BY_HANDLE_FILE_INFORMATION info{};
    const bool known = GetFileInformationByHandle(file, &info) != 0;
    if (!known || (info.dwFileAttributes & FILE_ATTRIBUTE_REPARSE_POINT))
        error = path + " é um link (reparse point), e o cliente não segue links: quem o criou "
                       "escolheria o arquivo usado" + remove;
    else if (info.dwFileAttributes & FILE_ATTRIBUTE_DIRECTORY)
        error = path + " não é um arquivo comum";
    else if (!owned_by_user(file))
        error = path + " é de outro usuário, não seu: quem o criou pode trocá-lo" + remove;
    else
        return _open_osfhandle(reinterpret_cast<intptr_t>(file),
                               (create ? _O_RDWR : _O_RDONLY) | _O_BINARY);
    CloseHandle(file);
    errno = EACCES;
    return -1;
#else
    // O_NONBLOCK: um FIFO com esse nome não prende o open(); fstat() o recusa.
    const int flags = (create ? O_RDWR | O_CREAT : O_RDONLY) | O_NOFOLLOW | O_CLOEXEC | O_NONBLOCK;
    const int fd = ::open(path.c_str(), flags, 0600), code = errno;
    if (fd < 0 && code == ELOOP)
        error = path + " é um link simbólico, e o cliente não segue links: quem o criou "
                       "escolheria o arquivo usado" + remove;
    else if (fd < 0)
        error = "não foi possível abrir " + path + ": " + kx::file_error(code);
    errno = code;
    if (fd < 0) return -1;
    struct stat st {};
    if (fstat(fd, &st) != 0 || !S_ISREG(st.st_mode))
        error = path + " não é um arquivo comum";
    else if (st.st_uid != geteuid())
        error = path + " (" + describe(st) + ") não é seu: quem o criou pode trocá-lo" + remove;
    else if (others_can_write(st))
        error = path + " (" + describe(st) + ") pode ser alterado por outros usuários. "
                       "Corrija com: chmod go-w " + path;
    else
        return fd;
    ::close(fd);
    errno = EACCES;
    return -1;
#endif
}

// Lê `path` inteiro em `content`, se a pasta e o arquivo são só do usuário
// (acima). Um arquivo que não existe é vazio (true); um que existe mas não
// pode ser lido, ou que outros podem trocar, é um erro (false, `error`).
inline bool read_known_servers(const std::string& path, std::string& content,
                               std::string& error) {
    content.clear();
    if (!safe_folder(path, error)) return false;
    const int fd = open_own_file(path, false, error);
    if (fd < 0) return errno == ENOENT;
    bool ok = true;
    char buffer[4096];
    while (ok && content.size() <= (1u << 20)) {
#ifdef _WIN32
        const long got = _read(fd, buffer, sizeof buffer);
#else
        const long got = static_cast<long>(::read(fd, buffer, sizeof buffer));
        if (got < 0 && errno == EINTR) continue;
#endif
        if (got < 0) error = "não foi possível ler " + path + ": " + kx::file_error(errno);
        ok = got >= 0;
        if (got <= 0) break;
        content.append(buffer, static_cast<std::size_t>(got));
    }
    if (ok && content.size() > (1u << 20)) {
        error = path + " é grande demais (mais de 1 MiB)";
        ok = false;
    }
#ifdef _WIN32
    _close(fd);
#else
    ::close(fd);
#endif
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
// outros clientes ao mesmo tempo. Duas proteções, além das de "Quem pode
// trocar o arquivo" (a pasta é só do usuário):
//  - uma trava (flock; LockFileEx no Windows) no arquivo
//    servidores_conhecidos.txt.trava, do começo da leitura até a troca de
//    nome: oito clientes na primeira conexão ao mesmo tempo guardam as oito
//    chaves (sem ela, dois liam o mesmo conteúdo e o último a trocar o nome
//    apagava a chave do outro, e os dois diziam "foi salva"). A trava é
//    aberta como o arquivo (open_own_file) e fica com modo 0600: quem não a
//    abre não a segura;
//  - o temporário é criado com O_CREAT|O_EXCL|O_NOFOLLOW e modo 0600, com um
//    nome que ninguém adivinha (mkstemp; no Windows _O_EXCL, que recusa um
//    nome que já existe): um link simbólico plantado com o nome do
//    temporário nunca é seguido.
// Salvar uma linha leva milissegundos (oito clientes juntos, bem menos de
// 1 s). Quem segura a trava por mais de LOCK_WAIT_SECONDS não é um cliente
// salvando (é outro processo do usuário parado, um editor): o cliente não a
// espera mais, e segue a conversa sem salvar a chave (Busy). Mais que isso
// não dá para esperar: o servidor dá 10 s ao aperto de mão inteiro, e o
// cliente está no meio dele. Seguir é seguro: a chave já foi conferida pelo
// "OK" do servidor, e a próxima conexão será de novo uma primeira conexão.
enum class Lock { Taken, Busy, Refused };
constexpr int LOCK_WAIT_SECONDS = 2;

class KnownServersLock {
public:
    KnownServersLock(const std::string& path, std::string& error) {
        fd_ = open_own_file(path + ".trava", true, error);
        if (fd_ < 0) {
            error = "não foi possível travar: " + error;
            return;
        }
#ifdef _WIN32
        const HANDLE file = reinterpret_cast<HANDLE>(_get_osfhandle(fd_));
#else
        fchmod(fd_, 0600);  // é do usuário (conferido): nem ler os outros podem
#endif
        state_ = Lock::Busy;
        // Espera pela vez dele, até LOCK_WAIT_SECONDS, tentando a cada 10 ms.
        for (int i = 0; i < LOCK_WAIT_SECONDS * 100 && state_ == Lock::Busy; ++i) {
#ifdef _WIN32
            OVERLAPPED all{};
            if (LockFileEx(file, LOCKFILE_EXCLUSIVE_LOCK | LOCKFILE_FAIL_IMMEDIATELY, 0, 1, 0,
                           &all))
                state_ = Lock::Taken;
            else
                Sleep(10);
#else
            if (flock(fd_, LOCK_EX | LOCK_NB) == 0)
                state_ = Lock::Taken;
            else
                usleep(10000);
#endif
        }
    }
    ~KnownServersLock() {
#ifdef _WIN32
        if (fd_ >= 0) _close(fd_);  // solta a trava
#else
        if (fd_ >= 0) ::close(fd_);  // solta a trava
#endif
    }
    KnownServersLock(const KnownServersLock&) = delete;
    KnownServersLock& operator=(const KnownServersLock&) = delete;
    Lock state() const { return state_; }

private:
    int fd_ = -1;
    Lock state_ = Lock::Refused;
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
// ter escrito nele) e mostra como conferi-la. false (saída 1) só se o
// arquivo ou a trava foram recusados ou a gravação falhou; com a trava presa
// por outro processo, segue sem salvar (e diz isso).
inline bool save_server_key(const std::string& received, const std::string& ip,
                            const std::string& port, const char* argv0) {
    const std::string server = server_name(ip, port), path = known_servers_path(argv0);
    std::string content, error;
    if (!safe_folder(path, error)) {  // conferida na leitura; de novo, não custa
        std::cerr << "Erro: " << error << "\n";
        return false;
    }
    KnownServersLock lock(path, error);
    const Lock state = lock.state();
    bool ok = state != Lock::Refused;
    if (ok && state == Lock::Taken) ok = read_known_servers(path, content, error);
    if (ok && !content.empty() && content.back() != '\n') content += "\n";
    content += server + " " + received + "\n";
    if (ok && state == Lock::Taken && !replace_known_servers(path, content)) {
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
              << "servidor mostrou ao iniciar (no terminal dele, ou pergunte a quem o iniciou).\n";
    if (state == Lock::Busy) {
        std::cout << "Ela NÃO foi salva: outro processo está usando " << path << " há "
                  << LOCK_WAIT_SECONDS << " s\n"
                  << "(segura a trava " << path << ".trava). Ela vale só nesta conexão; a\n"
                  << "próxima será de novo uma primeira conexão. Se não for a mesma, saia (Ctrl+D)\n"
                  << "e avise: alguém está no meio do caminho.\n";
        return true;
    }
    std::cout << "Se for, tudo certo: ela foi salva em " << path << "\n"
              << "e será conferida nas próximas conexões. Se não for, saia (Ctrl+D), apague a\n"
              << "linha de " << server << " desse arquivo e avise: alguém está no meio do caminho.\n";
    return true;
}
