// Exemplo 3 - o temporário de um download, sem nada pela metade em downloads/:
// os bytes vão para downloads/.<nome>.<n>.part, que só recebe um nome quando
// quem baixa decide que acabou (Ctrl+C no meio o apaga, e uma saída não
// prevista também), e a linha de progresso "Recebidos N bytes...". Quando o
// arquivo está completo, cada exemplo decide do seu jeito: o Exemplo 3 pelo
// "OK" final antes de a conexão fechar (download.h), o Exemplo 5 pelo SIZE e
// pelo OK com o CRC-32 (../ex5_udp/received_file.h).
#pragma once

#include <cerrno>
#include <chrono>
#include <csignal>
#include <cstdint>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <random>
#include <string>
#include <system_error>

#include "../common/net.h"

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

class PartFile {
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
            // O motivo que o sistema deu (sem permissão, disco cheio...); o errno
            // de um arquivo é o da biblioteca C, também no Windows (não um código WSA)
            const int code = errno;
#ifdef _WIN32
            const std::string why = std::generic_category().message(code);
#else
            const std::string why = net::error_text(code);
#endif
            std::cerr << "Erro: não foi possível criar " << temp_.u8string() << ": " << why << "\n";
            temp_.clear();
            return false;
        }
        partial_file = temp_.string();
        std::signal(SIGINT, remove_partial_file);
        std::signal(SIGTERM, remove_partial_file);
        return true;
    }

    void write(const char* data, std::size_t n) { file_.write(data, static_cast<std::streamsize>(n)); }

    // Fecha o temporário (antes de conferir e dar o nome). true se tudo foi gravado.
    bool close() {
        file_.close();
        return static_cast<bool>(file_);
    }

    // Dá ao temporário, já fechado, o nome `name`: o final, ou outro. Daí em
    // diante ele não é mais apagado no fim.
    std::error_code rename_to(const std::filesystem::path& name) {
        std::error_code ec;
        std::filesystem::rename(temp_, name, ec);
        if (!ec) {
            temp_.clear();
            partial_file.clear();
        }
        return ec;
    }

    const std::filesystem::path& final_name() const { return final_; }
    const std::filesystem::path& temp_name() const { return temp_; }

    // Apaga o temporário, mostra `message` e devolve 1 (o código de saída).
    int fail(const std::string& message) {
        file_.close();
        if (!temp_.empty()) std::remove(temp_.string().c_str());
        temp_.clear();
        partial_file.clear();
        std::cerr << message << "\n";
        return 1;
    }

    // "Recebidos N bytes..." a cada 0,1 s, quando a saída é um terminal.
    void show_progress(std::uint64_t bytes) {
        auto now = std::chrono::steady_clock::now();
        if (!terminal_ || now - last_progress_ <= std::chrono::milliseconds(100)) return;
        last_progress_ = now;
        std::cout << "\rRecebidos " << bytes << " bytes..." << std::flush;
    }
    // Apaga a linha de progresso (num terminal), antes do resumo ou do erro.
    void clear_progress() {
        if (terminal_) std::cout << "\r" << std::string(40, ' ') << "\r" << std::flush;
    }

    ~PartFile() {  // uma saída não prevista: nada pela metade fica para trás
        file_.close();
        if (!temp_.empty()) std::remove(temp_.string().c_str());
    }

private:
    std::filesystem::path final_, temp_;
    std::ofstream file_;
    const bool terminal_ = net::stdout_is_terminal();
    std::chrono::steady_clock::time_point last_progress_ = std::chrono::steady_clock::now();
};
