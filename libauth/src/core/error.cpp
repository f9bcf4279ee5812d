#include "auth/core/result.h"

namespace auth {

const char* to_string(ErrorCode code) noexcept {
  switch (code) {
    case ErrorCode::Syntax: return "syntax";
    case ErrorCode::LimitExceeded: return "limit-exceeded";
    case ErrorCode::Unsupported: return "unsupported";
    case ErrorCode::Missing: return "missing";
    case ErrorCode::Duplicate: return "duplicate";
    case ErrorCode::Invalid: return "invalid";
    case ErrorCode::Io: return "io";
    case ErrorCode::Crypto: return "crypto";
    case ErrorCode::Dns: return "dns";
    case ErrorCode::Internal: return "internal";
  }
  return "unknown";
}

}  // namespace auth
