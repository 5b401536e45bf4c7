// libFuzzer harness for ex3's request parser (ex3_files/request.h): whatever
// bytes a client sends, parse() must not crash, and a request it accepts must
// name a plain file, never a path.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string>

#include "../../ex3_files/request.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
    std::string text(reinterpret_cast<const char*>(data), size);
    request::Parsed r = request::parse(text);
    if (r.error.empty()) {
        const std::string& n = r.name;
        if (n.empty() || n.size() > 255 || n[0] == '.' || n.find('/') != std::string::npos ||
            n.find('\\') != std::string::npos || n.find(':') != std::string::npos ||
            n.find("..") != std::string::npos)
            std::abort();
        for (unsigned char c : n)
            if (c < 0x20 || c == 0x7f) std::abort();
    }
    for (unsigned char c : request::printable(text))
        if (c < 0x20 || c == 0x7f) std::abort();  // nothing raw reaches a terminal
    return 0;
}
