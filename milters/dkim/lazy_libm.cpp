// lazy_libm.cpp — the libm functions Lua's math library calls, loaded on first use.
//
// inkan-dkim links Lua (liblua5.3-c++.a) statically for its policy scripts. Lua's math library
// is the daemon's only user of libm, but a libm in DT_NEEDED costs every daemon ~0.33 MiB of
// resident memory at start whether or not a script is configured: ld.so runs libm's IFUNC
// resolvers (IRELATIVE relocations) at load, which faults in a quarter of its text. The issue's
// RSS budget is 10 MB for the whole daemon, so libm is opened with dlopen the first time a
// script calls one of these functions, the way systemd loads its optional libraries; the
// functions then run glibc's own implementation. Debian's libm.a cannot be linked into a PIE
// instead (it needs text relocations).
//
// Built into inkan-dkim only when Lua comes from its static archive (milters/dkim/CMakeLists.txt),
// as definitions in the executable: Lua's references bind here at link time, nothing else in the
// process sees these symbols (the executable is not linked with --export-dynamic), and libm
// leaves the DT_NEEDED list.
#include <dlfcn.h>

#include <cerrno>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <limits>

namespace {

/// glibc's libm soname on every architecture Debian builds inkan for.
constexpr const char* kLibm = "libm.so.6";

void* libm_handle() noexcept {
  // A function-local static: initialised once, thread-safe (policy scripts run on several
  // message threads at once).
  static void* const handle = [] {
    void* h = dlopen(kLibm, RTLD_NOW | RTLD_LOCAL);
    if (h == nullptr) {
      // libm is part of libc6, so this cannot happen on a working system; say so once and let
      // every math function return NaN (a script error, never a crash).
      std::fprintf(stderr, "inkan-dkim: cannot load %s for Lua's math library: %s\n", kLibm, dlerror());
    }
    return h;
  }();
  return handle;
}

template <typename Fn>
Fn resolve(const char* name) noexcept {
  void* h = libm_handle();
  if (h == nullptr) return nullptr;
  return reinterpret_cast<Fn>(dlsym(h, name));
}

using Unary = double (*)(double);
using Binary = double (*)(double, double);

double call(const Unary& fn, double x) noexcept {
  if (fn == nullptr) {
    errno = EDOM;
    return std::numeric_limits<double>::quiet_NaN();
  }
  return fn(x);
}
double call(const Binary& fn, double x, double y) noexcept {
  if (fn == nullptr) {
    errno = EDOM;
    return std::numeric_limits<double>::quiet_NaN();
  }
  return fn(x, y);
}

}  // namespace

// One forwarding definition per libm function liblua5.3-c++.a refers to (`nm -u`). frexp and
// ldexp are exported by libc too, but g++ puts -lm before -lc, so without definitions here they
// would bind to libm and keep it in DT_NEEDED. Each resolves its target once.
#define INKAN_LAZY_UNARY(name)                                  \
  extern "C" double name(double x) noexcept {                   \
    static const Unary fn = resolve<Unary>(#name);              \
    return call(fn, x);                                         \
  }
#define INKAN_LAZY_BINARY(name)                                 \
  extern "C" double name(double x, double y) noexcept {         \
    static const Binary fn = resolve<Binary>(#name);            \
    return call(fn, x, y);                                      \
  }

INKAN_LAZY_UNARY(acos)
INKAN_LAZY_UNARY(asin)
INKAN_LAZY_UNARY(cos)
INKAN_LAZY_UNARY(cosh)
INKAN_LAZY_UNARY(exp)
INKAN_LAZY_UNARY(log)
INKAN_LAZY_UNARY(log10)
INKAN_LAZY_UNARY(log2)
INKAN_LAZY_UNARY(sin)
INKAN_LAZY_UNARY(sinh)
INKAN_LAZY_UNARY(sqrt)
INKAN_LAZY_UNARY(tan)
INKAN_LAZY_UNARY(tanh)
INKAN_LAZY_BINARY(atan2)
INKAN_LAZY_BINARY(fmod)
INKAN_LAZY_BINARY(pow)

extern "C" double frexp(double x, int* exponent) noexcept {
  using Fn = double (*)(double, int*);
  static const Fn fn = resolve<Fn>("frexp");
  if (fn == nullptr) {
    *exponent = 0;
    errno = EDOM;
    return std::numeric_limits<double>::quiet_NaN();
  }
  return fn(x, exponent);
}
extern "C" double ldexp(double x, int exponent) noexcept {
  using Fn = double (*)(double, int);
  static const Fn fn = resolve<Fn>("ldexp");
  if (fn == nullptr) {
    errno = EDOM;
    return std::numeric_limits<double>::quiet_NaN();
  }
  return fn(x, exponent);
}
