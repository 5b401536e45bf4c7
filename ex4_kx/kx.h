// Exemplo 4 - o formato das linhas na rede, usado pelo servidor, pelo
// cliente, pelo intruso e pelos testes: chaves públicas, chaves de sessão,
// cabeçalhos e mensagens cifradas. É o token.h do Exemplo 2, com outra
// criptografia.
//
// O aperto de mão (cada linha termina em '\n'; base64url COM padding, como no
// Exemplo 2 e no urlsafe_b64encode do Python). S, Es e Ec são chaves
// públicas de 32 bytes; s, es e ec, as secretas correspondentes:
//   servidor -> cliente: base64(S)   chave de LONGO PRAZO do servidor   44 + '\n'
//   servidor -> cliente: base64(Es)  chave nova, só desta conexão       44 + '\n'
//   cliente -> servidor: base64(Ec)  chave nova do cliente, só desta    44 + '\n'
//   Os dois calculam as chaves de sessão (crypto_kx duas vezes, e BLAKE2b):
//     cliente:  (r1,t1) = crypto_kx_client_session_keys(Ec, ec, S)
//               (r2,t2) = crypto_kx_client_session_keys(Ec, ec, Es)
//     servidor: (r1,t1) = crypto_kx_server_session_keys(S, s, Ec)
//               (r2,t2) = crypto_kx_server_session_keys(Es, es, Ec)
//     os dois:  rx = crypto_generichash(32, r1‖r2), tx = crypto_generichash(32, t1‖t2)
//   (rx para receber, tx para enviar; o tx de um é o rx do outro). Com S o
//   cliente sabe COM QUEM fala (só quem tem s chega a r1); com Es e Ec, as
//   chaves são novas a cada conexão, e es e ec são apagados logo depois:
//   nem quem depois roubar s (o arquivo servidor.chave) decifra uma captura.
//   cliente -> servidor: base64(cabeçalho do fluxo do cliente)        32 + '\n'
//   servidor -> cliente: base64(cabeçalho do fluxo do servidor)       32 + '\n'
//   servidor -> cliente: base64(push("OK"))  a confirmação da chave    28 + '\n'
//   cliente -> servidor: base64(push("OK"))  como o "OK" do Exemplo 2  28 + '\n'
// Na rede: o servidor envia S e Es num send() só (90 bytes), depois o seu
// cabeçalho e o OK (62); o cliente, Ec e o seu cabeçalho (78), depois o OK (29).
// O cliente só mostra o prompt depois de abrir o "OK" do servidor: quem não
// tem s e es (um impostor com a chave pública copiada, ou uma resposta
// gravada de outra conexão) não consegue cifrá-lo.
// Depois, cada mensagem é uma linha base64(push(texto)): texto + 17 bytes
// (1 byte de tipo cifrado + 16 de MAC), sem nonce na rede: o nonce é um
// contador dentro do estado do fluxo. Por isso uma linha repetida, fora de
// ordem ou que falta não abre: o contador do outro lado não bate.
#pragma once

#include <sodium.h>

#include "../common/net.h"
#include "../ex2_crypto/token.h"  // base64url (com a conferência do alfabeto) e start_sodium

#include <cstddef>
#include <cstring>
#include <string>
#include <vector>

namespace kx {

constexpr std::size_t KEY_BYTES = crypto_kx_PUBLICKEYBYTES;         // 32
constexpr std::size_t SECRET_BYTES = crypto_kx_SECRETKEYBYTES;      // 32
constexpr std::size_t SESSION_BYTES = crypto_kx_SESSIONKEYBYTES;    // 32
constexpr std::size_t HEADER_BYTES =
    crypto_secretstream_xchacha20poly1305_HEADERBYTES;              // 24
constexpr std::size_t EXTRA_BYTES = crypto_secretstream_xchacha20poly1305_ABYTES;  // 17

// Tamanhos das linhas, sem o '\n'.
constexpr std::size_t KEY_LINE = 44;     // base64 de 32 bytes
constexpr std::size_t HEADER_LINE = 32;  // base64 de 24 bytes
constexpr std::size_t OK_LINE = 28;      // base64 de push("OK"): 2 + 17 = 19 bytes

// A confirmação da chave: o primeiro texto de cada fluxo.
constexpr const char* CONFIRMATION = "OK";

// Uma linha tem no máximo 1024 bytes contando o '\n', como no Exemplo 2:
// 1023 caracteres de base64 carregam 1023 / 4 * 3 = 765 bytes = 17 + 748.
constexpr std::size_t MAX_LINE = 1024;
constexpr std::size_t MAX_TEXT = (MAX_LINE - 1) / 4 * 3 - EXTRA_BYTES;  // 748

using Stream = crypto_secretstream_xchacha20poly1305_state;

// O base64url e o início da libsodium são os do Exemplo 2 (token.h), os mesmos
// nas linhas dos dois exemplos: uma correção lá vale aqui.
using token::BASE64;        // base64url COM padding, como urlsafe_b64encode
using token::from_base64;   // rejeita o que não é do alfabeto, padding errado, sobras
using token::is_base64;     // o alfabeto, conferido antes da libsodium
using token::start_sodium;  // sodium_init(), uma vez
using token::to_base64;

// O texto de um erro de arquivo (errno): em português para os mais comuns,
// com o nome e o número, como os de rede (common/net.h).
inline std::string file_error(int code) {
#ifdef _WIN32
    return std::string(std::strerror(code)) + " (" + std::to_string(code) + ")";
#else
    return net::error_text(code);
#endif
}


// Lê `length` caracteres de base64 que têm que ser exatamente `size` bytes
// (uma chave: 32; um cabeçalho: 24), direto em `out`, sem cópias no meio
// (para a chave secreta do arquivo do servidor). Qualquer outra coisa é
// rejeitada; então `out` pode ter ficado pela metade, e quem chama o apaga.
inline bool decode_exact(const char* text, std::size_t length, unsigned char* out,
                         std::size_t size) {
    if (length != sodium_base64_ENCODED_LEN(size, BASE64) - 1) return false;
    for (std::size_t i = 0; i < length; ++i)
        if (!is_base64(text[i])) return false;
    std::size_t decoded = 0;
    const char* end = nullptr;
    return sodium_base642bin(out, size, text, length, nullptr, &decoded, &end, BASE64) == 0 &&
           end == text + length && decoded == size;
}

// Lê uma linha de exatamente `size` bytes em base64.
inline bool read_exact(const std::string& line, unsigned char* out, std::size_t size) {
    return decode_exact(line.data(), line.size(), out, size);
}

inline bool read_key(const std::string& line, unsigned char key[KEY_BYTES]) {
    return read_exact(line, key, KEY_BYTES);
}

// Um par de chaves só desta conexão (o Es do servidor, o Ec do cliente). A
// secreta é apagada assim que as chaves de sessão são calculadas, e de novo
// quando o par sai de escopo. Nunca vai para um arquivo.
struct Ephemeral {
    unsigned char public_key[KEY_BYTES], secret_key[SECRET_BYTES];
    Ephemeral() { crypto_kx_keypair(public_key, secret_key); }
    ~Ephemeral() { sodium_memzero(secret_key, sizeof secret_key); }
    Ephemeral(const Ephemeral&) = delete;
    Ephemeral& operator=(const Ephemeral&) = delete;
    std::string line() const { return to_base64(public_key, KEY_BYTES) + "\n"; }
};

// rx = BLAKE2b-256(r1‖r2), tx = BLAKE2b-256(t1‖t2) (crypto_generichash, sem
// chave), e apaga r1, t1, r2 e t2.
inline void combine(unsigned char rx[SESSION_BYTES], unsigned char tx[SESSION_BYTES],
                    unsigned char r1[SESSION_BYTES], unsigned char t1[SESSION_BYTES],
                    unsigned char r2[SESSION_BYTES], unsigned char t2[SESSION_BYTES]) {
    crypto_generichash_state state;
    crypto_generichash_init(&state, nullptr, 0, SESSION_BYTES);
    crypto_generichash_update(&state, r1, SESSION_BYTES);
    crypto_generichash_update(&state, r2, SESSION_BYTES);
    crypto_generichash_final(&state, rx, SESSION_BYTES);
    crypto_generichash_init(&state, nullptr, 0, SESSION_BYTES);
    crypto_generichash_update(&state, t1, SESSION_BYTES);
    crypto_generichash_update(&state, t2, SESSION_BYTES);
    crypto_generichash_final(&state, tx, SESSION_BYTES);
    sodium_memzero(&state, sizeof state);
    for (unsigned char* k : {r1, t1, r2, t2}) sodium_memzero(k, SESSION_BYTES);
}

// As chaves de sessão do lado do SERVIDOR: com o seu par de longo prazo (S, s),
// com o desta conexão (`mine`: Es, es) e com a chave do cliente (Ec). Apaga es.
// false se Ec é um ponto fraco (por exemplo, só zeros).
inline bool server_session_keys(unsigned char rx[SESSION_BYTES], unsigned char tx[SESSION_BYTES],
                                const unsigned char S[KEY_BYTES],
                                const unsigned char s[SECRET_BYTES], Ephemeral& mine,
                                const unsigned char Ec[KEY_BYTES]) {
    unsigned char r1[SESSION_BYTES] = {}, t1[SESSION_BYTES] = {}, r2[SESSION_BYTES] = {},
                  t2[SESSION_BYTES] = {};
    const bool ok = crypto_kx_server_session_keys(r1, t1, S, s, Ec) == 0 &&
                    crypto_kx_server_session_keys(r2, t2, mine.public_key, mine.secret_key,
                                                  Ec) == 0;
    sodium_memzero(mine.secret_key, SECRET_BYTES);  // es não serve para mais nada
    combine(rx, tx, r1, t1, r2, t2);  // (se !ok, as chaves não são usadas)
    return ok;
}

// As chaves de sessão do lado do CLIENTE: com o seu par desta conexão
// (`mine`: Ec, ec) e com as duas chaves do servidor (S e Es). Apaga ec.
// false se S ou Es é um ponto fraco.
inline bool client_session_keys(unsigned char rx[SESSION_BYTES], unsigned char tx[SESSION_BYTES],
                                Ephemeral& mine, const unsigned char S[KEY_BYTES],
                                const unsigned char Es[KEY_BYTES]) {
    unsigned char r1[SESSION_BYTES] = {}, t1[SESSION_BYTES] = {}, r2[SESSION_BYTES] = {},
                  t2[SESSION_BYTES] = {};
    const bool ok =
        crypto_kx_client_session_keys(r1, t1, mine.public_key, mine.secret_key, S) == 0 &&
        crypto_kx_client_session_keys(r2, t2, mine.public_key, mine.secret_key, Es) == 0;
    sodium_memzero(mine.secret_key, SECRET_BYTES);  // ec não serve para mais nada
    combine(rx, tx, r1, t1, r2, t2);  // (se !ok, as chaves não são usadas)
    return ok;
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
