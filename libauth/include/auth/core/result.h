// auth::Result<T> — a value or a precise error, for parsers that face hostile input.
//
// Shaped like std::expected (C++23) so it can become one: has_value(), value(), error(),
// operator bool, operator*, operator->. Parsers return it; they never throw on bad input.
// Exceptions are kept for programmer errors and start-up configuration failures (DESIGN.md).
#pragma once

#include <string>
#include <string_view>
#include <utility>
#include <variant>

namespace auth {

/// Broad classes of failure. The `reason` text says precisely what went wrong.
enum class ErrorCode {
  Syntax,         ///< input does not match the grammar
  LimitExceeded,  ///< a named bound (size, count, depth) was hit
  Unsupported,    ///< well-formed, but a version/algorithm/type we do not handle
  Missing,        ///< a required element is absent
  Duplicate,      ///< an element that must be unique appears twice
  Invalid,        ///< well-formed but semantically unusable (bad key, bad address)
  Io,             ///< file or system error
  Crypto,         ///< the crypto library refused (bad key material, failed operation)
  Dns,            ///< a DNS lookup failed
  Internal,       ///< our own trouble
};

const char* to_string(ErrorCode code) noexcept;

/// An error value: a code for programs and a reason for people (rspamd `fail_reason`).
struct Error {
  ErrorCode code = ErrorCode::Internal;
  std::string reason;

  Error() = default;
  Error(ErrorCode c, std::string r) : code(c), reason(std::move(r)) {}
  friend bool operator==(const Error&, const Error&) = default;
};

/// Tag type so `return auth::fail(ErrorCode::Syntax, "...")` converts to any Result<T>.
struct Unexpected {
  Error error;
};
inline Unexpected fail(ErrorCode code, std::string reason) {
  return Unexpected{Error{code, std::move(reason)}};
}
inline Unexpected fail(Error e) { return Unexpected{std::move(e)}; }

template <typename T>
class [[nodiscard]] Result {
 public:
  Result(const T& v) : v_(std::in_place_index<0>, v) {}                  // NOLINT implicit
  Result(T&& v) : v_(std::in_place_index<0>, std::move(v)) {}            // NOLINT implicit
  Result(Unexpected u) : v_(std::in_place_index<1>, std::move(u.error)) {}  // NOLINT implicit

  bool has_value() const noexcept { return v_.index() == 0; }
  explicit operator bool() const noexcept { return has_value(); }

  T& value() & { return std::get<0>(v_); }
  const T& value() const& { return std::get<0>(v_); }
  T&& value() && { return std::get<0>(std::move(v_)); }
  T& operator*() & { return value(); }
  const T& operator*() const& { return value(); }
  T* operator->() { return &value(); }
  const T* operator->() const { return &value(); }

  const Error& error() const& { return std::get<1>(v_); }
  Error&& error() && { return std::get<1>(std::move(v_)); }

  template <typename U>
  T value_or(U&& fallback) const& {
    return has_value() ? value() : static_cast<T>(std::forward<U>(fallback));
  }

 private:
  std::variant<T, Error> v_;
};

/// Result<void>: success or an error.
template <>
class [[nodiscard]] Result<void> {
 public:
  Result() = default;
  Result(Unexpected u) : err_(std::move(u.error)), ok_(false) {}  // NOLINT implicit
  bool has_value() const noexcept { return ok_; }
  explicit operator bool() const noexcept { return ok_; }
  const Error& error() const& { return err_; }

 private:
  Error err_;
  bool ok_ = true;
};

/// Convenience for success in Result<void>-returning functions.
inline Result<void> ok() { return {}; }

}  // namespace auth
