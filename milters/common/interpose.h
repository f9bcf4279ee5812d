// inkan::milter — helpers shared by the libc interposers (tcp_nodelay.cpp, read_buffer.cpp):
// converting between function pointers and the void* of dlsym() (POSIX guarantees the
// conversion; memcpy keeps it free of undefined behaviour in C++).
#pragma once

#include <cstring>

namespace inkan::milter::interpose {

/// A function pointer from dlsym().
template <typename Fn>
Fn function_from(void* p) noexcept {
  Fn f = nullptr;
  static_assert(sizeof f == sizeof p);
  std::memcpy(&f, &p, sizeof f);
  return f;
}

/// The address of a function, comparable with dlsym()'s result.
template <typename Fn>
void* address_of(Fn f) noexcept {
  void* p = nullptr;
  static_assert(sizeof f == sizeof p);
  std::memcpy(&p, &f, sizeof p);
  return p;
}

}  // namespace inkan::milter::interpose
