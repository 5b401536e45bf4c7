// Exemplo 4 - o par de chaves de LONGO PRAZO do servidor, no arquivo
// servidor.chave ao lado do programa (não é a lição de sockets: main() chama
// load() uma vez). Criado na primeira execução, com permissão 0600 (só o dono
// lê), e lido nas seguintes: é a identidade do servidor, a mesma chave pública
// a cada execução, para o cliente poder reconhecê-la. A chave secreta nunca é
// impressa.
#pragma once

#include <sodium.h>

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <fcntl.h>
#include <fstream>
#include <iostream>
#include <sstream>
#include <string>

#ifdef _WIN32
#include <io.h>
#include <process.h>
#include <sys/stat.h>
#else
#include <unistd.h>
#endif

#include "../common/net.h"
#include "kx.h"

namespace server_key {

constexpr const char* FILE_NAME = "servidor.chave";

struct KeyPair {
    unsigned char public_key[kx::KEY_BYTES];
    unsigned char secret_key[kx::SECRET_BYTES];
    std::string public_text;  // a chave pública em base64: 44 caracteres
};

// Lê o par de `path`. false + `error` se o arquivo não tem as duas linhas, ou
// se a chave secreta não corresponde à pública.
inline bool read(const std::string& path, KeyPair& keys, std::string& error) {
    std::ifstream in(path, std::ios::binary);
    if (!in) {
        error = "não foi possível ler " + path + ": " + std::strerror(errno);
        return false;
    }
    std::string line, label, value;
    bool got_public = false, got_secret = false;
    while (std::getline(in, line)) {
        std::istringstream words(line);
        if (!(words >> label >> value)) continue;
        if (label == "publica") got_public = kx::read_key(value, keys.public_key);
        if (label == "secreta")
            got_secret = kx::read_exact(value, keys.secret_key, kx::SECRET_BYTES);
        sodium_memzero(&value[0], value.size());
    }
    sodium_memzero(&line[0], line.size());
    unsigned char check[kx::KEY_BYTES];
    if (!got_public || !got_secret || crypto_scalarmult_base(check, keys.secret_key) != 0 ||
        sodium_memcmp(check, keys.public_key, kx::KEY_BYTES) != 0) {
        sodium_memzero(keys.secret_key, kx::SECRET_BYTES);
        error = "o arquivo de chave " + path +
                " está corrompido (apague-o para gerar um novo par de chaves)";
        return false;
    }
    keys.public_text = kx::to_base64(keys.public_key, kx::KEY_BYTES);
    return true;
}

// Grava um par novo em `path` sem nunca deixar um arquivo pela metade: escreve
// num arquivo temporário criado com permissão 0600 e só então lhe dá o nome
// final. Se outro servidor criou o arquivo ao mesmo tempo, vale o dele.
inline bool create(const std::string& path, std::string& error) {
    unsigned char pk[kx::KEY_BYTES], sk[kx::SECRET_BYTES];
    crypto_kx_keypair(pk, sk);
    std::string text =
        "# Exemplo 4: par de chaves de longo prazo do servidor (crypto_kx).\n"
        "# A linha 'secreta' nunca deve sair desta máquina. Apague este arquivo\n"
        "# para gerar um par novo (os clientes vão estranhar a chave nova).\n"
        "publica " + kx::to_base64(pk, sizeof pk) + "\n"
        "secreta " + kx::to_base64(sk, sizeof sk) + "\n";
    sodium_memzero(sk, sizeof sk);
#ifdef _WIN32
    // Windows não tem 0600: o arquivo herda as permissões da pasta.
    const std::string temp = path + ".tmp" + std::to_string(_getpid());
    int fd = _open(temp.c_str(), _O_CREAT | _O_EXCL | _O_WRONLY | _O_BINARY, _S_IREAD | _S_IWRITE);
#else
    const std::string temp = path + ".tmp" + std::to_string(getpid());
    int fd = ::open(temp.c_str(), O_CREAT | O_EXCL | O_WRONLY | O_CLOEXEC, 0600);
#endif
    if (fd < 0) {
        error = "não foi possível criar " + temp + ": " + std::strerror(errno);
        sodium_memzero(&text[0], text.size());
        return false;
    }
#ifdef _WIN32
    bool written = _write(fd, text.data(), static_cast<unsigned>(text.size())) ==
                   static_cast<int>(text.size());
    written = _close(fd) == 0 && written;
    // rename() no Windows falha se o destino existe: o outro servidor ganhou.
    bool placed = written && (std::rename(temp.c_str(), path.c_str()) == 0 ||
                              std::ifstream(path).good());
#else
    bool written = write(fd, text.data(), text.size()) == static_cast<ssize_t>(text.size()) &&
                   fsync(fd) == 0;
    written = close(fd) == 0 && written;
    // link() falha se o destino existe (EEXIST): o outro servidor ganhou.
    bool placed = written && (link(temp.c_str(), path.c_str()) == 0 || errno == EEXIST);
#endif
    if (!placed) error = "não foi possível gravar " + path + ": " + std::strerror(errno);
    std::remove(temp.c_str());
    sodium_memzero(&text[0], text.size());
    return placed;
}

// O par de chaves do servidor, do arquivo ao lado do programa (argv[0]):
// lido, ou criado se ainda não existe. Em erro, explica e devolve false.
inline bool load(const char* argv0, KeyPair& keys) {
    kx::start_sodium();
    const std::string path = net::program_folder(argv0) + "/" + FILE_NAME;
    std::string error;
    bool created = false;
    if (!std::ifstream(path)) {
        created = create(path, error);
        if (!created) {
            std::cerr << "Erro: " << error << "\n";
            return false;
        }
    }
    if (!read(path, keys, error)) {
        std::cerr << "Erro: " << error << "\n";
        return false;
    }
    if (created) std::cout << "Par de chaves novo criado em " << path << "\n";
    return true;
}

}  // namespace server_key
