# Toolchain file: cross-build for Windows x86-64 from Linux with MinGW-w64.
# Used by the "mingw" preset (CMakePresets.json). libsodium for MinGW comes
# from `make windows` (build/mingw-sodium), found through pkg-config.
set(CMAKE_SYSTEM_NAME Windows)
set(CMAKE_SYSTEM_PROCESSOR x86_64)
# The -posix flavour of the compiler: the one with std::thread.
set(CMAKE_CXX_COMPILER x86_64-w64-mingw32-g++-posix)
set(CMAKE_RC_COMPILER x86_64-w64-mingw32-windres)
set(CMAKE_FIND_ROOT_PATH /usr/x86_64-w64-mingw32 ${CMAKE_CURRENT_LIST_DIR}/../build/mingw-sodium)
set(CMAKE_FIND_ROOT_PATH_MODE_PROGRAM NEVER)
set(CMAKE_FIND_ROOT_PATH_MODE_LIBRARY ONLY)
set(CMAKE_FIND_ROOT_PATH_MODE_INCLUDE ONLY)
set(CMAKE_FIND_ROOT_PATH_MODE_PACKAGE ONLY)
# Static: each .exe runs on a bare Windows, without MinGW's DLLs.
set(CMAKE_EXE_LINKER_FLAGS_INIT "-static")
add_compile_definitions(_WIN32_WINNT=0x0600 SODIUM_STATIC)
