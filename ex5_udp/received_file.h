// Exemplo 5 - o arquivo que o cliente recebe por UDP, sem nada errado com o
// nome do arquivo.
//
// Como no Exemplo 3, os bytes vão para um temporário,
// downloads/.<nome>.<n>.part, que o Ctrl+C apaga (../ex3_files/part_file.h,
// o mesmo do download.h do Exemplo 3). Mas no UDP nada garante
// que tudo chegou, nem na ordem: o SIZE do começo diz quantos bytes e
// datagramas esperar, e o OK do fim traz o CRC-32 do arquivo. Só quando tudo
// confere o temporário vira downloads/<nome>. Se faltou algo, sobrou algo ou
// a ordem mudou, ele vira downloads/<nome>.incompleto (abra o JPEG estragado
// para ver o que a perda faz), o cliente diz quanto chegou e sai com 1. Um
// ERROR do servidor não deixa arquivo nenhum.
#pragma once

#include <algorithm>
#include <cstdint>
#include <filesystem>
#include <iostream>
#include <string>
#include <system_error>

#include "../ex3_files/part_file.h"  // o temporário, o Ctrl+C e o progresso
#include "../ex3_files/transfer_clock.h"
#include "datagram.h"

class ReceivedFile {
public:
    // Cria a pasta (se faltar) e o temporário de `name` nela. Se não conseguir,
    // mostra o erro e devolve false.
    bool open(const std::filesystem::path& folder, const std::string& name) {
        return part_.open(folder, name);
    }

    // SIZE <bytes> <datagramas> chegou.
    void expect(std::uint64_t bytes, std::uint64_t count) {
        expected_bytes_ = bytes;
        expected_count_ = count;
        size_known_ = true;
    }
    // Um datagrama de dados chegou: vai para o arquivo, na ordem em que chegou. Nunca além do
    // SIZE: o que passaria dele não é gravado (um servidor que não para não enche o disco), e
    // o download fica incompleto (too_much()).
    void write(const std::string& data) {
        std::size_t fits = data.size();
        if (size_known_ && bytes_ + fits > expected_bytes_) {
            too_much_ = true;
            fits = static_cast<std::size_t>(expected_bytes_ - std::min(bytes_, expected_bytes_));
        }
        part_.write(data.data(), fits);
        crc_ = datagram::crc32(crc_, data.data(), data.size());
        bytes_ += fits;
        datagrams_ += 1;
        part_.show_progress(bytes_);  // como no Exemplo 3
    }
    // OK <crc> chegou: o fim.
    void end(std::uint32_t crc) {
        ok_ = true;
        ok_crc_ = crc;
    }
    // Modo confiável: um datagrama descartado (repetido ou fora de ordem).
    void discarded(bool repeated) { (repeated ? repeated_ : out_of_order_) += 1; }

    bool size_known() const { return size_known_; }
    bool too_much() const { return too_much_; }  // chegou mais que o SIZE: a espera acaba
    std::uint64_t expected_count() const { return expected_count_; }
    std::uint64_t datagrams() const { return datagrams_; }

    // Depois do fim (OK) ou do silêncio: confere tudo e dá um nome ao
    // temporário. Mostra o resumo; devolve o código de saída do programa.
    int finish() {
        const bool written = part_.close();
        part_.clear_progress();
        const bool complete = size_known_ && ok_ && !too_much_ && bytes_ == expected_bytes_ &&
                              datagrams_ == expected_count_ && crc_ == ok_crc_;
        if (!size_known_ && !ok_ && datagrams_ == 0)
            return fail("Erro: nenhuma resposta do servidor (o pedido ou a resposta se perdeu? "
                        "o servidor está rodando?); nenhum arquivo foi gravado");
        std::filesystem::path name = part_.final_name();
        if (!complete) name += ".incompleto";
        if (!written || part_.rename_to(name)) return fail("Erro ao gravar " + name.u8string());
        if (complete) {
            std::cout << "Download concluído: " << name.u8string() << " ("
                      << clock_.bytes_in_time(bytes_, ", ") << ")" << std::endl;
        } else {
            std::string problem = "Erro: download incompleto: chegaram " + std::to_string(datagrams_) +
                                  (size_known_ ? " de " + std::to_string(expected_count_) : "") +
                                  " datagramas (" + std::to_string(bytes_) +
                                  (size_known_ ? " de " + std::to_string(expected_bytes_) : "") + " bytes)";
            if (!size_known_) problem += "; o SIZE não chegou";
            if (too_much_) problem += "; chegaram mais bytes que o SIZE, e o que passou dele não foi gravado";
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
        part_.clear_progress();
        return part_.fail(message);
    }

private:
    PartFile part_;
    bool size_known_ = false, ok_ = false, too_much_ = false;
    std::uint64_t expected_bytes_ = 0, expected_count_ = 0, bytes_ = 0, datagrams_ = 0;
    std::uint64_t repeated_ = 0, out_of_order_ = 0;
    std::uint32_t crc_ = 0, ok_crc_ = 0;
    TransferClock clock_;
};
