// Exemplo 3 - o arquivo que o cliente baixa, sem nada pela metade em downloads/.
//
// O original abre downloads/<nome> e grava tudo o que chegar, até o servidor
// fechar: o "OK" final vai junto (o arquivo fica 2 bytes maior), um ERROR vira
// um "download" com a mensagem, e uma conexão cortada deixa meio arquivo.
// Aqui:
//  - os bytes vão para um temporário, downloads/.<nome>.<n>.part, que só
//    recebe o nome final quando tudo chegou (Ctrl+C no meio o apaga;
//    part_file.h, o mesmo do Exemplo 5);
//  - os 2 últimos bytes recebidos até agora ficam retidos em `tail_`, fora do
//    arquivo: se, quando o servidor fechar, forem "OK", são o marcador de fim
//    e não parte do arquivo; se não forem, a resposta é um ERROR "..." ou a
//    transferência foi cortada, e nada é gravado;
//  - uma linha de progresso ("Recebidos N bytes...") quando a saída é um
//    terminal, e um resumo no fim (bytes, tempo, MB/s).
#pragma once

#include <algorithm>
#include <cctype>
#include <filesystem>
#include <iostream>
#include <string>
#include <system_error>

#include "part_file.h"
#include "request.h"
#include "transfer_clock.h"

class Download {
public:
    // Cria a pasta (se faltar) e o temporário de `name` nela. Se não conseguir,
    // mostra o erro e devolve false.
    bool open(const std::filesystem::path& folder, const std::string& name) {
        return part_.open(folder, name);
    }

    // Grava `n` bytes que chegaram, menos os 2 últimos recebidos até agora.
    void write(const char* data, std::size_t n) {
        if (n == 0) return;
        total_ += n;
        if (head_.size() < 1024) head_.append(data, std::min(n, 1024 - head_.size()));
        if (n >= 2) {  // os retidos e tudo menos os 2 últimos novos vão para o arquivo
            part_.write(tail_.data(), tail_.size());
            part_.write(data, n - 2);
            tail_.assign(data + n - 2, 2);
        } else {  // chegou 1 byte só
            tail_.append(data, 1);
            if (tail_.size() > 2) {
                part_.write(tail_.data(), 1);
                tail_.erase(0, 1);
            }
        }
        // Diferença do original: Linha de progresso e resumo. Num terminal, "Recebidos N bytes..."
        // a cada 0,1 s; no fim, "Download concluído: ..." com bytes, tempo e MB/s.
        part_.show_progress(total_);
    }

    std::size_t received() const { return total_; }

    // Depois que o servidor fechou: confere o "OK" final e dá ao arquivo o seu
    // nome. Mostra o resumo ou o erro; devolve o código de saída do programa.
    int finish() {
        const bool written = part_.close();
        part_.clear_progress();
        if (tail_ != "OK") {
            if (head_.rfind("ERROR \"", 0) == 0)
                return fail("O servidor respondeu: " + request::printable(head_));
            if (const int example = chat_server(head_, total_))
                return fail("Erro: isto parece o servidor do Exemplo " + std::to_string(example) +
                            " (ele começa enviando uma chave); este cliente é do Exemplo 3");
            return fail("Erro: transferência incompleta: a conexão terminou sem o OK final (" +
                        std::to_string(total_) + " bytes recebidos); nenhum arquivo foi gravado");
        }
        if (!written) return fail("Erro ao gravar " + part_.temp_name().u8string());
        std::error_code ec = part_.rename_to(part_.final_name());
        if (ec) return fail("Erro ao gravar " + part_.final_name().u8string() + ": " + ec.message());
        std::cout << "Download concluído: " << part_.final_name().u8string() << " ("
                  << clock_.bytes_in_time(total_ - 2, ", ") << ")" << std::endl;
        return 0;
    }

    // Apaga o temporário, mostra `message` e devolve 1 (o código de saída).
    int fail(const std::string& message) { return part_.fail(message); }

    // A resposta inteira (`head`, `total` bytes, sem o OK final) foi só a chave com que
    // o servidor do Exemplo 2 começa (uma linha: 43 caracteres base64url, '=' e '\n'),
    // ou as duas do Exemplo 4, e depois ele fechou: o número do exemplo. 0 se não.
    // Uma resposta do servidor do Exemplo 3 sempre termina com OK ou é um ERROR.
    static int chat_server(const std::string& head, std::size_t total) {
        const auto key_line = [&](std::size_t at) {
            for (std::size_t i = at; i < at + 43; ++i)
                if (!std::isalnum(static_cast<unsigned char>(head[i])) && head[i] != '-' &&
                    head[i] != '_')
                    return false;
            return head.compare(at + 43, 2, "=\n") == 0;
        };
        if (total != head.size() || (total != 45 && total != 90)) return 0;
        if (!key_line(0) || (total == 90 && !key_line(45))) return 0;
        return total == 45 ? 2 : 4;
    }

private:
    PartFile part_;            // o temporário, o Ctrl+C e o progresso (part_file.h)
    std::string tail_, head_;  // os 2 últimos bytes; o começo da resposta (um ERROR?)
    std::size_t total_ = 0;
    TransferClock clock_;
};
