// status.hpp defines Status and Expected<T>, the engine's error values: no
// engine call that the PostgreSQL side makes throws.
#pragma once

#include <new>
#include <string>
#include <utility>
#include <variant>

namespace vecdb::knowhere {

// StatusCode says what kind of failure a Status reports. The bridge maps each
// to a SQLSTATE (see STYLE.md): invalid argument 22023, out of memory 53200,
// not supported 0A000, cancelled 57014, corrupt XX002, internal XX000,
// dimension mismatch 22000, too many dimensions 54000.
enum class StatusCode {
	kOk = 0,
	kInvalidArgument,
	kOutOfMemory,
	kNotSupported,
	kCancelled,
	kCorrupt,
	kInternal,
	kDimensionMismatch,
	kTooManyDimensions,
};

// Status is a code and, unless ok, a message for the user.
class Status {
public:
	Status() noexcept = default;
	Status(StatusCode code, std::string message) noexcept : code_(code) {
		try {
			message_ = std::move(message);
		} catch (...) {
		}
	}

	// Ok returns the success status.
	static Status Ok() noexcept { return Status(); }
	static Status InvalidArgument(std::string m) noexcept { return {StatusCode::kInvalidArgument, std::move(m)}; }
	static Status OutOfMemory(std::string m) noexcept { return {StatusCode::kOutOfMemory, std::move(m)}; }
	static Status NotSupported(std::string m) noexcept { return {StatusCode::kNotSupported, std::move(m)}; }
	static Status Cancelled() noexcept { return {StatusCode::kCancelled, "canceling statement due to user request"}; }
	static Status Corrupt(std::string m) noexcept { return {StatusCode::kCorrupt, std::move(m)}; }
	static Status Internal(std::string m) noexcept { return {StatusCode::kInternal, std::move(m)}; }
	static Status DimensionMismatch(std::string m) noexcept { return {StatusCode::kDimensionMismatch, std::move(m)}; }
	static Status TooManyDimensions(std::string m) noexcept { return {StatusCode::kTooManyDimensions, std::move(m)}; }

	bool ok() const noexcept { return code_ == StatusCode::kOk; }
	StatusCode code() const noexcept { return code_; }
	const std::string &message() const noexcept { return message_; }

private:
	StatusCode code_ = StatusCode::kOk;
	std::string message_;
};

// Expected holds either a value or the Status that explains its absence.
template <typename T>
class Expected {
public:
	Expected(T value) noexcept(std::is_nothrow_move_constructible_v<T>) : v_(std::move(value)) {}
	Expected(Status status) noexcept : v_(std::move(status)) {}

	bool ok() const noexcept { return std::holds_alternative<T>(v_); }
	// status returns Ok for a value, else the error.
	Status status() const noexcept { return ok() ? Status::Ok() : std::get<Status>(v_); }
	T &value() & noexcept { return *std::get_if<T>(&v_); }
	T &&value() && noexcept { return std::move(*std::get_if<T>(&v_)); }

private:
	std::variant<T, Status> v_;
};

// VECDB_RETURN_IF_ERROR returns the status of expr from the enclosing function unless ok.
#define VECDB_RETURN_IF_ERROR(expr)                                           \
	do {                                                                      \
		::vecdb::knowhere::Status _vecdb_s = (expr);                            \
		if (!_vecdb_s.ok())                                                   \
			return _vecdb_s;                                                  \
	} while (0)

}  // namespace vecdb::knowhere
