// Fuzz target: SPF macro syntax check and expansion (RFC 7208 §7). The first byte picks the
// mode and the client address family; the rest is the macro-string.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string_view>

#include "auth/spf/macro.h"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  if (size == 0) return 0;
  auto mode = (data[0] & 1) ? auth::spf::MacroMode::Explanation : auth::spf::MacroMode::Domain;
  std::string_view in(reinterpret_cast<const char*>(data + 1), size - 1);

  auth::spf::MacroContext ctx;
  ctx.sender = "strong-bad@email.example.com";
  ctx.local_part = "strong-bad";
  ctx.sender_domain = "email.example.com";
  ctx.domain = "email.example.com";
  ctx.client_ip = (data[0] & 2) ? "2001:db8::cb01" : "192.0.2.3";
  ctx.helo = "mx.example.org";
  ctx.validated_domain = "mx.example.org";
  ctx.receiver = "example.net";
  ctx.timestamp = 1234567890;

  bool syntax_ok = static_cast<bool>(auth::spf::check_macro_string(in, mode));
  auto x = auth::spf::expand_macros(in, ctx, mode);
  // The checker and the expander agree on syntax; only the output bound may differ.
  if (x && !syntax_ok) std::abort();
  if (!x && syntax_ok && x.error().code != auth::ErrorCode::LimitExceeded) std::abort();
  if (x) {
    if (x->size() > auth::spf::kMaxMacroOutput) std::abort();
    std::string t = auth::spf::truncate_domain(*x);
    if (t.size() > 253 && t.find('.') != std::string::npos) std::abort();
  }
  (void)auth::spf::uses_validated_domain(in);
  return 0;
}
