// Exemplo 3 - o arquivo servido: qual arquivo da pasta um nome pedido indica
// (find_served_file), e a leitura dele com um buffer grande (BufferedFile).
//
// O guia confere o nome numa lista fixa de 4 imagens. Aqui vale qualquer
// arquivo comum da pasta, com o nome exato, e só ele: um link simbólico que
// aponte para fora da pasta, ou uma subpasta, conta como inexistente. O nome
// já passou por request::check_name (sem /, \, :, .., ponto inicial).
#pragma once

#include <cstdint>
#include <filesystem>
#include <fstream>
#include <string>
#include <vector>

// Devolve o caminho do arquivo `name` dentro de `folder`, ou vazio se não
// existir ali um arquivo comum com esse nome exato.
inline std::filesystem::path find_served_file(const std::filesystem::path& folder,
                                              const std::string& name) {
    namespace fs = std::filesystem;
    std::error_code ec;
    for (const auto& entry : fs::directory_iterator(folder, ec)) {
        if (entry.path().filename().u8string() != name) continue;  // nome exato
        fs::path real = fs::canonical(entry.path(), ec);  // segue links simbólicos
        if (ec || !fs::is_regular_file(real, ec)) return {};
        if (real.parent_path() != fs::canonical(folder, ec)) return {};  // fora da pasta
        return real;
    }
    return {};
}

// Um std::ifstream com um buffer de 64 KiB: o disco é lido de 64 em 64 KiB, e
// cada f.read(1024) do laço de envio só copia 1024 bytes da memória. Com o
// buffer padrão (8 KiB, o mesmo do Python) seriam 8 vezes mais leituras: num
// arquivo de 100 MiB, 12.807 read() em vez de 1.606 (strace -c -e trace=read),
// ao lado dos 102.401 send() de 1024 bytes.
// O buffer é uma classe base declarada antes do ifstream: existe antes dele e
// só é destruído depois que ele fecha o arquivo.
struct ReadBuffer {
    std::vector<char> bytes = std::vector<char>(64 * 1024);
};
class BufferedFile : private ReadBuffer, public std::ifstream {
public:
    explicit BufferedFile(const std::filesystem::path& path) {
        std::error_code ec;
        size_ = std::filesystem::file_size(path, ec);
        if (ec) size_ = 0;
        rdbuf()->pubsetbuf(bytes.data(), static_cast<std::streamsize>(bytes.size()));
        open(path, std::ios::binary);
    }

    // O tamanho do arquivo quando foi aberto.
    std::uintmax_t size() const { return size_; }

    // Depois do laço de f.read(): true se ele leu o arquivo inteiro. Um f.read
    // que falha acaba o laço como o fim do arquivo (gcount() 0), e o ifstream
    // nem sempre distingue os dois: a libstdc++ liga o badbit quando read()
    // falha, outras bibliotecas não. Por isso conta também os bytes: um erro do
    // disco, ou um arquivo encurtado durante o envio, deixa menos que `size()`.
    bool read_whole(std::uintmax_t total) const { return !bad() && total == size_; }

private:
    std::uintmax_t size_ = 0;
};
