// Exemplo 3 - o tempo e a velocidade de uma transferência, para as linhas de
// resumo do servidor (--quiet) e do cliente. Não é parte da lição do guia: só mede.
#pragma once

#include <chrono>
#include <cstddef>
#include <cstdio>
#include <string>

class TransferClock {
public:
    // "<bytes> bytes em <s> s<separator><velocidade>", com o tempo desde que o
    // relógio foi criado. Ex.: bytes_in_time(100116, ", ") dá
    // "100116 bytes em 0.002 s, 46.7 MB/s" (MB = 10^6 bytes).
    std::string bytes_in_time(std::size_t bytes, const char* separator) const {
        double s = std::chrono::duration<double>(std::chrono::steady_clock::now() - start_).count();
        char text[160];
        std::snprintf(text, sizeof text, "%zu bytes em %.3f s%s%s", bytes, s, separator,
                      rate(s > 0 ? static_cast<double>(bytes) / s : 0.0).c_str());
        return text;
    }

    // Bytes por segundo, com uma casa decimal na unidade que cabe: "46.7 MB/s";
    // abaixo de 1 MB/s, "38.5 KB/s" (K = 10^3: um download lento por UDP não
    // sai "0.0 MB/s"); abaixo de 1 KB/s, "512 bytes/s".
    static std::string rate(double bytes_per_second) {
        char text[40];
        if (bytes_per_second >= 1e6)
            std::snprintf(text, sizeof text, "%.1f MB/s", bytes_per_second / 1e6);
        else if (bytes_per_second >= 1e3)
            std::snprintf(text, sizeof text, "%.1f KB/s", bytes_per_second / 1e3);
        else
            std::snprintf(text, sizeof text, "%.0f bytes/s", bytes_per_second);
        return text;
    }

private:
    std::chrono::steady_clock::time_point start_ = std::chrono::steady_clock::now();
};
