# Cross-build for 64-bit Windows with mingw-w64; CTest runs the Windows
# binaries under wine.
#
#   cmake -S . -B build-win \
#         -DCMAKE_TOOLCHAIN_FILE=cmake/mingw-w64-x86_64.cmake
#   cmake --build build-win && (cd build-win && ctest)
set(CMAKE_SYSTEM_NAME Windows)
set(CMAKE_SYSTEM_PROCESSOR x86_64)

set(MMF_MINGW_TRIPLE x86_64-w64-mingw32)
set(CMAKE_C_COMPILER ${MMF_MINGW_TRIPLE}-gcc)
# C++ is optional (the header's C++ check): only where g++ is installed.
find_program(MMF_MINGW_CXX ${MMF_MINGW_TRIPLE}-g++)
if(MMF_MINGW_CXX)
  set(CMAKE_CXX_COMPILER ${MMF_MINGW_CXX})
endif()
set(CMAKE_RC_COMPILER ${MMF_MINGW_TRIPLE}-windres)

# Headers and libraries from the mingw sysroot; programs from the host.
set(CMAKE_FIND_ROOT_PATH /usr/${MMF_MINGW_TRIPLE})
set(CMAKE_FIND_ROOT_PATH_MODE_PROGRAM NEVER)
set(CMAKE_FIND_ROOT_PATH_MODE_LIBRARY ONLY)
set(CMAKE_FIND_ROOT_PATH_MODE_INCLUDE ONLY)
set(CMAKE_FIND_ROOT_PATH_MODE_PACKAGE ONLY)

# wine64 (Debian installs it outside PATH), else a wine that runs 64-bit
# programs itself.
find_program(MMF_WINE NAMES wine64 wine
             PATHS /usr/lib/wine /usr/lib64/wine /usr/libexec/wine
             NO_CMAKE_FIND_ROOT_PATH)
if(MMF_WINE)
  # Quiet wine: its debug channels would bury the tests' output.
  set(CMAKE_CROSSCOMPILING_EMULATOR
      ${CMAKE_COMMAND} -E env WINEDEBUG=-all ${MMF_WINE})
endif()
