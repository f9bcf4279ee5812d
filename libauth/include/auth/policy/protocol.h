// auth::policy — the Postfix SMTP access policy delegation protocol, pure halves
// (https://www.postfix.org/SMTPD_POLICY_README.html "Protocol description"; Postfix
// attr_scan_plain(3) / attr_print_plain(3)).
//
// Owns: the request reader, a push parser (feed bytes as they arrive, take complete requests
// out; no sockets, no blocking), and the response formatter. A request is a list of
// `name=value` lines ended by an empty line; the reply is `action=...` and an empty line.
//
// Line handling follows postfix-policyd-spf-python, which inkan-spf replaces: trailing white
// space (CR included) is stripped, a line that is then empty ends the request, white space
// around the name is ignored, a line that is not `name=value` is skipped and counted (policyd-spf
// logs "Could not match line"), the last of repeated names wins. Input is hostile: line length
// and attribute count are bounded (named constants below); exceeding them poisons the stream,
// since no reply can be matched to the request any more.
#pragma once

#include <cstddef>
#include <deque>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "auth/core/result.h"

namespace auth::policy {

/// Longest request line accepted, newline excluded. Postfix's own attributes are short (names
/// < 32, values: addresses, host names, certificate subjects, SASL names); smtpd truncates
/// nothing, so the bound is local policy, generous (cf. Postfix line_length_limit 2048).
inline constexpr std::size_t kMaxLineBytes = 16 * 1024;
/// Most attribute lines in one request. Postfix 3.7 sends about 30 (SMTPD_POLICY_README);
/// local policy.
inline constexpr std::size_t kMaxAttributes = 256;
/// Longest `action=` value written (header text included); longer text is truncated. Local
/// policy: Postfix header_size_limit is 102400, one prepended header is far below it.
inline constexpr std::size_t kMaxActionBytes = 8 * 1024;

/// One policy request: attributes in arrival order (duplicates already collapsed: the last wins).
struct Request {
  std::vector<std::pair<std::string, std::string>> attributes;
  /// Lines that were not `name=value` (or held a NUL byte) and were skipped.
  std::size_t malformed_lines = 0;

  /// The value of `name`, or nullopt when absent. Names compare exactly (Postfix sends lower case).
  std::optional<std::string_view> get(std::string_view name) const;
  /// The value of `name`, or "" when absent.
  std::string_view value(std::string_view name) const;
  bool has(std::string_view name) const { return get(name).has_value(); }
};

/// Push parser for a stream of requests (one per policy connection).
///
///   RequestReader r;
///   r.feed(bytes);                      // any chunking
///   while (auto req = r.next()) use(*req);
///   if (r.failed()) close the connection (r.error() says why)
///
/// Memory is bounded: the partial line is at most kMaxLineBytes, the partial request at most
/// kMaxAttributes lines; completed requests queue until taken with next().
class RequestReader {
 public:
  /// Appends bytes. After an error further input is ignored.
  void feed(std::string_view bytes);
  /// The oldest complete request, if any.
  std::optional<Request> next();
  /// Complete requests waiting.
  std::size_t ready() const noexcept { return done_.size(); }
  /// True once the stream broke a limit (LimitExceeded); sticky.
  bool failed() const noexcept { return error_.has_value(); }
  const std::optional<Error>& error() const noexcept { return error_; }
  /// True when bytes of an unfinished request are buffered (EOF now would truncate it).
  bool mid_request() const noexcept { return !line_.empty() || !current_.attributes.empty() ||
                                             current_.malformed_lines > 0; }

 private:
  void end_line(std::string_view line);
  std::string line_;
  Request current_;
  std::deque<Request> done_;
  std::optional<Error> error_;
};

/// Parses one complete request from text (for tests and tools): the text must hold exactly one
/// request ended by an empty line. Errors: Syntax (no terminating empty line, or more than one
/// request), LimitExceeded (a bound above).
Result<Request> parse_request(std::string_view text);

/// Removes what must not reach Postfix in a reply: CR, LF, NUL and other control characters
/// become a space; the text is cut at kMaxActionBytes.
std::string sanitize_action(std::string_view text);

/// The reply for one request: "action=" + sanitize_action(action) + "\n\n".
std::string format_response(std::string_view action);

}  // namespace auth::policy
