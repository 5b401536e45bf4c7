// libFuzzer harness for ex2's line splitter and token decoder
// (ex2_crypto/token.h): the lines that come out must not depend on how TCP
// cut the bytes, and decrypting any line must be safe.
#include <sodium.h>

#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string>
#include <vector>

#include "../../common/line_reader.h"
#include "../../ex2_crypto/token.h"

namespace {

using Result = net::LineReader::Result;

// Every (result, line) the reader gives for `data` fed in pieces of `step`.
std::vector<std::pair<Result, std::string>> split(const std::string& data, std::size_t step) {
    net::LineReader reader;
    std::vector<std::pair<Result, std::string>> out;
    std::string line;
    for (std::size_t i = 0; i < data.size(); i += step) {
        reader.feed(data.data() + i, std::min(step, data.size() - i));
        for (Result r; (r = reader.next(line)) != Result::NeedMore;)
            out.emplace_back(r, r == Result::Line ? line : std::string());
    }
    return out;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
    static const bool ready = sodium_init() >= 0;
    if (!ready || size == 0) return 0;
    std::size_t step = data[0] % 16 + 1;  // how TCP cut the stream
    std::string stream(reinterpret_cast<const char*>(data) + 1, size - 1);

    auto whole = split(stream, stream.size() + 1);
    if (split(stream, step) != whole) std::abort();

    unsigned char key[token::KEY_BYTES] = {1, 2, 3};
    std::string message;
    for (const auto& [result, line] : whole) {
        if (result == Result::Line && line.size() >= token::MAX_LINE) std::abort();
        if (token::decrypt(key, line, message)) {
            // Only a genuine token decrypts: re-encrypting gives a valid one.
            std::string again;
            if (!token::decrypt(key, token::encrypt(key, message), again) || again != message)
                std::abort();
        }
    }
    return 0;
}
