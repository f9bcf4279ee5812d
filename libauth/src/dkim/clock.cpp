#include "auth/dkim/clock.h"

#include <chrono>

namespace auth::dkim {

Clock system_clock() {
  return [] {
    return static_cast<std::int64_t>(std::chrono::duration_cast<std::chrono::seconds>(
                                         std::chrono::system_clock::now().time_since_epoch())
                                         .count());
  };
}

Clock fixed_clock(std::int64_t unix_seconds) {
  return [unix_seconds] { return unix_seconds; };
}

}  // namespace auth::dkim
