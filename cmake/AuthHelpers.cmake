# Per-module helpers in the spirit of abseil's absl_cc_library / fmt's add_fmt_test:
# one call declares a module library, a unit-test executable or a fuzz target.

set(INKAN_WARNINGS -Wall -Wextra -Wpedantic -Wshadow -Wconversion -Wno-sign-conversion
    -Wnon-virtual-dtor -Wold-style-cast -Woverloaded-virtual -Wimplicit-fallthrough)

# auth_library(NAME SRCS ... DEPS ...)  -> target auth_<NAME>, alias auth::<NAME>
function(auth_library)
  cmake_parse_arguments(A "" "NAME" "SRCS;DEPS" ${ARGN})
  add_library(auth_${A_NAME} STATIC ${A_SRCS})
  add_library(auth::${A_NAME} ALIAS auth_${A_NAME})
  target_include_directories(auth_${A_NAME}
    PUBLIC ${PROJECT_SOURCE_DIR}/libauth/include
    PRIVATE ${PROJECT_SOURCE_DIR}/libauth/src)
  target_compile_options(auth_${A_NAME} PRIVATE ${INKAN_WARNINGS})
  target_link_libraries(auth_${A_NAME} PUBLIC ${A_DEPS})
  set_target_properties(auth_${A_NAME} PROPERTIES POSITION_INDEPENDENT_CODE ON)
endfunction()

# auth_test(NAME SRCS ... DEPS ... [LABELS ...])  -> one GoogleTest executable, tests discovered by ctest
function(auth_test)
  cmake_parse_arguments(A "" "NAME" "SRCS;DEPS;LABELS" ${ARGN})
  add_executable(${A_NAME} ${A_SRCS})
  target_include_directories(${A_NAME} PRIVATE ${PROJECT_SOURCE_DIR}/libauth/src
                                                ${PROJECT_SOURCE_DIR}/tests)
  target_compile_options(${A_NAME} PRIVATE -Wall -Wextra)
  target_link_libraries(${A_NAME} PRIVATE ${A_DEPS} GTest::gtest GTest::gmock GTest::gtest_main)
  target_compile_definitions(${A_NAME} PRIVATE
    INKAN_CONFORMANCE_DIR="${INKAN_CONFORMANCE_DIR}"
    INKAN_SOURCE_DIR="${PROJECT_SOURCE_DIR}")
  if(NOT A_LABELS)
    set(A_LABELS unit)
  endif()
  gtest_discover_tests(${A_NAME} TEST_PREFIX "${A_NAME}." DISCOVERY_TIMEOUT 60
                       PROPERTIES LABELS "${A_LABELS}")
endfunction()

# auth_fuzzer(NAME SRCS ... DEPS ... CORPUS dir)
# With INKAN_FUZZ and clang: a libFuzzer binary. Otherwise the same entry point is linked
# with tests/fuzz/replay_main.cpp and ctest replays the checked-in corpus (fmt FMT_FUZZ_LINKMAIN).
function(auth_fuzzer)
  cmake_parse_arguments(A "" "NAME;CORPUS" "SRCS;DEPS" ${ARGN})
  add_executable(${A_NAME} ${A_SRCS})
  target_link_libraries(${A_NAME} PRIVATE ${A_DEPS})
  target_include_directories(${A_NAME} PRIVATE ${PROJECT_SOURCE_DIR}/libauth/src)
  if(INKAN_FUZZ)
    target_compile_options(${A_NAME} PRIVATE -fsanitize=fuzzer,address,undefined)
    target_link_options(${A_NAME} PRIVATE -fsanitize=fuzzer,address,undefined)
  else()
    target_sources(${A_NAME} PRIVATE ${PROJECT_SOURCE_DIR}/tests/fuzz/replay_main.cpp)
    add_test(NAME fuzz_replay.${A_NAME} COMMAND ${A_NAME} ${A_CORPUS})
    set_tests_properties(fuzz_replay.${A_NAME} PROPERTIES LABELS fuzz)
  endif()
endfunction()

# inkan_daemon(TARGET): link options every long-running daemon shares. With
# INKAN_STATIC_CXX_RUNTIME the C++ runtime is linked in (see the option in CMakeLists.txt);
# the C libraries (libc, libcrypto, c-ares, libidn2, libmilter) stay shared.
function(inkan_daemon target)
  if(INKAN_STATIC_CXX_RUNTIME)
    # --as-needed: g++ adds -lm to every C++ link; a daemon that calls nothing in libm (inkan-dkim
    # reaches it through milters/dkim/lazy_libm.cpp) then does not load it at start.
    # --gc-sections: with -ffunction-sections (CMakeLists.txt) the unused code is left out.
    target_link_options(${target} PRIVATE -static-libstdc++ -static-libgcc -Wl,--as-needed -Wl,--gc-sections)
    # RELR (glibc >= 2.36, binutils >= 2.38): the relative relocations of the code linked in
    # above are packed, so ld.so reads a few KiB instead of ~24 bytes per pointer at start.
    include(CheckLinkerFlag)
    check_linker_flag(CXX "-Wl,-z,pack-relative-relocs" INKAN_HAVE_RELR)
    if(INKAN_HAVE_RELR)
      target_link_options(${target} PRIVATE -Wl,-z,pack-relative-relocs)
    endif()
  endif()
endfunction()
