// Exemplo 4 - o formato das linhas na rede, usado pelo servidor, pelo
// cliente, pelo intruso e pelos testes: chaves públicas, cabeçalhos e
// mensagens cifradas. É o token.h do Exemplo 2, com outra criptografia.
//
// O aperto de mão (cada linha termina em '\n'; base64url COM padding, como no
// Exemplo 2 e no urlsafe_b64encode do Python):
//   servidor -> cliente: base64(chave pública de longo prazo do servidor)  44 + '\n'
//   cliente -> servidor: base64(chave pública nova, só desta conexão)      44 + '\n'
//   (os dois calculam as chaves de sessão com crypto_kx: rx para receber, tx
//   para enviar; o tx de um é o rx do outro, e quem só escuta não as calcula)
//   cada lado -> o outro: base64(cabeçalho do seu fluxo secretstream)      32 + '\n'
// Depois, cada mensagem é uma linha base64(push(texto)): texto + 17 bytes
// (1 byte de tipo cifrado + 16 de MAC), sem nonce na rede: o nonce é um
// contador dentro do estado do fluxo. Por isso uma linha repetida, fora de
// ordem ou que falta não abre: o contador do outro lado não bate.
#pragma once

#include <sodium.h>

#include <cstddef>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <vector>

namespace kx {

constexpr std::size_t KEY_BYTES = crypto_kx_PUBLICKEYBYTES;         // 32
constexpr std::size_t SECRET_BYTES = crypto_kx_SECRETKEYBYTES;      // 32
constexpr std::size_t SESSION_BYTES = crypto_kx_SESSIONKEYBYTES;    // 32
constexpr std::size_t HEADER_BYTES =
    crypto_secretstream_xchacha20poly1305_HEADERBYTES;              // 24
constexpr std::size_t EXTRA_BYTES = crypto_secretstream_xchacha20poly1305_ABYTES;  // 17
constexpr int BASE64 = sodium_base64_VARIANT_URLSAFE;               // com '='

// Tamanhos das linhas, sem o '\n'.
constexpr std::size_t KEY_LINE = 44;     // base64 de 32 bytes
constexpr std::size_t HEADER_LINE = 32;  // base64 de 24 bytes

// Uma linha tem no máximo 1024 bytes contando o '\n', como no Exemplo 2:
// 1023 caracteres de base64 carregam 1023 / 4 * 3 = 765 bytes = 17 + 748.
constexpr std::size_t MAX_LINE = 1024;
constexpr std::size_t MAX_TEXT = (MAX_LINE - 1) / 4 * 3 - EXTRA_BYTES;  // 748

using Stream = crypto_secretstream_xchacha20poly1305_state;

// A libsodium precisa ser iniciada antes do primeiro uso (chamar de novo não
// custa nada). Só falha se o sistema não tiver fonte de números aleatórios.
inline void start_sodium() {
    if (sodium_init() < 0) {
        std::fputs("Erro: não foi possível iniciar a libsodium\n", stderr);
        std::exit(1);
    }
}

inline std::string to_base64(const unsigned char* data, std::size_t length) {
    std::string text(sodium_base64_ENCODED_LEN(length, BASE64), '\0');
    sodium_bin2base64(&text[0], text.size(), data, length, BASE64);
    text.pop_back();  // o '\0' final que a libsodium escreve
    return text;
}

// Decodifica base64url com padding. Rejeita qualquer caractere fora do
// alfabeto, padding errado ou sobra no fim. (O alfabeto é conferido aqui
// antes: a libsodium 1.0.18 lê alguns bytes acima de 127 como se fossem '_',
// e então a mesma chave teria mais de uma grafia. O fuzzer achou isso.)
inline bool from_base64(const std::string& text, std::vector<unsigned char>& data) {
    for (char c : text)
        if (!((c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') ||
              c == '-' || c == '_' || c == '='))
            return false;
    data.assign(text.size() / 4 * 3 + 3, 0);
    std::size_t length = 0;
    const char* end = nullptr;
    if (sodium_base642bin(data.data(), data.size(), text.data(), text.size(), nullptr,
                          &length, &end, BASE64) != 0 ||
        end != text.data() + text.size())
        return false;
    data.resize(length);
    return true;
}

// Lê uma linha de exatamente `size` bytes em base64 (uma chave: 32; um
// cabeçalho: 24). Qualquer outra coisa é rejeitada.
inline bool read_exact(const std::string& line, unsigned char* out, std::size_t size) {
    std::vector<unsigned char> data;
    if (line.size() != sodium_base64_ENCODED_LEN(size, BASE64) - 1 ||
        !from_base64(line, data) || data.size() != size)
        return false;
    std::copy(data.begin(), data.end(), out);
    sodium_memzero(data.data(), data.size());
    return true;
}

inline bool read_key(const std::string& line, unsigned char key[KEY_BYTES]) {
    return read_exact(line, key, KEY_BYTES);
}

// Abre o fluxo de ENVIO com a chave tx: devolve a linha do cabeçalho (24
// bytes aleatórios, que o outro lado precisa para abrir o fluxo dele).
inline std::string start_sending(Stream& stream, const unsigned char tx[SESSION_BYTES]) {
    unsigned char header[HEADER_BYTES];
    crypto_secretstream_xchacha20poly1305_init_push(&stream, header, tx);
    return to_base64(header, sizeof header);
}

// Abre o fluxo de RECEBIMENTO com a chave rx e o cabeçalho recebido.
inline bool start_receiving(Stream& stream, const std::string& header_line,
                            const unsigned char rx[SESSION_BYTES]) {
    unsigned char header[HEADER_BYTES];
    return read_exact(header_line, header, HEADER_BYTES) &&
           crypto_secretstream_xchacha20poly1305_init_pull(&stream, header, rx) == 0;
}

// Cifra a próxima mensagem do fluxo de envio: devolve a linha (sem '\n').
inline std::string seal(Stream& stream, const std::string& text) {
    std::vector<unsigned char> box(text.size() + EXTRA_BYTES);
    crypto_secretstream_xchacha20poly1305_push(
        &stream, box.data(), nullptr, reinterpret_cast<const unsigned char*>(text.data()),
        text.size(), nullptr, 0, crypto_secretstream_xchacha20poly1305_TAG_MESSAGE);
    return to_base64(box.data(), box.size());
}

// Decifra a próxima mensagem do fluxo de recebimento. Falha (false) se a
// linha não for base64url, se for curta demais, se o MAC não conferir
// (alterada, repetida, fora de ordem, depois de uma que faltou, outra chave)
// ou se o tipo não for TAG_MESSAGE. Depois de uma falha o fluxo não serve
// mais: quem chama encerra a conexão.
inline bool open(Stream& stream, const std::string& line, std::string& text) {
    std::vector<unsigned char> box;
    if (!from_base64(line, box) || box.size() < EXTRA_BYTES) return false;
    std::vector<unsigned char> plain(box.size() - EXTRA_BYTES);
    unsigned char tag = 0;
    if (crypto_secretstream_xchacha20poly1305_pull(&stream, plain.data(), nullptr, &tag,
                                                   box.data(), box.size(), nullptr, 0) != 0 ||
        tag != crypto_secretstream_xchacha20poly1305_TAG_MESSAGE)
        return false;
    text.assign(plain.begin(), plain.end());
    sodium_memzero(plain.data(), plain.size());
    return true;
}

}  // namespace kx
