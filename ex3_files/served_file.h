// Exemplo 3 - qual arquivo da pasta servida um nome pedido indica.
//
// O guia confere o nome numa lista fixa de 4 imagens. Aqui vale qualquer
// arquivo comum da pasta, com o nome exato, e só ele: um link simbólico que
// aponte para fora da pasta, ou uma subpasta, conta como inexistente. O nome
// já passou por request::check_name (sem /, \, :, .., ponto inicial).
#pragma once

#include <filesystem>
#include <string>

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
