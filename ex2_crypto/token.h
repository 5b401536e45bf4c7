// Exemplo 2 - o formato das mensagens na rede, usado pelo servidor e pelo
// cliente (e pelos testes): a chave, o "token" cifrado e as linhas.
//
// No original, a biblioteca Fernet (Python) faz tudo isso. A libsodium não tem
// Fernet; usamos crypto_secretbox_easy (XSalsa20 para cifrar + Poly1305 para
// autenticar), com o mesmo papel: quem tem a chave cifra e decifra, e qualquer
// alteração no token é detectada.
//
// Na rede, cada mensagem é UMA LINHA de texto ASCII terminada em '\n':
//   - a chave:  base64url(32 bytes)                          = 44 caracteres
//   - um token: base64url(nonce 24 ‖ MAC 16 ‖ texto cifrado) = 56 para "OK"
// (base64url "com padding": o alfabeto de urlsafe_b64encode do Python, com '='
// no fim. É o mesmo formato de SecretBox.encrypt da PyNaCl, então um cliente
// em Python consegue conversar com estes programas.)
#pragma once

#include <sodium.h>

#include <cstddef>
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

inline std::string to_base64(const unsigned char* data, std::size_t length) {
    std::string text(sodium_base64_ENCODED_LEN(length, BASE64), '\0');
    sodium_bin2base64(&text[0], text.size(), data, length, BASE64);
    text.pop_back();  // o '\0' final que a libsodium escreve
    return text;
}

// Decodifica base64url com padding. Rejeita qualquer caractere fora do
// alfabeto, padding errado ou sobra no fim.
inline bool from_base64(const std::string& text, std::vector<unsigned char>& data) {
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

// Separa as linhas de um fluxo TCP. O TCP não preserva os limites das
// mensagens: um recv() pode trazer duas linhas juntas, ou meia linha. Os bytes
// recebidos entram com feed(); next() entrega uma linha completa por vez.
class LineReader {
public:
    enum class Result { Line, NeedMore, TooLong };

    void feed(const char* data, std::size_t length) { buffer_.append(data, length); }

    // Line: `line` recebe a próxima linha, sem o '\n'. NeedMore: falta chegar
    // o resto. TooLong: passou de MAX_LINE bytes sem '\n'; esses bytes são
    // descartados até o próximo '\n'.
    Result next(std::string& line) {
        for (;;) {
            std::size_t newline = buffer_.find('\n');
            if (skipping_) {
                if (newline == std::string::npos) {
                    buffer_.clear();
                    return Result::NeedMore;
                }
                buffer_.erase(0, newline + 1);
                skipping_ = false;
                continue;
            }
            if (newline != std::string::npos && newline < MAX_LINE) {
                line.assign(buffer_, 0, newline);
                buffer_.erase(0, newline + 1);
                return Result::Line;
            }
            if (newline == std::string::npos && buffer_.size() < MAX_LINE)
                return Result::NeedMore;
            skipping_ = true;  // MAX_LINE bytes ou mais sem '\n'
            return Result::TooLong;
        }
    }

private:
    std::string buffer_;
    bool skipping_ = false;
};

}  // namespace token
