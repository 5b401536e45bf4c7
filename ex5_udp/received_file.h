// Exemplo 5 - o arquivo que o cliente recebe por UDP, sem nada errado com o
// nome do arquivo.
//
// Como no Exemplo 3 (download.h), os bytes vão para um temporário,
// downloads/.<nome>.<n>.part, que o Ctrl+C apaga. Mas no UDP nada garante
// que tudo chegou, nem na ordem: o SIZE do começo diz quantos bytes e
// datagramas esperar, e o OK do fim traz o CRC-32 do arquivo. Só quando tudo
// confere o temporário vira downloads/<nome>. Se faltou algo, sobrou algo ou
// a ordem mudou, ele vira downloads/<nome>.incompleto (abra o JPEG estragado
// para ver o que a perda faz), o cliente diz quanto chegou e sai com 1. Um
// ERROR do servidor não deixa arquivo nenhum.
#pragma once

#include <chrono>
#include <csignal>
#include <cstdint>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <random>
#include <string>

#include "../common/net.h"
#include "../ex3_files/download.h"  // partial_file e remove_partial_file (o Ctrl+C)
#include "../ex3_files/transfer_clock.h"
#include "datagram.h"

class ReceivedFile {
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

    // SIZE <bytes> <datagramas> chegou.
    void expect(std::uint64_t bytes, std::uint64_t count) {
        expected_bytes_ = bytes;
        expected_count_ = count;
        size_known_ = true;
    }
    // Um datagrama de dados chegou: vai para o arquivo, na ordem em que chegou.
    void write(const std::string& data) {
        file_.write(data.data(), static_cast<std::streamsize>(data.size()));
        crc_ = datagram::crc32(crc_, data.data(), data.size());
        bytes_ += data.size();
        datagrams_ += 1;
        show_progress();
    }
    // OK <crc> chegou: o fim.
    void end(std::uint32_t crc) {
        ok_ = true;
        ok_crc_ = crc;
    }
    // Modo confiável: um datagrama descartado (repetido ou fora de ordem).
    void discarded(bool repeated) { (repeated ? repeated_ : out_of_order_) += 1; }

    bool size_known() const { return size_known_; }
    std::uint64_t expected_count() const { return expected_count_; }
    std::uint64_t datagrams() const { return datagrams_; }

    // Depois do fim (OK) ou do silêncio: confere tudo e dá um nome ao
    // temporário. Mostra o resumo; devolve o código de saída do programa.
    int finish() {
        file_.close();
        if (terminal_) std::cout << "\r" << std::string(40, ' ') << "\r";
        const bool complete = size_known_ && ok_ && bytes_ == expected_bytes_ &&
                              datagrams_ == expected_count_ && crc_ == ok_crc_;
        if (!size_known_ && !ok_ && datagrams_ == 0)
            return fail("Erro: nenhuma resposta do servidor (o pedido ou a resposta se perdeu? "
                        "o servidor está rodando?); nenhum arquivo foi gravado");
        std::filesystem::path name = final_;
        if (!complete) name += ".incompleto";
        std::error_code ec;
        std::filesystem::rename(temp_, name, ec);
        if (!file_ || ec) return fail("Erro ao gravar " + name.u8string());
        temp_.clear();
        partial_file.clear();
        if (complete) {
            std::cout << "Download concluído: " << final_.u8string() << " ("
                      << clock_.bytes_in_time(bytes_, ", ") << ")" << std::endl;
        } else {
            std::string problem = "Erro: download incompleto: chegaram " + std::to_string(datagrams_) +
                                  (size_known_ ? " de " + std::to_string(expected_count_) : "") +
                                  " datagramas (" + std::to_string(bytes_) +
                                  (size_known_ ? " de " + std::to_string(expected_bytes_) : "") + " bytes)";
            if (!size_known_) problem += "; o SIZE não chegou";
            if (!ok_) problem += "; o OK final não chegou";
            if (size_known_ && ok_ && datagrams_ == expected_count_ && bytes_ == expected_bytes_)
                problem += "; o CRC-32 não confere (fora de ordem?)";
            std::cerr << problem << "; o que chegou está em " << name.u8string() << std::endl;
        }
        if (repeated_ + out_of_order_ > 0)
            std::cout << "Descartados: " << repeated_ << " datagramas repetidos, " << out_of_order_
                      << " fora de ordem" << std::endl;
        return complete ? 0 : 1;
    }

    // Apaga o temporário, mostra `message` e devolve 1 (o código de saída).
    int fail(const std::string& message) {
        file_.close();
        if (!temp_.empty()) std::remove(temp_.string().c_str());
        temp_.clear();
        partial_file.clear();
        if (terminal_) std::cout << "\r" << std::string(40, ' ') << "\r" << std::flush;
        std::cerr << message << "\n";
        return 1;
    }

    ~ReceivedFile() {  // uma saída não prevista: nada pela metade fica para trás
        file_.close();
        if (!temp_.empty()) std::remove(temp_.string().c_str());
    }

private:
    // "Recebidos N bytes..." a cada 0,1 s, quando a saída é um terminal (como no Exemplo 3).
    void show_progress() {
        auto now = std::chrono::steady_clock::now();
        if (!terminal_ || now - last_progress_ <= std::chrono::milliseconds(100)) return;
        last_progress_ = now;
        std::cout << "\rRecebidos " << bytes_ << " bytes..." << std::flush;
    }

    std::filesystem::path final_, temp_;
    std::ofstream file_;
    bool size_known_ = false, ok_ = false;
    std::uint64_t expected_bytes_ = 0, expected_count_ = 0, bytes_ = 0, datagrams_ = 0;
    std::uint64_t repeated_ = 0, out_of_order_ = 0;
    std::uint32_t crc_ = 0, ok_crc_ = 0;
    TransferClock clock_;
    const bool terminal_ = net::stdout_is_terminal();
    std::chrono::steady_clock::time_point last_progress_ = std::chrono::steady_clock::now();
};
