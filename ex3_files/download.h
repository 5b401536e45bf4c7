// Exemplo 3 - o arquivo que o cliente baixa, sem nada pela metade em downloads/.
//
// O original abre downloads/<nome> e grava tudo o que chegar, até o servidor
// fechar: o "OK" final vai junto (o arquivo fica 2 bytes maior), um ERROR vira
// um "download" com a mensagem, e uma conexão cortada deixa meio arquivo.
// Aqui:
//  - os bytes vão para um temporário, downloads/.<nome>.<n>.part, que só
//    recebe o nome final quando tudo chegou (Ctrl+C no meio o apaga);
//  - os 2 últimos bytes recebidos até agora ficam retidos em `tail_`, fora do
//    arquivo: se, quando o servidor fechar, forem "OK", são o marcador de fim
//    e não parte do arquivo; se não forem, a resposta é um ERROR "..." ou a
//    transferência foi cortada, e nada é gravado;
//  - uma linha de progresso ("Recebidos N bytes...") quando a saída é um
//    terminal, e um resumo no fim (bytes, tempo, MB/s).
#pragma once

#include <algorithm>
#include <cctype>
#include <chrono>
#include <csignal>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <random>
#include <string>

#include "../common/net.h"
#include "request.h"
#include "transfer_clock.h"

// O temporário em andamento, para o Ctrl+C apagá-lo (um tratador de sinal só
// enxerga variáveis globais).
inline std::string partial_file;

// Depois de apagar, o programa termina pelo próprio sinal (não com exit(130)):
// assim quem o rodou, um shell ou um script, sabe que foi Ctrl+C e para também.
// Um programa que trata o SIGINT e sai "normalmente" faz o bash de um script
// achar que o Ctrl+C foi resolvido, e o script continua.
extern "C" inline void remove_partial_file(int sig) {
    if (!partial_file.empty()) std::remove(partial_file.c_str());
    std::signal(sig, SIG_DFL);
    std::raise(sig);  // entregue ao sair deste tratador: o padrão, terminar
}

class Download {
public:
    // Cria a pasta (se faltar) e o temporário de `name` nela. Se não conseguir,
    // mostra o erro e devolve false.
    bool open(const std::filesystem::path& folder, const std::string& name) {
        namespace fs = std::filesystem;
        std::error_code ec;
        fs::create_directories(folder, ec);
        final_ = folder / fs::u8path(name);
        std::random_device random;
        temp_ = folder / fs::u8path("." + name + "." + std::to_string(random()) + ".part");
        file_.open(temp_, std::ios::binary);
        if (!file_) {
            std::cerr << "Erro: não foi possível criar " << temp_.u8string() << "\n";
            temp_.clear();
            return false;
        }
        partial_file = temp_.string();
        std::signal(SIGINT, remove_partial_file);
        std::signal(SIGTERM, remove_partial_file);
        return true;
    }

    // Grava `n` bytes que chegaram, menos os 2 últimos recebidos até agora.
    void write(const char* data, std::size_t n) {
        if (n == 0) return;
        total_ += n;
        if (head_.size() < 1024) head_.append(data, std::min(n, 1024 - head_.size()));
        if (n >= 2) {  // os retidos e tudo menos os 2 últimos novos vão para o arquivo
            file_.write(tail_.data(), static_cast<std::streamsize>(tail_.size()));
            file_.write(data, static_cast<std::streamsize>(n - 2));
            tail_.assign(data + n - 2, 2);
        } else {  // chegou 1 byte só
            tail_.append(data, 1);
            if (tail_.size() > 2) {
                file_.write(tail_.data(), 1);
                tail_.erase(0, 1);
            }
        }
        show_progress();
    }

    std::size_t received() const { return total_; }

    // Depois que o servidor fechou: confere o "OK" final e dá ao arquivo o seu
    // nome. Mostra o resumo ou o erro; devolve o código de saída do programa.
    int finish() {
        file_.close();
        if (terminal_) std::cout << "\r" << std::string(40, ' ') << "\r";
        if (tail_ != "OK") {
            if (head_.rfind("ERROR \"", 0) == 0)
                return fail("O servidor respondeu: " + request::printable(head_));
            if (const int example = chat_server(head_, total_))
                return fail("Erro: isto parece o servidor do Exemplo " + std::to_string(example) +
                            " (ele começa enviando uma chave); este cliente é do Exemplo 3");
            return fail("Erro: transferência incompleta: a conexão terminou sem o OK final (" +
                        std::to_string(total_) + " bytes recebidos); nenhum arquivo foi gravado");
        }
        if (!file_) return fail("Erro ao gravar " + temp_.u8string());
        std::error_code ec;
        std::filesystem::rename(temp_, final_, ec);
        if (ec) return fail("Erro ao gravar " + final_.u8string() + ": " + ec.message());
        temp_.clear();
        partial_file.clear();
        std::cout << "Download concluído: " << final_.u8string() << " ("
                  << clock_.bytes_in_time(total_ - 2, ", ") << ")" << std::endl;
        return 0;
    }

    // Apaga o temporário, mostra `message` e devolve 1 (o código de saída).
    int fail(const std::string& message) {
        file_.close();
        if (!temp_.empty()) std::remove(temp_.string().c_str());
        temp_.clear();
        partial_file.clear();
        std::cerr << message << "\n";
        return 1;
    }

    ~Download() {  // uma saída não prevista: nada pela metade fica para trás
        file_.close();
        if (!temp_.empty()) std::remove(temp_.string().c_str());
    }

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
    // Diferença do original: Linha de progresso e resumo. Num terminal, "Recebidos N bytes..."
    // a cada 0,1 s; no fim, "Download concluído: ..." com bytes, tempo e MB/s.
    void show_progress() {
        auto now = std::chrono::steady_clock::now();
        if (!terminal_ || now - last_progress_ <= std::chrono::milliseconds(100)) return;
        last_progress_ = now;
        std::cout << "\rRecebidos " << total_ << " bytes..." << std::flush;
    }

    std::filesystem::path final_, temp_;
    std::ofstream file_;
    std::string tail_, head_;  // os 2 últimos bytes; o começo da resposta (um ERROR?)
    std::size_t total_ = 0;
    TransferClock clock_;
    const bool terminal_ = net::stdout_is_terminal();
    std::chrono::steady_clock::time_point last_progress_ = std::chrono::steady_clock::now();
};
