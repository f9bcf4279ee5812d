// auth::dns::internal — name and address helpers shared by the resolvers of libauth/src/dns.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace auth::dns::internal {

/// Lower-cases ASCII letters only (RFC 4343 §3: DNS case-insensitivity is ASCII-only) and
/// removes one trailing dot.
std::string canonical_name(std::string_view name);

/// "192.0.2.1" / "2001:DB8::1" in the inet_ntop form of its family; std::nullopt if `text`
/// is not an address of that family (`v6` selects AF_INET6).
std::optional<std::string> canonical_address(std::string_view text, bool v6);

}  // namespace auth::dns::internal
