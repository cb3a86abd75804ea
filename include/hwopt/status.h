// Errors as values: every fallible public call returns Status or Expected<T>.
#pragma once

#include <string>
#include <utility>
#include <variant>

namespace hwopt {

enum class StatusCode {
  ok = 0,
  invalid_argument,   // bad user input (wrong shape, unknown input name, bad CLI flag)
  invalid_model,      // malformed model file or graph
  unsupported,        // valid, but not implemented (unknown op, opset, dtype)
  not_found,          // missing file
  out_of_memory,      // allocation failed or would exceed a limit
  runtime_error,      // a kernel failed while running
  io_error,           // reading or writing a file failed
  internal,           // a bug in hwopt
};

const char* status_code_name(StatusCode code);

/// Result of an operation: ok, or a code with a message naming the node or tensor at fault.
class Status {
 public:
  Status() = default;
  Status(StatusCode code, std::string message) : code_(code), message_(std::move(message)) {}

  static Status OK() { return Status(); }

  bool ok() const { return code_ == StatusCode::ok; }
  StatusCode code() const { return code_; }
  const std::string& message() const { return message_; }
  /// "invalid_model: node 'conv1' (Conv): ..." style one-line description.
  std::string to_string() const;

 private:
  StatusCode code_ = StatusCode::ok;
  std::string message_;
};

/// A value or the Status explaining why there is none.
template <typename T>
class Expected {
 public:
  Expected(T value) : v_(std::move(value)) {}  // NOLINT(implicit)
  Expected(Status status) : v_(std::move(status)) {  // NOLINT(implicit)
    if (std::get<Status>(v_).ok()) v_ = Status(StatusCode::internal, "Expected built from an ok Status");
  }

  bool ok() const { return std::holds_alternative<T>(v_); }
  explicit operator bool() const { return ok(); }
  const Status& status() const {
    static const Status ok_status;
    return ok() ? ok_status : std::get<Status>(v_);
  }
  T& value() & { return std::get<T>(v_); }
  const T& value() const& { return std::get<T>(v_); }
  T&& value() && { return std::get<T>(std::move(v_)); }
  T* operator->() { return &value(); }
  const T* operator->() const { return &value(); }
  T& operator*() & { return value(); }
  const T& operator*() const& { return value(); }

 private:
  std::variant<T, Status> v_;
};

}  // namespace hwopt

#define HWOPT_RETURN_IF_ERROR(expr)          \
  do {                                       \
    ::hwopt::Status _hw_st = (expr);         \
    if (!_hw_st.ok()) return _hw_st;         \
  } while (0)

#define HWOPT_CONCAT_INNER(a, b) a##b
#define HWOPT_CONCAT(a, b) HWOPT_CONCAT_INNER(a, b)
#define HWOPT_ASSIGN_OR_RETURN_IMPL(tmp, lhs, expr) \
  auto tmp = (expr);                                \
  if (!tmp.ok()) return tmp.status();               \
  lhs = std::move(tmp).value()
#define HWOPT_ASSIGN_OR_RETURN(lhs, expr) \
  HWOPT_ASSIGN_OR_RETURN_IMPL(HWOPT_CONCAT(_hw_exp_, __LINE__), lhs, expr)
