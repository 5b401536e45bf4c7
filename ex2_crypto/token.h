// Exemplo 2 - a criptografia, usada pelo servidor e pelo cliente (e pelos
// testes): a chave, o "token" cifrado e o encriptador que guarda a chave.
// (Separar as linhas que chegam pelo TCP é outra tarefa: common/line_reader.h.)
//
// Diferença do original: secretbox da libsodium em vez de Fernet. A libsodium
// não tem Fernet; crypto_secretbox_easy (XSalsa20 para cifrar + Poly1305 para
// autenticar) tem o mesmo papel: quem tem a chave cifra e decifra, e qualquer
// alteração no token é detectada. Os tokens ficam menores (56 caracteres para
// "OK", em vez de 100).
//
// Na rede, cada mensagem é UMA LINHA de texto ASCII terminada em '\n':
//   - a chave:  base64url(32 bytes)                          = 44 caracteres
//   - um token: base64url(nonce 24 ‖ MAC 16 ‖ texto cifrado) = 56 para "OK"
// (base64url "com padding": o alfabeto de base64.urlsafe_b64encode do Python,
// com '=' no fim.) Os bytes nonce ‖ MAC ‖ texto cifrado são exatamente o que
// SecretBox(chave).encrypt(msg) da PyNaCl devolve, em bytes crus; o base64 é
// um passo à parte. Um programa em Python conversa com estes, então, enviando
// base64.urlsafe_b64encode(caixa.encrypt(msg)) + b'\n' (tests/peer_pynacl.py).
#pragma once

#include <sodium.h>

#include <algorithm>
#include <cstddef>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <vector>

namespace token {

constexpr std::size_t KEY_BYTES = crypto_secretbox_KEYBYTES;     // 32
constexpr std::size_t NONCE_BYTES = crypto_secretbox_NONCEBYTES; // 24
constexpr std::size_t MAC_BYTES = crypto_secretbox_MACBYTES;     // 16
constexpr int BASE64 = sodium_base64_VARIANT_URLSAFE;            // com '='

// Uma linha tem no máximo 1024 bytes contando o '\n' (o recv(1024) do
// original). Um token de até 1023 caracteres carrega no máximo
// 1023 / 4 * 3 = 765 bytes = 24 + 16 + 725: até 725 bytes de texto.
constexpr std::size_t MAX_LINE = 1024;
constexpr std::size_t MAX_TEXT = (MAX_LINE - 1) / 4 * 3 - NONCE_BYTES - MAC_BYTES;  // 725

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

// true se `c` é do alfabeto base64url, ou o '=' do padding. Quem decodifica
// confere isso antes da libsodium: a 1.0.18 lê alguns bytes acima de 127 como
// se fossem '_', e então o mesmo valor teria mais de uma grafia (o fuzzer do
// Exemplo 4 achou isso; o kx.h de lá usa estas mesmas funções).
inline bool is_base64(char c) {
    return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') ||
           c == '-' || c == '_' || c == '=';
}

// Decodifica base64url com padding. Rejeita qualquer caractere fora do
// alfabeto, padding errado ou sobra no fim.
inline bool from_base64(const std::string& text, std::vector<unsigned char>& data) {
    for (char c : text)
        if (!is_base64(c)) return false;
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

// Uma chave nova: 32 bytes aleatórios, em base64url (44 caracteres), o mesmo
// formato de Fernet.generate_key().
inline std::string generate_key() {
    start_sodium();
    unsigned char key[KEY_BYTES];
    crypto_secretbox_keygen(key);
    std::string text = to_base64(key, sizeof key);
    sodium_memzero(key, sizeof key);
    return text;
}

// true se `text` é uma chave: base64url de exatamente 32 bytes.
inline bool is_key(const std::string& text) {
    std::vector<unsigned char> key;
    bool ok = from_base64(text, key) && key.size() == KEY_BYTES;
    sodium_memzero(key.data(), key.size());
    return ok;
}

// Cifra `message`: um nonce aleatório novo por mensagem (nunca repetir um
// nonce com a mesma chave), depois MAC + texto cifrado. Devolve o token.
inline std::string encrypt(const unsigned char* key, const std::string& message) {
    std::vector<unsigned char> box(NONCE_BYTES + MAC_BYTES + message.size());
    randombytes_buf(box.data(), NONCE_BYTES);
    crypto_secretbox_easy(box.data() + NONCE_BYTES,
                          reinterpret_cast<const unsigned char*>(message.data()),
                          message.size(), box.data(), key);
    return to_base64(box.data(), box.size());
}

// Decifra um token. Falha (false) se não for base64url válido, se for curto
// demais, ou se o MAC não confere: chave errada ou token alterado.
inline bool decrypt(const unsigned char* key, const std::string& text, std::string& message) {
    std::vector<unsigned char> box;
    if (!from_base64(text, box) || box.size() < NONCE_BYTES + MAC_BYTES) return false;
    std::vector<unsigned char> plain(box.size() - NONCE_BYTES - MAC_BYTES);
    if (crypto_secretbox_open_easy(plain.data(), box.data() + NONCE_BYTES,
                                   box.size() - NONCE_BYTES, box.data(), key) != 0)
        return false;
    message.assign(plain.begin(), plain.end());
    return true;
}

// O encriptador: guarda a chave, como o objeto Fernet(chave) do Python, e
// cifra e decifra com ela. `key_text` é uma chave de generate_key() ou uma
// que passou por is_key(). A cópia da chave é apagada quando ele é destruído.
class Encryptor {
public:
    explicit Encryptor(const std::string& key_text) {
        start_sodium();
        std::vector<unsigned char> key;
        if (from_base64(key_text, key) && key.size() == KEY_BYTES)
            std::copy(key.begin(), key.end(), key_);
        sodium_memzero(key.data(), key.size());
    }
    ~Encryptor() { sodium_memzero(key_, sizeof key_); }
    Encryptor(const Encryptor&) = delete;
    Encryptor& operator=(const Encryptor&) = delete;

    std::string encrypt(const std::string& message) const { return token::encrypt(key_, message); }
    bool decrypt(const std::string& text, std::string& message) const {
        return token::decrypt(key_, text, message);
    }

private:
    unsigned char key_[KEY_BYTES] = {};
};

}  // namespace token
