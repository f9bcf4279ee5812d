// auth::dkim clock — the injected time source for t=/x= (RFC 6376 §3.5). The verifier and the
// signer never read the system time themselves: they call the Clock in their options, so tests
// pin the time (STYLE.md "Time comes from an injected Clock").
#pragma once

#include <cstdint>
#include <functional>

namespace auth::dkim {

/// Returns the current time in seconds since the Unix epoch.
using Clock = std::function<std::int64_t()>;

/// A Clock reading the system time (std::chrono::system_clock).
Clock system_clock();

/// A Clock that always returns `unix_seconds` (tests, reproducible signing).
Clock fixed_clock(std::int64_t unix_seconds);

}  // namespace auth::dkim
