// Exemplo 4 - as chaves guardadas em arquivo (não é a lição de sockets; o
// servidor e o cliente chamam estas funções uma vez, no começo):
//
//  - o par de chaves de LONGO PRAZO do servidor, no arquivo servidor.chave ao
//    lado do programa: criado na primeira execução, com permissão 0600 (só o
//    dono lê), e lido nas seguintes. A chave secreta nunca é impressa. É a
//    identidade do servidor: a mesma chave pública a cada execução, para o
//    cliente poder reconhecê-la.
//
//  - os servidores CONHECIDOS do cliente, no arquivo servidores_conhecidos.txt
//    ao lado do programa, como o ~/.ssh/known_hosts do SSH: uma linha
//    "ENDEREÇO:PORTA CHAVE" por servidor, gravada na primeira conexão
//    ("confiança no primeiro uso", TOFU). Nas seguintes, a chave recebida
//    tem que ser a mesma.
#pragma once

#include <sodium.h>

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <fcntl.h>
#include <fstream>
#include <sstream>
#include <string>

#ifdef _WIN32
#include <io.h>
#include <process.h>
#include <sys/stat.h>
#else
#include <unistd.h>
#endif

#include "kx.h"

namespace keys {

constexpr const char* SERVER_KEY_FILE = "servidor.chave";
constexpr const char* KNOWN_SERVERS_FILE = "servidores_conhecidos.txt";

// Lê o par de chaves de `path`. false + `error` se o arquivo não tem as duas
// linhas, ou se a chave secreta não corresponde à pública.
inline bool read_key_pair(const std::string& path, unsigned char pk[kx::KEY_BYTES],
                          unsigned char sk[kx::SECRET_BYTES], std::string& error) {
    std::ifstream in(path, std::ios::binary);
    if (!in) {
        error = "não foi possível ler " + path + ": " + std::strerror(errno);
        return false;
    }
    std::string line, label, value;
    bool got_pk = false, got_sk = false;
    while (std::getline(in, line)) {
        std::istringstream words(line);
        if (!(words >> label >> value)) continue;
        if (label == "publica") got_pk = kx::read_key(value, pk);
        if (label == "secreta") got_sk = kx::read_exact(value, sk, kx::SECRET_BYTES);
        sodium_memzero(&value[0], value.size());
    }
    sodium_memzero(&line[0], line.size());
    unsigned char check[kx::KEY_BYTES];
    if (!got_pk || !got_sk || crypto_scalarmult_base(check, sk) != 0 ||
        sodium_memcmp(check, pk, kx::KEY_BYTES) != 0) {
        sodium_memzero(sk, kx::SECRET_BYTES);
        error = "o arquivo de chave " + path +
                " está corrompido (apague-o para gerar um novo par de chaves)";
        return false;
    }
    return true;
}

// Grava um par novo em `path` sem nunca deixar um arquivo pela metade: escreve
// num arquivo temporário criado com permissão 0600 e só então lhe dá o nome
// final. Se outro servidor criou o arquivo ao mesmo tempo, vale o dele.
inline bool create_key_pair(const std::string& path, std::string& error) {
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

// O par de chaves do servidor: lido de `path`, ou criado se ainda não existe
// (`created` = true).
inline bool load_or_create(const std::string& path, unsigned char pk[kx::KEY_BYTES],
                           unsigned char sk[kx::SECRET_BYTES], bool& created,
                           std::string& error) {
    created = false;
    if (!std::ifstream(path)) {
        if (!create_key_pair(path, error)) return false;
        created = true;
    }
    return read_key_pair(path, pk, sk, error);
}

// A chave salva para `server` ("ENDEREÇO:PORTA") no arquivo de servidores
// conhecidos; "" se ele ainda não está lá.
inline std::string known_key(const std::string& path, const std::string& server) {
    std::ifstream in(path);
    std::string line, name, key;
    while (std::getline(in, line)) {
        std::istringstream words(line);
        if (words >> name >> key && name == server) return key;
    }
    return "";
}

// Acrescenta "ENDEREÇO:PORTA CHAVE" ao arquivo (numa escrita só).
inline bool remember(const std::string& path, const std::string& server, const std::string& key) {
    std::ofstream out(path, std::ios::app | std::ios::binary);
    out << (server + " " + key + "\n") << std::flush;
    return static_cast<bool>(out);
}

}  // namespace keys
