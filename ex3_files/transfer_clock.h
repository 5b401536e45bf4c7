// Exemplo 3 - o tempo e a velocidade de uma transferência, para as linhas de
// resumo do servidor (--quiet) e do cliente. Não é parte da lição do guia: só mede.
#pragma once

#include <chrono>
#include <cstddef>
#include <cstdio>
#include <string>

class TransferClock {
public:
    // "<bytes> bytes em <s> s<separator><MB/s> MB/s", com o tempo desde que o
    // relógio foi criado. Ex.: bytes_in_time(100116, ", ") dá
    // "100116 bytes em 0.002 s, 46.7 MB/s" (MB = 10^6 bytes).
    std::string bytes_in_time(std::size_t bytes, const char* separator) const {
        double s = std::chrono::duration<double>(std::chrono::steady_clock::now() - start_).count();
        char text[160];
        std::snprintf(text, sizeof text, "%zu bytes em %.3f s%s%.1f MB/s", bytes, s, separator,
                      s > 0 ? static_cast<double>(bytes) / s / 1e6 : 0.0);
        return text;
    }

private:
    std::chrono::steady_clock::time_point start_ = std::chrono::steady_clock::now();
};
