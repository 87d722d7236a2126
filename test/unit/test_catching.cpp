// test_catching.cpp checks Catching, the engine's one conversion of
// exceptions into a Status: out of memory, other exceptions, and results
// (Status or Expected) passed through untouched.
#include <gtest/gtest.h>

#include <memory>
#include <new>
#include <stdexcept>
#include <string>

#include "knowhere/catching.hpp"

namespace vecdb::knowhere {
namespace {

TEST(Catching, BadAllocIsOutOfMemory) {
	Status s = Catching("doing work", []() -> Status { throw std::bad_alloc(); });
	EXPECT_EQ(s.code(), StatusCode::kOutOfMemory);
	EXPECT_EQ(s.message(), "out of memory while doing work");
}

TEST(Catching, OtherExceptionsAreInternalWithTheirMessage) {
	Status s = Catching("doing work", []() -> Status { throw std::runtime_error("boom"); });
	EXPECT_EQ(s.code(), StatusCode::kInternal);
	EXPECT_EQ(s.message(), "doing work failed: boom");
	s = Catching("doing work", []() -> Status { throw 7; });
	EXPECT_EQ(s.code(), StatusCode::kInternal);
	EXPECT_EQ(s.message(), "doing work failed with an unknown exception");
}

TEST(Catching, ResultsPassThrough) {
	EXPECT_TRUE(Catching("doing work", [] { return Status::Ok(); }).ok());
	Status cancelled = Catching("doing work", [] { return Status::Cancelled(); });
	EXPECT_EQ(cancelled.code(), StatusCode::kCancelled);
	auto value = Catching("making a value", []() -> Expected<std::unique_ptr<int>> { return std::make_unique<int>(5); });
	ASSERT_TRUE(value.ok());
	EXPECT_EQ(*value.value(), 5);
	auto failed = Catching("making a value", []() -> Expected<std::unique_ptr<int>> { throw std::bad_alloc(); });
	ASSERT_FALSE(failed.ok());
	EXPECT_EQ(failed.status().code(), StatusCode::kOutOfMemory);
}

}  // namespace
}  // namespace vecdb::knowhere
