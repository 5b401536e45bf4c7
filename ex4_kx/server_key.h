// Exemplo 4 - o par de chaves de LONGO PRAZO do servidor, no arquivo
// servidor.chave ao lado do programa (não é a lição de sockets: main() chama
// load() uma vez). Criado na primeira execução, com permissão 0600 (só o dono
// lê), e lido nas seguintes: é a identidade do servidor, a mesma chave pública
// a cada execução, para o cliente poder reconhecê-la. A chave secreta nunca é
// impressa, e o intruso usa o mesmo código para o seu intruso.chave.
//
// Cuidados com a chave secreta, como os do OpenSSH com as suas:
//  - se outros usuários podem ler o arquivo (grupo ou outros com qualquer
//    permissão), o servidor se recusa a usá-lo e diz o chmod que resolve;
//  - o arquivo é lido direto para memória da libsodium (sodium_malloc), que
//    é apagada ao ser liberada; a secreta fica lá, só para leitura
//    (sodium_mprotect_readonly), enquanto o servidor roda. Nada passa por
//    std::string ou std::ifstream, cujos buffers ninguém apaga;
//  - o arquivo novo nunca fica pela metade nem deixa um temporário para trás:
//    no Linux ele é escrito sem nome (O_TMPFILE) e só ganha o nome final
//    quando está completo; se o servidor morrer no meio, não sobra nada.
#pragma once

#include <sodium.h>

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <fcntl.h>
#include <iostream>
#include <string>
#include <sys/stat.h>
#include <sys/types.h>

#ifdef _WIN32
#include <io.h>
#include <process.h>
#else
#include <unistd.h>
#endif

#include "../common/net.h"
#include "kx.h"

namespace server_key {

constexpr const char* FILE_NAME = "servidor.chave";
constexpr std::size_t MAX_FILE = 4096;  // um arquivo de chave tem uns 270 bytes

struct KeyPair {
    unsigned char public_key[kx::KEY_BYTES];
    unsigned char* secret_key = nullptr;  // 32 bytes de sodium_malloc(), só leitura
    std::string public_text;              // a chave pública em base64: 44 caracteres
};

// Memória que é apagada quando liberada (sodium_malloc / sodium_free).
struct Secret {
    unsigned char* data;
    explicit Secret(std::size_t size) : data(static_cast<unsigned char*>(sodium_malloc(size))) {}
    ~Secret() { sodium_free(data); }  // sodium_free apaga antes de liberar
    Secret(const Secret&) = delete;
    Secret& operator=(const Secret&) = delete;
};

// Lê o arquivo inteiro para `buffer` (MAX_FILE bytes); devolve o tamanho, ou
// -1 com `error`. Recusa um arquivo que outros usuários possam ler.
inline long read_file(const std::string& path, unsigned char* buffer, std::string& error) {
#ifdef _WIN32
    int fd = _open(path.c_str(), _O_RDONLY | _O_BINARY);
#else
    int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
#endif
    if (fd < 0) {
        error = "não foi possível ler " + path + ": " + kx::file_error(errno);
        return -1;
    }
    long total = 0;
#ifndef _WIN32
    // Windows não tem esses bits: lá o arquivo herda as permissões da pasta.
    struct stat st {};
    if (fstat(fd, &st) != 0 || !S_ISREG(st.st_mode)) {
        error = path + " não é um arquivo comum";
        total = -1;
    } else if ((st.st_mode & 077) != 0) {
        char mode[8];
        std::snprintf(mode, sizeof mode, "%04o", static_cast<unsigned>(st.st_mode & 07777));
        error = "as permissões de " + path + " são " + mode +
                ": outros usuários desta máquina podem ler a chave secreta do servidor.\n"
                "A chave tem que ser só do dono (como o OpenSSH exige das suas); corrija com:\n"
                "  chmod 600 " + path;
        total = -1;
    }
#endif
    while (total >= 0) {
        const std::size_t room = MAX_FILE - static_cast<std::size_t>(total);
#ifdef _WIN32
        long got = _read(fd, buffer + total, static_cast<unsigned>(room));
#else
        long got = static_cast<long>(::read(fd, buffer + total, room));
#endif
        if (got < 0 && errno == EINTR) continue;
        if (got < 0) error = "não foi possível ler " + path + ": " + kx::file_error(errno);
        if (got == 0 && room == 0) error = path + " é grande demais para um arquivo de chave";
        if (got < 0 || (got == 0 && room == 0)) total = -1;
        if (got <= 0) break;
        total += got;
    }
#ifdef _WIN32
    _close(fd);
#else
    ::close(fd);
#endif
    return total;
}

// Lê o par de `path`. false + `error` se o arquivo não pode ser lido, está
// aberto a outros usuários, não tem as duas linhas, ou se a chave secreta não
// corresponde à pública.
inline bool read_pair(const std::string& path, KeyPair& keys, std::string& error) {
    Secret file(MAX_FILE);
    if (!file.data || !keys.secret_key) {
        error = "sem memória para a chave";
        return false;
    }
    const long size = read_file(path, file.data, error);
    if (size < 0) return false;
    const char* text = reinterpret_cast<const char*>(file.data);
    bool got_public = false, got_secret = false, strange = false;
    for (long start = 0; start < size;) {  // uma linha de cada vez, sem copiá-la
        long end = start;
        while (end < size && text[end] != '\n') ++end;
        long length = end - start;
        if (length > 0 && text[start + length - 1] == '\r') --length;
        const char* line = text + start;
        if (length > 8 && std::memcmp(line, "publica ", 8) == 0)
            got_public = kx::decode_exact(line + 8, length - 8, keys.public_key, kx::KEY_BYTES);
        else if (length > 8 && std::memcmp(line, "secreta ", 8) == 0)
            got_secret =
                kx::decode_exact(line + 8, length - 8, keys.secret_key, kx::SECRET_BYTES);
        else if (length > 0 && line[0] != '#')
            strange = true;
        start = end + 1;
    }
    unsigned char check[kx::KEY_BYTES];
    if (strange || !got_public || !got_secret ||
        crypto_scalarmult_base(check, keys.secret_key) != 0 ||
        sodium_memcmp(check, keys.public_key, kx::KEY_BYTES) != 0) {
        sodium_memzero(keys.secret_key, kx::SECRET_BYTES);
        error = "o arquivo de chave " + path +
                " está corrompido (apague-o para gerar um novo par de chaves)";
        return false;
    }
    keys.public_text = kx::to_base64(keys.public_key, kx::KEY_BYTES);
    return true;
}

// Escreve `length` bytes em `fd` (um arquivo), repetindo se o write() for parcial.
inline bool write_all(int fd, const unsigned char* data, std::size_t length) {
    while (length > 0) {
#ifdef _WIN32
        long wrote = _write(fd, data, static_cast<unsigned>(length));
#else
        long wrote = static_cast<long>(::write(fd, data, length));
#endif
        if (wrote < 0 && errno == EINTR) continue;
        if (wrote <= 0) return false;
        data += wrote;
        length -= static_cast<std::size_t>(wrote);
    }
    return true;
}

// Grava um par novo em `folder`/`name` sem nunca deixar um arquivo pela
// metade nem um temporário para trás. Se outro servidor criou o arquivo ao
// mesmo tempo, vale o dele.
inline bool create_pair(const std::string& folder, const std::string& path, std::string& error) {
    Secret text(MAX_FILE), secret(kx::SECRET_BYTES);
    if (!text.data || !secret.data) {
        error = "sem memória para a chave";
        return false;
    }
    unsigned char public_key[kx::KEY_BYTES];
    crypto_kx_keypair(public_key, secret.data);
    // O conteúdo é montado direto na memória que será apagada.
    char* out = reinterpret_cast<char*>(text.data);
    std::size_t n = 0;
    auto append = [&](const char* piece) {
        std::memcpy(out + n, piece, std::strlen(piece));
        n += std::strlen(piece);
    };
    auto append_base64 = [&](const unsigned char* bytes) {
        sodium_bin2base64(out + n, MAX_FILE - n, bytes, kx::KEY_BYTES, kx::BASE64);
        n += kx::KEY_LINE;
    };
    append("# Exemplo 4: par de chaves de longo prazo (crypto_kx).\n"
           "# A linha 'secreta' nunca deve sair desta máquina. Apague este arquivo\n"
           "# para gerar um par novo (os clientes vão estranhar a chave nova).\n"
           "publica ");
    append_base64(public_key);
    append("\nsecreta ");
    append_base64(secret.data);
    append("\n");
    bool placed = false;
    int saved = 0;
#if defined(__linux__) && defined(O_TMPFILE)
    // Um arquivo sem nome na pasta: se o servidor morrer antes do linkat(), ele
    // some sozinho. linkat() lhe dá o nome final e falha se o nome já existe.
    int fd = ::open(folder.c_str(), O_TMPFILE | O_WRONLY | O_CLOEXEC, 0600);
    if (fd >= 0) {
        const std::string self = "/proc/self/fd/" + std::to_string(fd);
        placed = write_all(fd, text.data, n) && fsync(fd) == 0 &&
                 (linkat(AT_FDCWD, self.c_str(), AT_FDCWD, path.c_str(), AT_SYMLINK_FOLLOW) ==
                      0 ||
                  errno == EEXIST);
        saved = errno;
        ::close(fd);
        if (!placed) error = "não foi possível gravar " + path + ": " + kx::file_error(saved);
        return placed;
    }
    // Sem O_TMPFILE neste sistema de arquivos: o caminho abaixo.
#endif
    // Um temporário com nome (macOS, Windows): só um servidor que morra entre
    // o open() e o remove() o deixaria para trás.
#ifdef _WIN32
    const std::string temp = path + ".tmp" + std::to_string(_getpid());
    int tmp = _open(temp.c_str(), _O_CREAT | _O_EXCL | _O_WRONLY | _O_BINARY, _S_IREAD | _S_IWRITE);
#else
    const std::string temp = path + ".tmp" + std::to_string(getpid());
    int tmp = ::open(temp.c_str(), O_CREAT | O_EXCL | O_WRONLY | O_CLOEXEC, 0600);
#endif
    (void)folder;
    if (tmp < 0) {
        error = "não foi possível criar " + temp + ": " + kx::file_error(errno);
        return false;
    }
#ifdef _WIN32
    bool written = write_all(tmp, text.data, n);
    written = _close(tmp) == 0 && written;
    // rename() no Windows falha se o destino existe: o outro servidor ganhou.
    struct stat st {};
    placed = written && (std::rename(temp.c_str(), path.c_str()) == 0 || stat(path.c_str(), &st) == 0);
#else
    bool written = write_all(tmp, text.data, n) && fsync(tmp) == 0;
    written = ::close(tmp) == 0 && written;
    // link() falha se o destino existe (EEXIST): o outro servidor ganhou.
    placed = written && (link(temp.c_str(), path.c_str()) == 0 || errno == EEXIST);
#endif
    saved = errno;
    if (!placed) error = "não foi possível gravar " + path + ": " + kx::file_error(saved);
    std::remove(temp.c_str());
    return placed;
}

// O par de chaves do arquivo `file_name` ao lado do programa (argv[0]): lido,
// ou criado se ainda não existe. Em erro, explica e devolve false.
inline bool load(const char* argv0, KeyPair& keys, const char* file_name = FILE_NAME) {
    kx::start_sodium();
    const std::string folder = net::program_folder(argv0), path = folder + "/" + file_name;
    std::string error;
    bool created = false;
    struct stat st {};
    if (stat(path.c_str(), &st) != 0 && errno == ENOENT) {
        created = create_pair(folder, path, error);
        if (!created) {
            std::cerr << "Erro: " << error << "\n";
            return false;
        }
    }
    keys.secret_key = static_cast<unsigned char*>(sodium_malloc(kx::SECRET_BYTES));
    if (!read_pair(path, keys, error)) {
        std::cerr << "Erro: " << error << "\n";
        return false;
    }
    sodium_mprotect_readonly(keys.secret_key);  // daqui em diante, só leitura
    if (created) std::cout << "Par de chaves novo criado em " << path << "\n";
    return true;
}

}  // namespace server_key
