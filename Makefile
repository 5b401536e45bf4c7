# Socket lab in C++ - plain Make build.
#
#   make            build every example next to its source (ex1_chat/server, ...)
#   make demo       install what is missing, build, run a short scripted session
#   make test       install what the tests need (tests/tests.txt says which),
#                   build with Make and CMake (gcc and clang) and the Windows
#                   programs, run every test (under AddressSanitizer + UBSan);
#                   ends with a summary naming each skipped test and why
#   make test SAN=none|thread   without a sanitizer / ThreadSanitizer (the
#                   doctest programs). A sanitizer build goes whole into
#                   build/make/san-<SAN>/ (build/make/san-address/ex1_chat/server):
#                   the programs next to the sources stay the plain build
#   make test DEPS=0            install nothing (a missing tool: a skip, said why)
#   make test ONLY="e2e_ex1 unit"   only these tests (names or labels)
#   make print-tests            the test programs (from tests/tests.txt)
#   make capture [EX=ex1|ex2|ex3|ex4|ex5|ex6] [NET=veth] [CHUNK=N]
#                   record an example's session with tcpdump (captures/novas/*.pcapng);
#                   ex5 also [MODO=confiavel|janela:N] [PERDA=P] (see scripts/capture.sh)
#   make samples    record again the sample captures shipped in captures/ (root)
#   make fuzz [FUZZ_SECONDS=30]   libFuzzer on ex3's request parser, ex2's tokens,
#                   ex4's handshake, ex5's datagrams and ex6's frames (one per core)
#   make bench      speed and memory, next to baselines (Python, nc, iperf3)
#   make windows    cross-build every example for Windows into build/windows/
#   make figuras    the guides' pictures (figuras/*.png) from the shipped captures
#                   and the bench CSVs (gnuplot)
#   make redes [CENARIO=bind|nat|saida|cgnat|vpn|perda|congestionamento] [ALGORITMO=reno|cubic|bbr]
#                   the networks lab: NAT, CGNAT, VPN, loss, congestion in namespaces (root)
#   make clean
#
# The programs are built with -Wall -Wextra -Werror: a warning is a bug here.

SHELL    := /bin/bash
CXX      ?= g++
CXXFLAGS ?= -O2 -g
STD      := -std=c++17 -pthread
WARN     := -Wall -Wextra -Werror
SAN      ?=

ifeq ($(SAN),none)
SANFLAGS :=
else ifeq ($(SAN),address)
SANFLAGS := -fsanitize=address,undefined -fno-omit-frame-pointer -fno-sanitize-recover=undefined
else ifeq ($(SAN),thread)
SANFLAGS := -fsanitize=thread
else ifneq ($(SAN),)
$(error SAN must be address, thread or none)
endif

ALLFLAGS := $(STD) $(WARN) $(CXXFLAGS) $(SANFLAGS)

# Where a build goes. The plain one (no SAN, or SAN=none): the programs next to
# their sources (ex1_chat/server), objects and tests in build/make/. A
# sanitizer build (make test's default, SAN=address; SAN=thread): all of it in
# build/make/san-<SAN>/, programs too (build/make/san-address/ex1_chat/server),
# and the tests run those (LAB_BIN_DIR below). So after make test the programs a
# student runs are still the plain build, and switching SAN rebuilds nothing.
ifeq ($(SANFLAGS),)
OUT      :=
BUILD    := build/make
else
OUT      := build/make/san-$(SAN)/
BUILD    := build/make/san-$(SAN)
endif

# Rebuild everything when the compiler or the flags change.
STAMP := $(BUILD)/.flags
$(shell mkdir -p $(BUILD); echo '$(CXX) $(ALLFLAGS)' | cmp -s - $(STAMP) || echo '$(CXX) $(ALLFLAGS)' > $(STAMP))

# common/: the shim (net) and the small pieces (args, outbox, line_reader, ...),
# compiled once into $(BUILD)/obj/ and linked into every program and test.
COMMON_SRC := $(wildcard common/*.cpp)
COMMON_LIB := $(patsubst common/%.cpp,$(BUILD)/obj/common_%.o,$(COMMON_SRC))
COMMON     := $(COMMON_LIB) $(wildcard common/*.h)
EX1        := $(addprefix $(OUT),ex1_chat/server ex1_chat/client)
EX2        := $(addprefix $(OUT),ex2_crypto/server ex2_crypto/client)
EX3        := $(addprefix $(OUT),ex3_files/server ex3_files/client)
EX4        := $(addprefix $(OUT),ex4_kx/server ex4_kx/client ex4_kx/intruso)
EX5        := $(addprefix $(OUT),ex5_udp/server ex5_udp/client)
PROGRAMS   := $(EX1) $(EX2) $(EX3) $(EX4) $(EX5) $(OUT)redes/meuip

# libsodium (ex2, ex4), found with pkg-config; '=' so it is asked only when needed.
SODIUM_CFLAGS = $(shell pkg-config --cflags libsodium)
SODIUM_LIBS   = $(shell pkg-config --libs libsodium)

.PHONY: all deps demo test print-tests print-testbin tests capture samples fuzz windows bench clean redes figuras
all: $(PROGRAMS)

$(BUILD)/obj/common_%.o: common/%.cpp $(wildcard common/*.h) $(STAMP)
	@mkdir -p $(@D)
	$(CXX) $(ALLFLAGS) -c -o $@ $<

# MKDIR: the program's folder, needed only under build/make/san-<SAN>/.
MKDIR = $(if $(OUT),@mkdir -p $(@D))

$(OUT)ex1_chat/%: ex1_chat/%.cpp $(COMMON) $(STAMP)
	$(MKDIR)
	$(CXX) $(ALLFLAGS) -o $@ $< $(COMMON_LIB)

$(OUT)ex2_crypto/%: ex2_crypto/%.cpp $(wildcard ex2_crypto/*.h) $(COMMON) $(STAMP)
	$(MKDIR)
	$(CXX) $(ALLFLAGS) $(SODIUM_CFLAGS) -o $@ $< $(COMMON_LIB) $(SODIUM_LIBS)

$(OUT)ex3_files/%: ex3_files/%.cpp $(wildcard ex3_files/*.h) $(COMMON) $(STAMP)
	$(MKDIR)
	$(CXX) $(ALLFLAGS) -o $@ $< $(COMMON_LIB)

# ex4 includes ex2's token.h (base64url and start_sodium).
$(OUT)ex4_kx/%: ex4_kx/%.cpp $(wildcard ex4_kx/*.h) ex2_crypto/token.h $(COMMON) $(STAMP)
	$(MKDIR)
	$(CXX) $(ALLFLAGS) $(SODIUM_CFLAGS) -o $@ $< $(COMMON_LIB) $(SODIUM_LIBS)

# ex5 includes ex3's headers (request.h, served_file.h, part_file.h, ...).
$(OUT)ex5_udp/%: ex5_udp/%.cpp $(wildcard ex5_udp/*.h) $(wildcard ex3_files/*.h) $(COMMON) $(STAMP)
	$(MKDIR)
	$(CXX) $(ALLFLAGS) -o $@ $< $(COMMON_LIB)

$(OUT)redes/meuip: redes/meuip.cpp $(COMMON) $(STAMP)
	$(MKDIR)
	$(CXX) $(ALLFLAGS) -o $@ $< $(COMMON_LIB)

# ex6: Modbus/TCP (a simulated PLC and a master); no libraries beyond common/.
EX6        := $(addprefix $(OUT),ex6_modbus/server ex6_modbus/client)
PROGRAMS   += $(EX6)
all: $(EX6)
$(OUT)ex6_modbus/%: ex6_modbus/%.cpp $(wildcard ex6_modbus/*.h) $(COMMON) $(STAMP)
	$(MKDIR)
	$(CXX) $(ALLFLAGS) -o $@ $< $(COMMON_LIB)

# ex3's server (and ex5's, through ../ex3_files) serves the imagens/ beside it:
# a sanitizer build gets a copy, as the CMake build does.
ifneq ($(OUT),)
all: $(OUT)ex3_files/imagens
$(OUT)ex3_files/imagens: $(wildcard ex3_files/imagens/*)
	@rm -rf $@ && mkdir -p $(@D) && cp -R ex3_files/imagens $@
endif

# ---- tests (doctest) --------------------------------------------------------
# tests/tests.txt registers every test program (name, kind, labels, deps);
# scripts/test.sh and tests/CMakeLists.txt read it too.
TESTBIN    := $(BUILD)/tests
TESTLIST   := tests/tests.txt
# TESTS: the doctest programs (doctest's main); OWN_MAIN: those with their own
# main(), which may skip (exit 77) with a reason.
TESTS      := $(shell awk '!/^\#/ && $$2 == "doctest" { print $$1 }' $(TESTLIST))
OWN_MAIN   := $(shell awk '!/^\#/ && $$2 == "own" { print $$1 }' $(TESTLIST))
# What make test installs: the deps.sh extras of the tests, and clang (the
# CMake half builds everything with it).
TEST_DEPS  := clang $(sort $(shell awk '!/^\#/ && NF && $$4 != "-" { gsub(",", " ", $$4); print $$4 }' $(TESTLIST)))
# -O0: a test file compiles in a fifth of the time (doctest's macros are big)
# and its speed does not matter; the programs it runs are built with -O2.
# LAB_BIN_DIR: the programs of this build (build/make/san-<SAN> under a sanitizer).
TESTFLAGS  := $(ALLFLAGS) -O0 -DLAB_BIN_DIR='"$(patsubst %/,%,$(CURDIR)/$(OUT))"' \
              -DLAB_SOURCE_DIR='"$(CURDIR)"'

# Shared pieces compiled once: the doctest main(), the test support; common/
# is the programs' own $(BUILD)/obj/ (the test defines do not concern it).
TESTOBJ    := $(TESTBIN)/support.o $(COMMON_LIB)
$(TESTBIN)/doctest_main.o: tests/doctest_main.cpp $(STAMP)
	@mkdir -p $(TESTBIN)
	$(CXX) $(TESTFLAGS) -c -o $@ $<
$(TESTBIN)/support.o: tests/support.cpp tests/support.h $(STAMP)
	@mkdir -p $(TESTBIN)
	$(CXX) $(TESTFLAGS) -c -o $@ $<

# Each test's headers (ex5's, ex3's, tests/udp_relay.h, ...) are found by the
# compiler (-MMD) and kept in <test>.d: no list of them here.
DEPFLAGS    = -MMD -MP -MF $@.d -MT $@
$(addprefix $(TESTBIN)/,$(TESTS)): $(TESTBIN)/%: tests/%.cpp $(TESTOBJ) $(TESTBIN)/doctest_main.o
	$(CXX) $(TESTFLAGS) $(DEPFLAGS) $(SODIUM_CFLAGS) -o $@ $< $(TESTOBJ) $(TESTBIN)/doctest_main.o $(SODIUM_LIBS)
$(addprefix $(TESTBIN)/,$(OWN_MAIN)): $(TESTBIN)/%: tests/%.cpp $(TESTOBJ)
	$(CXX) $(TESTFLAGS) $(DEPFLAGS) $(SODIUM_CFLAGS) -o $@ $< $(TESTOBJ) $(SODIUM_LIBS)
-include $(wildcard $(TESTBIN)/*.d)

tests: $(addprefix $(TESTBIN)/,$(TESTS) $(OWN_MAIN))

# ---- the two commands of the README ------------------------------------------
deps:
	@DEPS='$(DEPS)' scripts/deps.sh

demo: deps
	@$(MAKE) --no-print-directory -s all
	@scripts/demo.sh

# make test installs what the tests need (TEST_DEPS; DEPS=0: nothing), then
# runs the suite under AddressSanitizer + UBSan unless SAN is given:
# SAN=thread (ThreadSanitizer, the doctest programs), SAN=none (plain).
# ONLY="e2e_ex1 unit": only the tests with those names or labels.
test:
	@DEPS='$(DEPS)' scripts/deps.sh --tests $(TEST_DEPS)
	@SAN='$(if $(SAN),$(SAN),address)' ONLY='$(ONLY)' DEPS='$(DEPS)' scripts/test.sh

print-tests:
	@echo $(TESTS) $(OWN_MAIN)

# Where this SAN's test programs are (scripts/test.sh asks).
print-testbin:
	@echo $(TESTBIN)

# ---- fuzzing (libFuzzer, clang) ----------------------------------------------
FUZZERS      := fuzz_request fuzz_token fuzz_kx fuzz_ex5
FUZZERS      += fuzz_modbus
FUZZ_SECONDS ?= 30
FUZZFLAGS    := -std=c++17 -g -O1 -fsanitize=fuzzer,address,undefined

# common/ once for all harnesses (fuzzer-no-link: instrumented, no main).
FUZZ_COMMON  := $(patsubst common/%.cpp,build/fuzz/common_%.o,$(COMMON_SRC))
.SECONDARY: $(FUZZ_COMMON)
build/fuzz/common_%.o: common/%.cpp $(wildcard common/*.h)
	@mkdir -p build/fuzz
	clang++ $(subst fuzzer,fuzzer-no-link,$(FUZZFLAGS)) -c -o $@ $<

build/fuzz/%: tests/fuzz/%.cpp ex2_crypto/token.h ex3_files/request.h ex4_kx/kx.h $(FUZZ_COMMON)
	@mkdir -p build/fuzz
	clang++ $(FUZZFLAGS) $(SODIUM_CFLAGS) -o $@ $< $(FUZZ_COMMON) $(SODIUM_LIBS)

build/fuzz/fuzz_modbus: $(wildcard ex6_modbus/*.h)
build/fuzz/fuzz_ex5: $(wildcard ex5_udp/*.h)

# Each harness runs FUZZ_SECONDS, one per core at a time, from the committed corpus
# (tests/fuzz/corpus/<harness>); scripts/fuzz.sh says what it found.
fuzz:
	@scripts/deps.sh clang
	@$(MAKE) --no-print-directory -j$$(nproc 2>/dev/null || echo 2) $(addprefix build/fuzz/,$(FUZZERS))
	@FUZZ_SECONDS=$(FUZZ_SECONDS) scripts/fuzz.sh $(FUZZERS)

# Benchmarks: figures next to baselines measured in the same run (not in CI,
# except one smoke run with tiny sizes).
bench: all
	@scripts/deps.sh bench modbus
	@bench/bench.sh

# Cross-build for Windows (MinGW-w64) into build/windows/.
windows:
	@scripts/windows.sh

capture: all
	@scripts/deps.sh capture
	@EX='$(EX)' NET='$(NET)' CHUNK='$(CHUNK)' scripts/capture.sh

# The samples in captures/ (port 8000); tests/shipped_captures.cpp checks them.
samples: all
	@scripts/deps.sh capture redes
	@scripts/samples.sh

# The networks lab (redes/README.md): namespaces, so root only.
redes: $(EX1) $(EX3) $(EX5) redes/meuip
	@scripts/deps.sh redes
	@CENARIO='$(CENARIO)' ALGORITMO='$(ALGORITMO)' redes/redes.sh

# The pictures of the guides (figuras/README.md): gnuplot, from the shipped
# captures and bench/results/*.csv; tests/figure_data.cpp keeps the data true.
figuras:
	@scripts/deps.sh figuras
	@scripts/figuras.sh

clean:
	rm -rf build $(PROGRAMS)
	find ex3_files/downloads -mindepth 1 ! -name .gitkeep -delete
	find ex5_udp/downloads -mindepth 1 ! -name .gitkeep -delete
