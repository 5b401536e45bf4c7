// The pictures `make figuras` draws from the shipped captures (the ladder
// diagram of each example, the time-sequence graph of the lossy link) are
// drawn from text files committed in figuras/dados/. This test runs
// `scripts/figuras.sh --dados DIR` (tshark only, no gnuplot) on the shipped
// captures and fails when what it writes differs from the committed files,
// or when a committed file has no capture behind it any more: a capture
// recorded again, or a change to the script, must come with `make figuras`.
// No timing is compared beyond what the capture file itself records.
// Without tshark it exits 77 ("Skipped") with the reason.
#define DOCTEST_CONFIG_IMPLEMENT
#include <doctest/doctest.h>

#include <cstdlib>
#include <filesystem>
#include <iostream>
#include <set>
#include <string>

#include "support.h"

using namespace lab;
namespace fs = std::filesystem;

namespace {
const fs::path ROOT = fs::path(LAB_SOURCE_DIR);

std::set<std::string> dat_files(const fs::path& dir) {
    std::set<std::string> names;
    for (const auto& entry : fs::directory_iterator(dir))
        if (entry.path().extension() == ".dat") names.insert(entry.path().filename().string());
    return names;
}
}  // namespace

TEST_CASE("figuras/dados: regenerated from captures/ by scripts/figuras.sh, identical") {
    TempDir out;
    Process script({"bash", ROOT.string() + "/scripts/figuras.sh", "--dados", out.path.string()});
    auto code = script.wait_exit(60000ms);
    INFO("figuras.sh: " << script.err());
    REQUIRE(code == 0);
    const auto fresh = dat_files(out.path);
    const auto committed = dat_files(ROOT / "figuras/dados");
    // One ladder per example capture, and the lossy link's graph.
    CHECK(fresh.count("ladder-ex1.dat"));
    CHECK(fresh.count("ladder-ex2.dat"));
    CHECK(fresh.count("ladder-ex3.dat"));
    CHECK(fresh.count("perda-tempo-seq.dat"));
    CHECK(fresh.count("congestionamento-tempo-seq.dat"));  // the bottleneck's Reno run
    CHECK_MESSAGE(fresh == committed, "run make figuras and commit figuras/ (new or removed data files)");
    for (const std::string& name : fresh) {
        INFO(name << ": run make figuras and commit figuras/");
        CHECK(read_file(out.path / name) == read_file(ROOT / "figuras/dados" / name));
        // Every data file has its picture.
        const std::string png = name.substr(0, name.size() - 4) + ".png";
        CHECK(fs::exists(ROOT / "figuras" / png));
    }
}

int main(int argc, char** argv) {
    if (auto why = need_tools({"tshark"}, "capture"); !why.empty()) return skip_program(why);
    doctest::Context context(argc, argv);
    return context.run();
}
